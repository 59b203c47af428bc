// kill -9 in the middle of concurrent scans, many times: every acknowledged event survives exactly once,
// and an event whose answer was lost, re-sent with the same event_id (as devices retry), is never doubled.
//
// DPOST_CRASH_CYCLES (default 200) sets the number of kill/restart cycles; DPOST_CRASH_SECONDS (default 100)
// caps the time spent in cycles so that the test stays within about two minutes on a slow machine.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr int kThreads = 4;
constexpr int kItemsPerThread = 2;

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::atoi(text);
}

// One item, owned by one worker thread, going EDD, EDE, EDD, ... after its EMA.
struct Lane {
  std::string item_id;
  std::string state = "accepted";
  std::vector<std::string> acknowledged;  // event_ids answered 2xx, EMA first
  std::optional<json> in_flight;          // sent, answer lost: its fate is unknown until re-sent
  std::chrono::system_clock::time_point last_time;

  std::string next_code() const { return state == "at_sorting" ? "EDE" : "EDD"; }
  static std::string state_after(const std::string& code) {
    if (code == "EMA") return "accepted";
    return code == "EDD" ? "at_sorting" : "left_sorting";
  }
  json next_scan() {
    // Occurrence times strictly increase per item, a little in the past of the server clock.
    last_time =
        std::max(last_time + std::chrono::milliseconds(1), std::chrono::system_clock::now() - std::chrono::minutes(1));
    return scan_body(item_id, next_code(), kPostOffice1, rfc3339_at(last_time));
  }
};

// Problems found by workers, reported by the main thread (doctest assertions stay on the main thread).
struct Problems {
  std::mutex mutex;
  std::vector<std::string> list;
  void add(std::string problem) {
    std::lock_guard lock(mutex);
    list.push_back(std::move(problem));
  }
};

// Posts scans for its lanes until the server stops answering. Lanes with an event in flight re-send it first.
void run_worker(const std::string& host, unsigned short port, const std::string& token, std::vector<Lane*> lanes,
                Problems& problems, std::atomic<long>& acknowledged, std::atomic<long>& resent_recorded,
                std::atomic<long>& resent_duplicate) {
  HttpClient client(host, port);
  client.set_timeout(std::chrono::seconds(20));
  for (std::size_t turn = 0;; ++turn) {
    Lane& lane = *lanes[turn % lanes.size()];
    const bool resend = lane.in_flight.has_value();
    if (!resend) lane.in_flight = lane.next_scan();
    const json& scan = *lane.in_flight;
    HttpResult answer;
    try {
      answer = client.post("/api/v1/scans", scan, token);
    } catch (const std::exception&) {
      return;  // killed: the in-flight event stays pending, re-sent after the restart
    }
    if (answer.status != 201 && answer.status != 200) {
      problems.add("scan " + scan.dump() + " answered " + describe(answer));
      return;
    }
    const std::string code = scan["code"];
    json body;
    try {
      body = answer.json();
    } catch (const std::exception& e) {
      problems.add(e.what());
      return;
    }
    const std::string expected = Lane::state_after(code);
    if (body["item"]["state"] != expected) {
      problems.add("scan " + scan.dump() + " left the item in " + body["item"]["state"].dump() + ", expected " +
                   expected + ": " + answer.body);
      return;
    }
    if (resend) ++(answer.status == 201 ? resent_recorded : resent_duplicate);
    lane.acknowledged.push_back(scan["event_id"]);
    lane.state = expected;
    lane.in_flight.reset();
    ++acknowledged;
  }
}

// After a restart: every acknowledged event exactly once, nothing unknown, state matching the last event.
// Returns the number of acknowledged events checked.
std::size_t verify_lane(ApiSession& session, const std::string& token, Lane& lane, int cycle) {
  CAPTURE(cycle);
  CAPTURE(lane.item_id);
  auto answer = session.client.get("/api/v1/items/" + lane.item_id, token);
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  auto view = answer.json();
  auto ids = event_ids(view);
  auto codes = event_codes(view);
  std::set<std::string> present(ids.begin(), ids.end());
  CHECK_MESSAGE(present.size() == ids.size(), "an event_id appears twice in the history");
  std::size_t missing = 0;
  for (const auto& id : lane.acknowledged) missing += present.count(id) == 0 ? 1 : 0;
  CHECK_MESSAGE(missing == 0, missing << " acknowledged events are missing");
  std::set<std::string> known(lane.acknowledged.begin(), lane.acknowledged.end());
  std::optional<std::string> pending_id;
  if (lane.in_flight) {
    pending_id = (*lane.in_flight)["event_id"].get<std::string>();
    known.insert(*pending_id);
  }
  for (const auto& id : ids) CHECK_MESSAGE(known.count(id) == 1, "unknown event " << id << " in the history");
  const bool pending_recorded = pending_id && present.count(*pending_id) == 1;
  CHECK(ids.size() == lane.acknowledged.size() + (pending_recorded ? 1 : 0));
  // The history alternates EDD/EDE after the EMA, and the state is the last event's.
  REQUIRE_FALSE(codes.empty());
  CHECK(codes.front() == "EMA");
  for (std::size_t i = 1; i < codes.size(); ++i) {
    if (codes[i] != (i % 2 == 1 ? "EDD" : "EDE")) {
      FAIL_CHECK("event " << i << " is " << codes[i] << " in " << view["events"].dump().substr(0, 2000));
      break;
    }
  }
  CHECK(view["state"] == Lane::state_after(codes.back()));
  return lane.acknowledged.size();
}

}  // namespace

