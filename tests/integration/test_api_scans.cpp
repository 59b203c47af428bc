// Scans as devices send them: retries with the same event_id, offline batches out of order, late events.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

json post_batch(ApiSession& session, const std::string& user, const json& events) {
  auto answer = session.client.post("/api/v1/scans/batch", json{{"events", events}}, session.token(user));
  INFO("batch " << events.dump().substr(0, 1500) << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
  auto body = answer.json();
  REQUIRE(body["results"].is_array());
  REQUIRE(body["results"].size() == events.size());
  return body["results"];
}

json item_view(ApiSession& session, const std::string& user, const std::string& item_id) {
  auto answer = session.item(user, item_id);
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  return answer.json();
}

}  // namespace

TEST_CASE("the same event sent twice is recorded once") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = accepted_dossier_item(session, timeline);
  auto edd = scan_body(item_id, "EDD", kPostOffice1, timeline.next());

  auto first = session.scan("clerk1", edd);
  INFO(describe(first));
  REQUIRE(first.status == 201);
  CHECK(first.json()["status"] == "recorded");
  CHECK(first.json()["item"]["state"] == "at_sorting");

  auto again = session.scan("clerk1", edd);
  INFO(describe(again));
  REQUIRE(again.status == 200);
  CHECK(again.json()["status"] == "duplicate");
  CHECK(again.json()["item"]["state"] == "at_sorting");
  CHECK(again.json()["event"]["event_id"] == edd["event_id"]);
  CHECK(again.json()["event"]["code"] == "EDD");

  // The stored answer comes back even once the item has moved on; the current state is reported.
  record(session, "clerk1", scan_body(item_id, "EDE", kPostOffice1, timeline.next()), "left_sorting");
  auto later = session.scan("clerk1", edd);
  INFO(describe(later));
  CHECK(later.status == 200);
  CHECK(later.json()["status"] == "duplicate");
  CHECK(later.json()["item"]["state"] == "left_sorting");

  // The event_id in upper case is the same UUID.
  auto upper = edd;
  auto id = upper["event_id"].get<std::string>();
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::toupper(c); });
  upper["event_id"] = id;
  auto shouted = session.scan("clerk1", upper);
  INFO(describe(shouted));
  CHECK(shouted.status == 200);

  auto view = item_view(session, "clerk1", item_id);
  CHECK(event_codes(view) == std::vector<std::string>{"EMA", "EDD", "EDE"});
  auto ids = event_ids(view);
  CHECK(std::count(ids.begin(), ids.end(), edd["event_id"].get<std::string>()) == 1);
  CHECK(view["state"] == "left_sorting");
}

TEST_CASE("an item id typed in lower case with spaces is the same item") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  std::string typed;
  for (std::size_t i = 0; i < item_id.size(); ++i) {
    if (i == 2 || i == 5 || i == 8 || i == 11) typed += ' ';
    typed += static_cast<char>(std::tolower(static_cast<unsigned char>(item_id[i])));
  }
  auto answer = record(session, "clerk1", scan_body(typed, "EMA", kPostOffice1, timeline.next()), "accepted");
  CHECK(answer["item"]["item_id"] == item_id);
  CHECK(answer["event"]["item_id"] == item_id);
  CHECK(item_view(session, "clerk1", item_id)["state"] == "accepted");
}

