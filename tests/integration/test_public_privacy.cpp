// Public tracking without leaking (issue 5), checked over the whole demo data set: no public answer — API,
// HTML page, QR link, second factor, ledger — carries an applicant's or recipient's name, phone, address or ID
// number, and a wrong second factor answers exactly like an unknown item.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace dpost::test;
using nlohmann::json;

namespace {

struct DemoItem {
  std::string item_id;
  std::string token;
  std::string lookup_code;
};

}  // namespace

TEST_CASE("public views never contain a name, phone, address or ID number of the demo data") {
  TestServer server({"--demo", "--public-rate", "0"});
  ApiSession s(server);

  // What the staff see: the personal data the public must never see, and each item's QR token and code.
  std::set<std::string> secrets;
  std::vector<DemoItem> items;
  for (int id = 1; id <= 20; ++id) {
    json dossier;
    for (const char* staff : {"staff1", "staff2"}) {
      auto answer = s.client.get("/api/v1/dossiers/" + std::to_string(id), s.token(staff));
      if (answer.status == 200) {
        dossier = answer.json();
        break;
      }
    }
    if (dossier.is_null()) continue;
    const auto& a = dossier["applicant"];
    for (const char* field : {"name", "phone", "address", "id_number"}) {
      if (a.contains(field) && a[field].is_string()) secrets.insert(a[field].get<std::string>());
    }
    for (const auto& i : dossier["items"]) {
      const std::string item_id = i["item_id"];
      json view;
      for (const char* user : {"staff1", "staff2", "clerk1", "clerk2"}) {
        auto answer = s.item(user, item_id);
        if (answer.status == 200) {
          view = answer.json();
          break;
        }
      }
      REQUIRE_FALSE(view.is_null());
      for (const auto& e : view["events"]) {
        if (e.contains("recipient") && e["recipient"].is_object()) secrets.insert(e["recipient"]["name"]);
      }
      items.push_back({item_id, view["tracking_token"], view.value("lookup_code", std::string())});
    }
  }
  MESSAGE(items.size() << " demo items, " << secrets.size() << " personal strings");
  REQUIRE(items.size() >= 5);
  REQUIRE(secrets.size() >= 20);
  for (const auto& i : items) REQUIRE(i.lookup_code.size() == 6);

  std::vector<std::string> targets = {"/", "/track", "/api/v1/ledger/checkpoint", "/api/v1/ledger/key"};
  for (const auto& i : items) {
    targets.push_back("/api/v1/track/" + i.item_id);
    targets.push_back("/api/v1/track/" + i.item_id + "?code=" + i.lookup_code);
    targets.push_back("/api/v1/track/token/" + i.token);
    targets.push_back("/track?q=" + i.item_id);
    targets.push_back("/t/" + i.token);
  }
  int pages = 0;
  for (const auto& target : targets) {
    CAPTURE(target);
    auto answer = s.client.get(target);
    REQUIRE(answer.status == 200);
    ++pages;
    for (const auto& secret : secrets) {
      CAPTURE(secret);
      CHECK_FALSE(contains(answer.body, secret));
    }
  }
  MESSAGE(pages << " public answers checked");

  // The detailed view (second factor) says more than the bare one: the procedure, and dates.
  const auto bare = s.client.get("/api/v1/track/" + items[0].item_id).json();
  const auto detailed = s.client.get("/api/v1/track/" + items[0].item_id + "?code=" + items[0].lookup_code).json();
  CHECK(bare.contains("procedure_category"));
  CHECK(detailed.dump().size() > bare.dump().size());

  // A wrong code, and a code for an item that does not exist, get the same answer.
  auto wrong_code = items[0].lookup_code;
  wrong_code[0] = wrong_code[0] == '9' ? '0' : static_cast<char>(wrong_code[0] + 1);
  auto wrong = s.client.get("/api/v1/track/" + items[0].item_id + "?code=" + wrong_code);
  auto unknown = s.client.get("/api/v1/track/" + unknown_item_id() + "?code=" + wrong_code);
  CHECK(wrong.status == 404);
  CHECK(unknown.status == wrong.status);
  CHECK(unknown.body == wrong.body);
  // Ten wrong codes lock the item's second factor: then even the right code answers like an unknown item.
  const auto locked = items[1];
  auto other_code = locked.lookup_code;
  other_code[5] = other_code[5] == '9' ? '0' : static_cast<char>(other_code[5] + 1);
  for (int i = 0; i < 10; ++i) s.client.get("/api/v1/track/" + locked.item_id + "?code=" + other_code);
  auto guessed = s.client.get("/api/v1/track/" + locked.item_id + "?code=" + locked.lookup_code);
  CHECK(guessed.status == 404);
  CHECK(guessed.body == wrong.body);
}

TEST_CASE("public look-ups: enumerating item numbers from one address is throttled with 429 and Retry-After") {
  TestServer server({"--demo", "--public-rate", "30"});
  ApiSession s(server);
  int answered = 0;
  HttpResult last;
  for (int serial = 1; serial <= 60; ++serial) {
    last = s.client.get("/api/v1/track/" + s10_item_id("EH", static_cast<std::uint32_t>(serial)));
    if (last.status == 429) break;
    ++answered;
  }
  CHECK(answered == 30);
  check_error(last, 429, "rate_limited");
  CHECK_FALSE(last.header("Retry-After").empty());
  // The page and the QR link count against the same address.
  CHECK(s.client.get("/track?q=EH000000015VN").status == 429);
  CHECK(s.client.get("/t/AAAAAAAAAAAAAAAAAAAAAA").status == 429);
}
