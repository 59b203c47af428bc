// A graceful restart (SIGTERM) keeps every acknowledged event, and a retried event stays a duplicate.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

TEST_CASE("SIGTERM exits 0 and a restart keeps every acknowledged event") {
  TestServer server({"--demo"});
  Timeline timeline;
  std::vector<std::string> items;
  std::vector<std::vector<std::string>> acknowledged;
  std::vector<json> last_scans;
  {
    ApiSession session(server);
    for (int i = 0; i < 3; ++i) {
      auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
      items.push_back(item_id);
      acknowledged.emplace_back();
      for (const char* code : {"EMA", "EDD", "EDE", "EMG"}) {
        auto scan = scan_body(item_id, code, kPostOffice1, timeline.next());
        record(session, "clerk1", scan);
        acknowledged.back().push_back(scan["event_id"]);
        last_scans.push_back(scan);
      }
    }
    // A batch too.
    json batch = json::array();
    for (const auto& item_id : items) batch.push_back(scan_body(item_id, "EDG", kPostOffice1, timeline.next()));
    auto answer = session.client.post("/api/v1/scans/batch", json{{"events", batch}}, session.token("clerk1"));
    INFO(describe(answer));
    REQUIRE(answer.status == 200);
    for (std::size_t i = 0; i < items.size(); ++i) {
      CHECK(answer.json()["results"][i]["status"] == 201);
      acknowledged[i].push_back(batch[i]["event_id"]);
    }
  }

  CHECK(server.stop() == 0);
  server.restart();

  ApiSession session(server);
  for (std::size_t i = 0; i < items.size(); ++i) {
    CAPTURE(items[i]);
    auto view = session.item("clerk1", items[i]);
    INFO(describe(view));
    REQUIRE(view.status == 200);
    CHECK(view.json()["state"] == "out_for_delivery");
    CHECK(event_ids(view.json()) == acknowledged[i]);
    CHECK(event_codes(view.json()) == std::vector<std::string>{"EMA", "EDD", "EDE", "EMG", "EDG"});
    auto track = session.track(items[i]);
    REQUIRE(track.status == 200);
    CHECK(track.json()["events"].size() == 5);
  }
  // A device retrying after the restart gets the stored answer.
  auto retry = session.scan("clerk1", last_scans.back());
  INFO(describe(retry));
  CHECK(retry.status == 200);
  CHECK(retry.json()["status"] == "duplicate");
  // And the journey goes on.
  auto emi = scan_body(items[0], "EMI", kPostOffice1, timeline.next());
  record(session, "clerk1", emi, "delivered");

  // A second restart with --demo again must not refill or break the existing database.
  CHECK(server.stop() == 0);
  server.restart({"--demo"});
  ApiSession again(server);
  auto view = again.item("staff1", items[0]);
  INFO(describe(view));
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "delivered");
  CHECK(view.json()["events"].size() == 6);
  CHECK(server.stop() == 0);
}

TEST_CASE("SIGINT is a graceful exit too") {
  TestServer server({"--demo"});
  HttpClient client(server.host(), server.port());
  REQUIRE(client.get("/healthz").status == 200);
  CHECK(server.stop(SIGINT) == 0);
}