TEST_CASE("an offline batch sent out of order is recorded in order of occurrence") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto first_item = accepted_dossier_item(session, timeline);
  auto second_item = accepted_dossier_item(session, timeline);

  // Two items, each with its own chain; the device sends them shuffled.
  std::vector<json> chain_a, chain_b;
  for (const char* code : {"EDD", "EDE", "EDD", "EDE", "EMG", "EDG"}) {
    chain_a.push_back(scan_body(first_item, code, kPostOffice1, timeline.next()));
    chain_b.push_back(scan_body(second_item, code, kPostOffice1, timeline.next()));
  }
  std::vector<json> events = chain_a;
  events.insert(events.end(), chain_b.begin(), chain_b.end());
  std::mt19937 engine(20261123);
  do {
    std::shuffle(events.begin(), events.end(), engine);
  } while (events.front() == chain_a.front() || events.front() == chain_b.front());

  auto results = post_batch(session, "clerk1", json(events));
  for (std::size_t i = 0; i < events.size(); ++i) {
    INFO("result " << i << ": " << results[i].dump());
    CHECK(results[i]["event_id"] == events[i]["event_id"]);
    CHECK(results[i]["status"] == 201);
    CHECK(results[i]["outcome"] == "recorded");
    CHECK(results[i]["item"]["item_id"] == events[i]["item_id"]);
  }

  for (const auto& [item_id, chain] : {std::pair{first_item, chain_a}, std::pair{second_item, chain_b}}) {
    CAPTURE(item_id);
    auto view = item_view(session, "clerk1", item_id);
    CHECK(view["state"] == "out_for_delivery");
    std::vector<std::string> expected_ids;
    for (const auto& event : chain) expected_ids.push_back(event["event_id"]);
    auto ids = event_ids(view);
    REQUIRE(ids.size() == chain.size() + 1);
    ids.erase(ids.begin());  // the EMA
    CHECK(ids == expected_ids);
    for (const auto& event : view["events"]) CHECK(event["late"] == false);
  }

  // The same batch again: all duplicates, nothing new.
  results = post_batch(session, "clerk1", json(events));
  for (std::size_t i = 0; i < events.size(); ++i) {
    INFO("result " << i << ": " << results[i].dump());
    CHECK(results[i]["status"] == 200);
    CHECK(results[i]["outcome"] == "duplicate");
  }
  CHECK(item_view(session, "clerk1", first_item)["events"].size() == chain_a.size() + 1);
}

TEST_CASE("a batch answers each event on its own, in the order sent") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = accepted_dossier_item(session, timeline);
  auto fresh = create_dossier_item(session, "clerk1", unique_applicant());
  auto done_before = scan_body(item_id, "EDD", kPostOffice1, timeline.next());
  record(session, "clerk1", done_before, "at_sorting");

  auto reused = scan_body(fresh, "EMA", kPostOffice1, timeline.next(), done_before["event_id"]);
  auto missing_reason = scan_body(item_id, "EMH", kPostOffice1, timeline.next());
  auto other_site = scan_body(fresh, "EMA", kPostOffice2, timeline.next());
  auto unknown = scan_body(unknown_item_id(), "EMA", kPostOffice1, timeline.next());
  auto illegal = scan_body(fresh, "EDG", kPostOffice1, timeline.next());
  auto good = scan_body(item_id, "EDE", kPostOffice1, timeline.next());
  auto bad_digit = scan_body(with_bad_check_digit(fresh), "EMA", kPostOffice1, timeline.next());

  struct Expected {
    json scan;
    int status;
    std::string outcome;
  };
  std::vector<Expected> expected{
      {good, 201, "recorded"},          {done_before, 200, "duplicate"},      {reused, 409, "event_id_conflict"},
      {unknown, 404, "unknown_item"},   {illegal, 409, "illegal_transition"}, {other_site, 403, "forbidden"},
      {missing_reason, 422, "invalid"}, {bad_digit, 422, "invalid"},
  };
  json events = json::array();
  for (const auto& e : expected) events.push_back(e.scan);
  auto results = post_batch(session, "clerk1", events);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("result " << i << ": " << results[i].dump());
    CHECK(results[i]["event_id"] == expected[i].scan["event_id"]);
    CHECK(results[i]["status"] == expected[i].status);
    CHECK(results[i]["outcome"] == expected[i].outcome);
    if (expected[i].status >= 400) {
      CHECK(results[i]["error"]["code"].is_string());
      CHECK(results[i]["error"]["message"].is_string());
    }
  }
  CHECK(results[6]["error"]["code"] == "reason_required");
  CHECK(results[7]["error"]["code"] == "bad_check_digit");

  CHECK(event_codes(item_view(session, "clerk1", item_id)) == std::vector<std::string>{"EMA", "EDD", "EDE"});
  auto untouched = item_view(session, "clerk1", fresh);
  CHECK(untouched["state"] == "created");
  CHECK(untouched["events"].empty());
}

