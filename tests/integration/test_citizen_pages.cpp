// The citizen's pages: the search box and the page behind the QR link. Server-rendered HTML, no personal data
// beyond masked names with the token, and the same rate limit as the public API.
#include "itest_common.hpp"

#include "item_id.hpp"
#include "text.hpp"

#include <doctest/doctest.h>

using namespace dpost::test;
using nlohmann::json;

namespace {

std::string token_path(ApiSession& session, const std::string& item_id) {
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  return "/t/" + view.json()["tracking_token"].get<std::string>();
}

}  // namespace

TEST_CASE("citizen page: the QR link shows the journey and the masked name, nothing personal") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const auto applicant = unique_applicant();
  const auto item_id = create_dossier_item(session, "clerk1", applicant);
  record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()));
  record(session, "clerk1", scan_body(item_id, "EDD", kPostOffice1, timeline.next()));

  auto page = session.client.get(token_path(session, item_id));
  INFO(describe(page));
  REQUIRE(page.status == 200);
  CHECK(contains(page.headers["content-type"], "text/html"));
  // The token in the URL must not leak to other sites.
  CHECK(page.headers["referrer-policy"] == "no-referrer");
  CHECK(contains(page.headers["content-security-policy"], "default-src 'none'"));
  CHECK(contains(page.body, dpost::ItemId::parse(item_id)->grouped()));
  CHECK(contains(page.body, "Đến trung tâm khai thác"));  // EDD in plain Vietnamese
  CHECK(contains(page.body, "Bưu điện đã nhận gửi"));     // EMA
  CHECK(contains(page.body, dpost::mask_name(applicant.name)));
  for (const auto& personal : applicant.personal_strings()) CHECK_FALSE(contains(page.body, personal));

  // A wrong token answers like an unknown one.
  auto wrong = session.client.get("/t/AAAAAAAAAAAAAAAAAAAAAA");
  CHECK(wrong.status == 404);
  CHECK(contains(wrong.body, "Không tìm thấy"));
}

TEST_CASE("citizen page: the search box takes the number as printed, and never shows a name") {
  ApiSession session(shared_demo_server());
  const auto applicant = unique_applicant();
  const auto item_id = create_dossier_item(session, "clerk1", applicant);
  const auto grouped = dpost::ItemId::parse(item_id)->grouped();

  std::string typed = grouped;
  for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : typed) {
    if (c == ' ') c = '+';  // a form submits spaces as '+'
  }
  auto found = session.client.get("/track?q=" + typed);
  INFO(describe(found));
  REQUIRE(found.status == 200);
  CHECK(contains(found.body, grouped));
  CHECK(contains(found.body, "Đã tạo"));
  CHECK_FALSE(contains(found.body, dpost::mask_name(applicant.name)));
  for (const auto& personal : applicant.personal_strings()) CHECK_FALSE(contains(found.body, personal));

  auto typo = session.client.get("/track?q=" + with_bad_check_digit(item_id));
  CHECK(typo.status == 422);
  CHECK(contains(typo.body, "kiểm tra lại"));
  CHECK(session.client.get("/track?q=" + unknown_item_id()).status == 404);
  auto home = session.client.get("/");
  CHECK(home.status == 200);
  CHECK(contains(home.body, "action=\"/track\""));
}

TEST_CASE("citizen page: look-ups are rate limited per address like the public API") {
  TestServer server({"--demo", "--public-rate", "3"});
  HttpClient client(server.host(), server.port());
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = client.get("/track?q=" + unknown_item_id());
    if (r.status == 429) {
      ++limited;
      CHECK_FALSE(r.headers["retry-after"].empty());
    }
  }
  CHECK(limited >= 3);
}

TEST_CASE("staff pages and their assets are cached by the browser and revalidated with an ETag") {
  ApiSession session(shared_demo_server());
  for (const char* path : {"/desk", "/clerk", "/supervisor", "/assets/desk.js", "/assets/supervisor.css"}) {
    INFO(path);
    auto first = session.client.get(path);
    REQUIRE(first.status == 200);
    const auto etag = first.header("etag");
    REQUIRE(etag.size() == 18);
    CHECK(first.header("cache-control") == "no-cache");
    // Unchanged: 304 with no body; a stale tag gets the file again.
    auto again = session.client.request("GET", path, "", {{"If-None-Match", etag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(again.header("etag") == etag);
    auto stale = session.client.request("GET", path, "", {{"If-None-Match", "\"0000000000000000\""}});
    CHECK(stale.status == 200);
    CHECK(stale.body == first.body);
    // "*" matches any version of a file that exists (RFC 9110 13.1.2), and a list is searched.
    CHECK(session.client.request("GET", path, "", {{"If-None-Match", " * "}}).status == 304);
    CHECK(session.client.request("GET", path, "", {{"If-None-Match", "*foo"}}).status == 200);
    CHECK(session.client.request("GET", path, "", {{"If-None-Match", "\"0000000000000000\", " + etag}}).status == 304);
  }
  // No CDN: the pages load scripts and styles from this server only.
  auto desk = session.client.get("/supervisor");
  CHECK_FALSE(contains(desk.body, "http://"));
  CHECK_FALSE(contains(desk.body, "https://"));
  CHECK(contains(desk.header("content-security-policy"), "default-src 'self'"));
}

TEST_CASE("every page has its tab icon, and /favicon.ico answers with it") {
  ApiSession session(shared_demo_server());
  auto icon = session.client.get("/favicon.ico");
  REQUIRE(icon.status == 200);
  CHECK(icon.header("content-type") == "image/svg+xml");
  CHECK(icon.body.rfind("<svg ", 0) == 0);
  CHECK(icon.header("x-content-type-options") == "nosniff");
  CHECK(session.client.request("GET", "/favicon.ico", "", {{"If-None-Match", icon.header("etag")}}).status == 304);
  CHECK(session.client.get("/assets/favicon.svg").body == icon.body);
  // The public pages allow images from this server only, so that the browser may load the icon.
  auto home = session.client.get("/");
  CHECK(contains(home.body, "<link rel=\"icon\" href=\"/favicon.ico\""));
  CHECK(contains(home.header("content-security-policy"), "img-src 'self'"));
  for (const char* path : {"/desk", "/clerk", "/supervisor"}) {
    INFO(path);
    CHECK(contains(session.client.get(path).body, "<link rel=\"icon\" href=\"/assets/favicon.svg\""));
  }
}