TEST_CASE("kill -9 during concurrent scans loses no acknowledged event and doubles none") {
  const int cycles = std::max(1, env_int("DPOST_CRASH_CYCLES", 200));
  const auto budget = std::chrono::seconds(std::max(1, env_int("DPOST_CRASH_SECONDS", 100)));
  const auto seed = std::random_device{}();
  std::mt19937 engine(seed);
  std::uniform_int_distribution<int> delay_ms(3, 50);
  MESSAGE("crash test: " << cycles << " cycles, seed " << seed);

  TestServer server({"--demo"});
  std::string token;
  std::vector<Lane> lanes(kThreads * kItemsPerThread);
  {
    ApiSession session(server);
    token = session.token("clerk1");
    Timeline timeline(std::chrono::minutes(30));
    for (auto& lane : lanes) {
      lane.item_id = create_dossier_item(session, "clerk1", unique_applicant(), kOffice1, "send");
      auto ema = scan_body(lane.item_id, "EMA", kPostOffice1, timeline.next(std::chrono::seconds(1)));
      record(session, "clerk1", ema, "accepted");
      lane.acknowledged.push_back(ema["event_id"]);
      lane.last_time = timeline.now();
    }
  }

  Problems problems;
  std::atomic<long> acknowledged_total{0};
  std::atomic<long> resent_recorded{0};   // answer lost, not stored before the kill: 201 on re-send
  std::atomic<long> resent_duplicate{0};  // answer lost, but stored before the kill: 200 on re-send
  std::size_t checks = 0;
  int relogins = 0;
  int done = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    if (std::chrono::steady_clock::now() - started > budget) {
      MESSAGE("crash test: time budget of " << budget.count() << " s reached after " << done << " cycles");
      break;
    }
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      std::vector<Lane*> owned;
      for (int i = 0; i < kItemsPerThread; ++i)
        owned.push_back(&lanes[static_cast<std::size_t>(t * kItemsPerThread + i)]);
      workers.emplace_back(run_worker, server.host(), server.port(), std::cref(token), std::move(owned),
                           std::ref(problems), std::ref(acknowledged_total), std::ref(resent_recorded),
                           std::ref(resent_duplicate));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(engine)));
    server.kill9();
    for (auto& worker : workers) worker.join();
    {
      std::lock_guard lock(problems.mutex);
      INFO("cycle " << cycle);
      for (const auto& problem : problems.list) FAIL_CHECK(problem);
      REQUIRE(problems.list.empty());
    }

    server.restart({});
    ApiSession session(server);
    if (session.client.get("/api/v1/items/" + lanes[0].item_id, token).status == 401) {
      // Sessions are not part of the scan durability promise; devices log in again.
      token = login(session.client, "clerk1");
      ++relogins;
    }
    for (auto& lane : lanes) checks += verify_lane(session, token, lane, cycle);
    ++done;
  }

  // Settle: re-send what is still in flight, check once more, stop cleanly, and verify the hash chain.
  {
    ApiSession session(server);
    for (auto& lane : lanes) {
      if (!lane.in_flight) continue;
      auto answer = session.client.post("/api/v1/scans", *lane.in_flight, token);
      INFO(describe(answer));
      REQUIRE((answer.status == 201 || answer.status == 200));
      lane.acknowledged.push_back((*lane.in_flight)["event_id"]);
      lane.state = Lane::state_after((*lane.in_flight)["code"]);
      lane.in_flight.reset();
    }
    for (auto& lane : lanes) checks += verify_lane(session, token, lane, done + 1);
  }
  CHECK(server.stop() == 0);
  CHECK(run_server_tool({"verify", "--db", server.db_path()}, server.log_path()) == 0);

  std::size_t events = 0;
  for (const auto& lane : lanes) events += lane.acknowledged.size();
  MESSAGE("crash test: " << done << " kill -9 cycles, " << acknowledged_total.load() << " scans acknowledged, "
                         << events << " events in the final histories, " << checks
                         << " acknowledged-event presence checks after restarts; events re-sent after a lost answer: "
                         << resent_recorded.load() << " new (201), " << resent_duplicate.load()
                         << " already stored (200); " << relogins << " re-logins");
  CHECK(done >= 1);
}