TEST_CASE("an event that happened before events already recorded is kept in place and flagged late") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  auto ema = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
  auto emg_time = timeline.next();  // the delivery office's scan, sent from an offline device later
  auto edd = scan_body(item_id, "EDD", kPostOffice2, timeline.next());
  auto ede = scan_body(item_id, "EDE", kPostOffice2, timeline.next());
  record(session, "clerk1", ema, "accepted");
  route_through(session, "clerk1", item_id, kPostOffice2);
  record(session, "clerk2", edd, "at_sorting");
  record(session, "clerk2", ede, "left_sorting");

  // Mis-sorted: it reached the delivery office (EMG) and went back to sorting (EDD). The EMG arrives last.
  auto emg = scan_body(item_id, "EMG", kPostOffice1, emg_time);
  auto answer = record(session, "clerk1", emg);
  CHECK(answer["event"]["late"] == true);
  CHECK(answer["item"]["state"] == "left_sorting");

  auto view = item_view(session, "clerk1", item_id);
  CHECK(view["state"] == "left_sorting");
  CHECK(event_ids(view) ==
        std::vector<std::string>{ema["event_id"], emg["event_id"], edd["event_id"], ede["event_id"]});
  CHECK(event_codes(view) == std::vector<std::string>{"EMA", "EMG", "EDD", "EDE"});
  std::vector<bool> late;
  for (const auto& event : view["events"]) late.push_back(event["late"].get<bool>());
  CHECK(late == std::vector<bool>{false, true, false, false});

  auto track = session.track(item_id);
  REQUIRE(track.status == 200);
  CHECK(event_codes(track.json()) == std::vector<std::string>{"EMA", "EMG", "EDD", "EDE"});

  // A late event that does not fit the history is refused and changes nothing.
  auto misfit = scan_body(item_id, "EDG", kPostOffice1, ema["occurred_at"].get<std::string>());
  check_error(session.scan("clerk1", misfit), 409, "illegal_transition");
  CHECK(item_view(session, "clerk1", item_id)["events"].size() == 4);
}

TEST_CASE("public look-ups are rate limited per address") {
  TestServer server({"--demo", "--public-rate", "5"});
  ApiSession session(server);
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  for (int i = 0; i < 5; ++i) {
    auto answer = session.track(item_id);
    INFO("look-up " << i << ": " << describe(answer));
    CHECK(answer.status == 200);
  }
  auto limited = session.track(item_id);
  check_error(limited, 429, "rate_limited");
  auto retry_after = limited.header("Retry-After");
  INFO("Retry-After: " << retry_after);
  REQUIRE_FALSE(retry_after.empty());
  CHECK(std::all_of(retry_after.begin(), retry_after.end(), [](char c) { return c >= '0' && c <= '9'; }));
  CHECK(std::stoi(retry_after) >= 1);
  CHECK(std::stoi(retry_after) <= 60);
  // Unknown items count too: the limit is on look-ups, not hits.
  CHECK(session.track(unknown_item_id()).status == 429);
  // Staff reads are not public look-ups.
  CHECK(session.item("clerk1", item_id).status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("the public limit can be switched off") {
  TestServer server({"--demo", "--public-rate", "0"});
  ApiSession session(server);
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  int limited = 0;
  for (int i = 0; i < 300; ++i) limited += session.track(item_id).status == 429 ? 1 : 0;
  CHECK(limited == 0);
}
