// Operations endpoints against the real server: /metrics counts requests under their route patterns, the
// access log has one JSON line per request without tokens or item ids, /readyz answers while serving.
#include "itest_common.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of the sample whose line starts with `series` followed by a space; -1 when absent.
double sample(const std::string& metrics, const std::string& series) {
  for (const auto& line : lines_of(metrics)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// Sum of every dpost_http_requests_total sample.
double total_requests(const std::string& metrics) {
  double total = 0;
  for (const auto& line : lines_of(metrics)) {
    if (line.rfind("dpost_http_requests_total{", 0) == 0) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("ops: /metrics counts requests by route pattern — the access log has one clean JSON line per request") {
  // Its own server: the counts below are exact.
  TestServer server({"--demo"});
  ApiSession session(server);
  Timeline timeline;
  const auto item_id = accepted_dossier_item(session, timeline);  // login, create, one recorded scan

  // A duplicate: the same event sent twice.
  const auto scan = scan_body(item_id, "EDD", kPostOffice1, timeline.next());
  record(session, "clerk1", scan);
  auto again = session.scan("clerk1", scan);
  REQUIRE(again.status == 200);

  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  const auto token = view.json()["tracking_token"].get<std::string>();

  REQUIRE(session.track(item_id).status == 200);
  REQUIRE(session.track("EE123456785VN").status == 404);  // valid id, no such item
  REQUIRE(session.client.get("/t/" + token).status == 200);
  REQUIRE(session.client.get("/no/such/path?qs-marker=1").status == 404);

  auto ready = session.client.get("/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json() == json{{"status", "ready"}});

  auto scrape = session.client.get("/metrics");
  REQUIRE(scrape.status == 200);
  CHECK(scrape.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  const auto& text = scrape.body;
  INFO(text);

  const std::string track = R"({route="/api/v1/track/{item_id}",method="GET",status=")";
  CHECK(sample(text, "dpost_http_requests_total" + track + R"(200"})") == 1);
  CHECK(sample(text, "dpost_http_requests_total" + track + R"(404"})") == 1);
  CHECK(sample(text, R"(dpost_http_requests_total{route="/t/{token}",method="GET",status="200"})") == 1);
  CHECK(sample(text, R"(dpost_http_requests_total{route="-",method="GET",status="404"})") == 1);
  CHECK(sample(text, R"(dpost_http_requests_total{route="/api/v1/scans",method="POST",status="201"})") == 2);
  CHECK(sample(text, R"(dpost_http_requests_total{route="/api/v1/scans",method="POST",status="200"})") == 1);
  CHECK(sample(text, R"(dpost_http_requests_total{route="/readyz",method="GET",status="200"})") == 1);

  const std::string track_route = R"({route="/api/v1/track/{item_id}")";
  const auto count = sample(text, "dpost_http_request_duration_seconds_count" + track_route + "}");
  CHECK(count >= 1);
  CHECK(sample(text, "dpost_http_request_duration_seconds_bucket" + track_route + R"(,le="+Inf"})") == count);
  CHECK(sample(text, "dpost_http_request_duration_seconds_sum" + track_route + "}") >= 0);

  CHECK(sample(text, R"(dpost_scans_total{outcome="recorded"})") == 2);
  CHECK(sample(text, R"(dpost_scans_total{outcome="duplicate"})") == 1);
  CHECK(sample(text, R"(dpost_scans_total{outcome="illegal_transition"})") == 0);
  CHECK(sample(text, "dpost_up") == 1);
  CHECK(sample(text, "dpost_process_start_time_seconds") > 1.6e9);

  // The /metrics request is logged before its answer is sent, so its line is already there: one line per
  // request counted in the scrape, plus the scrape itself.
  const auto log = read_file(server.log_path());
  std::vector<json> requests;
  for (const auto& line : lines_of(log)) {
    if (line.empty() || line.front() != '{') continue;
    json entry;
    REQUIRE_NOTHROW(entry = json::parse(line));
    if (entry.value("msg", "") == "request") requests.push_back(entry);
    // Neither the QR token, nor an item id, nor a query string is ever logged.
    CHECK(line.find(token) == std::string::npos);
    CHECK(line.find(item_id) == std::string::npos);
    CHECK(line.find("EE123456785VN") == std::string::npos);
    // (Not the word "secret": the start-up configuration line names the "webhook-secret" setting, masked.)
    CHECK(line.find("qs-marker") == std::string::npos);
  }
  CHECK(requests.size() == static_cast<std::size_t>(total_requests(text)) + 1);

  bool saw_token_route = false;
  bool saw_unknown = false;
  for (const auto& entry : requests) {
    CHECK(entry.at("level") == "info");
    CHECK(entry.at("ts").get<std::string>().size() == 24);  // 2026-11-23T09:15:00.123Z
    CHECK(entry.at("status").is_number_integer());
    CHECK(entry.at("ms").is_number());
    CHECK(entry.at("bytes").is_number_integer());
    CHECK(entry.at("remote") == "127.0.0.1");
    if (entry.at("route") == "/t/{token}") saw_token_route = true;
    if (entry.at("route") == "-" && entry.at("status") == 404) saw_unknown = true;
  }
  CHECK(saw_token_route);
  CHECK(saw_unknown);
  CHECK(requests.back().at("route") == "/metrics");
}

TEST_CASE("ops: start, drain and stop are JSON event lines, and nothing else the server writes is plain text") {
  TestServer server;
  ApiSession session(server);
  REQUIRE(session.client.get("/healthz").status == 200);
  const auto port = std::to_string(server.port());
  REQUIRE(server.stop() == 0);  // SIGTERM

  std::vector<json> events;
  for (const auto& line : lines_of(read_file(server.log_path()))) {
    // The test harness's own lines: the server's stdout copy and the exit status.
    if (line.empty() || line.rfind("[stdout] ", 0) == 0 || line.rfind("---- ", 0) == 0) continue;
    INFO(line);
    json entry;
    REQUIRE_NOTHROW(entry = json::parse(line));
    REQUIRE(entry.is_object());
    CHECK(entry.at("ts").get<std::string>().size() == 24);
    CHECK(std::set<std::string>{"info", "warn", "error"}.count(entry.at("level").get<std::string>()) == 1);
    CHECK_FALSE(entry.at("msg").get<std::string>().empty());
    // Whether the embedded calendar lacks this or next year, or only estimates it, depends on the day the suite
    // runs; those warnings have their own tests (test_deadlines.cpp). They must still be JSON lines, checked above.
    if (entry["msg"] == "calendar_year_missing" || entry["msg"] == "calendar_year_estimated") {
      CHECK(entry["level"] == "warn");
      CHECK(entry["year"].is_number_integer());
      continue;
    }
    if (entry["msg"] != "request") events.push_back(entry);
  }
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e["msg"]);
  CHECK(names == std::vector<std::string>{"configuration", "server_started", "drain_started", "server_stopped"});
  REQUIRE(names.size() == 4);
  CHECK(events[1]["url"] == "http://127.0.0.1:" + port);
  CHECK(events[1]["version"].get<std::string>().find('.') != std::string::npos);
  CHECK(events[1]["pid"].is_number_integer());
  CHECK(events[2]["signal"] == "SIGTERM");
  CHECK(events[3]["level"] == "info");
}

TEST_CASE("ops: /metrics shows the storage writer and the notification queue, every line in the text format") {
  // A webhook nobody answers (port 9, discard): its notifications stay queued, so the gauge has something to show.
  TestServer server({"--demo", "--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret", "metrics-test"});
  ApiSession session(server);
  Timeline timeline;
  accepted_dossier_item(session, timeline);  // a dossier and a pickup (EMA): the one-stop system is told

  auto scrape = session.client.get("/metrics");
  REQUIRE(scrape.status == 200);
  const auto& text = scrape.body;
  INFO(text);
  const double commits = sample(text, "dpost_storage_commits_total");
  CHECK(commits >= 2);  // at least the dossier and the scan (the demo data came before)
  CHECK(sample(text, "dpost_storage_write_jobs_total") >= commits);
  CHECK(sample(text, "dpost_storage_commit_failures_total") == 0);
  CHECK(sample(text, "dpost_storage_write_queue_length") >= 0);
  CHECK(sample(text, "dpost_storage_commit_duration_seconds_count") == commits);
  CHECK(sample(text, R"(dpost_storage_commit_duration_seconds_bucket{le="+Inf"})") == commits);
  CHECK(sample(text, "dpost_storage_commit_duration_seconds_sum") > 0);
  CHECK(sample(text, R"(dpost_notifications_pending{channel="webhook"})") >= 1);
  CHECK(sample(text, R"(dpost_notifications_oldest_pending_seconds{channel="webhook"})") >= 0);
  CHECK(sample(text, R"(dpost_notifications_pending{channel="citizen"})") >= 0);

  // The exposition format: every sample line is NAME{LABELS} VALUE, after its metric's HELP and TYPE lines, and
  // histogram buckets never decrease.
  std::set<std::string> typed;
  double previous_bucket = -1;
  std::string previous_name;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK_MESSAGE(text.find("# HELP " + name + " ") < text.find(line), name);
      typed.insert(name);
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    REQUIRE_FALSE(line.empty());
    const auto name_end = line.find_first_of("{ ");
    REQUIRE(name_end != std::string::npos);
    auto name = line.substr(0, name_end);
    CHECK(std::all_of(name.begin(), name.end(),
                      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }));
    std::string base = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0 &&
          typed.count(base.substr(0, base.size() - s.size())))
        base = base.substr(0, base.size() - s.size());
    }
    CHECK_MESSAGE(typed.count(base) == 1, "no TYPE line before " << line);
    if (line[name_end] == '{') CHECK(line.find("} ") != std::string::npos);
    const auto value = line.substr(line.rfind(' ') + 1);
    CHECK_NOTHROW((void)std::stod(value));
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_bucket") == 0) {
      const auto series = line.substr(0, line.find("le=\""));
      if (series == previous_name) CHECK(std::stod(value) >= previous_bucket);
      previous_name = series;
      previous_bucket = std::stod(value);
    }
  }
}

TEST_CASE("ops: the server's threads are named, so top -H, ps -L and perf show which one is busy") {
  TestServer server({"--demo", "--io-threads", "2", "--workers", "2"});
  const std::vector<std::string> expected = {"dpost-io-1",   "dpost-io-2",   "dpost-writer", "dpost-done-1",
                                             "dpost-work-1", "dpost-work-2", "dpost-citizen"};
  auto thread_names = [&] {
    std::set<std::string> names;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(server.pid()) + "/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      names.insert(name);
    }
    return names;
  };
  // A thread names itself when it starts, which can be just after the server says it listens.
  std::set<std::string> names;
  for (int attempt = 0; attempt < 100; ++attempt) {
    names = thread_names();
    if (std::all_of(expected.begin(), expected.end(), [&](const auto& n) { return names.count(n) == 1; })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string all;
  for (const auto& n : names) all += n + " ";
  INFO("threads: ", all);
  for (const auto& name : expected) CHECK(names.count(name) == 1);
}
