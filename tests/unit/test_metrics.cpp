// The Prometheus text format of the service's metrics and the access log line: what a scraper and a log
// shipper parse, checked line by line.
#include "access_log.hpp"
#include "metrics.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace dpost::server;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

// The value of the sample line starting with `prefix` ("name{labels} "), or -1.
double sample(const std::string& text, const std::string& prefix) {
  for (const auto& l : lines_of(text)) {
    if (l.rfind(prefix, 0) == 0) return std::stod(l.substr(prefix.size()));
  }
  return -1;
}

}  // namespace

TEST_CASE("metrics: every metric has its HELP and TYPE lines") {
  Metrics metrics;
  metrics.observe_request("/healthz", "GET", 200, 0.001);
  metrics.count_scan("recorded");
  const auto text = metrics.render();
  CHECK(has_line(text, "# TYPE dpost_up gauge"));
  CHECK(has_line(text, "dpost_up 1"));
  CHECK(has_line(text, "# TYPE dpost_process_start_time_seconds gauge"));
  CHECK(sample(text, "dpost_process_start_time_seconds ") > 1.6e9);
  CHECK(has_line(text, "# TYPE dpost_http_requests_total counter"));
  CHECK(has_line(text, "# TYPE dpost_http_request_duration_seconds histogram"));
  CHECK(has_line(text, "# TYPE dpost_scans_total counter"));
  for (const auto& name : {"dpost_up", "dpost_process_start_time_seconds", "dpost_http_requests_total",
                           "dpost_http_request_duration_seconds", "dpost_scans_total"}) {
    INFO(name);
    CHECK(text.find(std::string("# HELP ") + name + " ") != std::string::npos);
  }
  CHECK(text.back() == '\n');
}

TEST_CASE("metrics: request counters per route, method and status") {
  Metrics metrics;
  metrics.observe_request("/api/v1/track/{item_id}", "GET", 200, 0.001);
  metrics.observe_request("/api/v1/track/{item_id}", "GET", 200, 0.002);
  metrics.observe_request("/api/v1/track/{item_id}", "GET", 404, 0.002);
  metrics.observe_request("-", "BREW", 404, 0.0001);  // unknown methods share one label value
  const auto text = metrics.render();
  CHECK(has_line(text, R"(dpost_http_requests_total{route="/api/v1/track/{item_id}",method="GET",status="200"} 2)"));
  CHECK(has_line(text, R"(dpost_http_requests_total{route="/api/v1/track/{item_id}",method="GET",status="404"} 1)"));
  CHECK(has_line(text, R"(dpost_http_requests_total{route="-",method="other",status="404"} 1)"));
}

TEST_CASE("metrics: label values escape backslash, double quote and newline") {
  CHECK(escape_label_value(R"(a"b\c)") == R"(a\"b\\c)");
  CHECK(escape_label_value("x\ny") == R"(x\ny)");
  CHECK(escape_label_value("/plain/{id}") == "/plain/{id}");

  Metrics metrics;
  metrics.observe_request(R"(/we"ird\route)", "GET", 200, 0.001);
  metrics.count_scan(R"(out"come)");
  const auto text = metrics.render();
  CHECK(has_line(text, R"(dpost_http_requests_total{route="/we\"ird\\route",method="GET",status="200"} 1)"));
  CHECK(has_line(text, R"(dpost_http_request_duration_seconds_count{route="/we\"ird\\route"} 1)"));
  CHECK(has_line(text, R"(dpost_scans_total{outcome="out\"come"} 1)"));
}

TEST_CASE("metrics: histogram buckets are cumulative and end with +Inf == _count") {
  Metrics metrics;
  const std::string route = "/r";
  metrics.observe_request(route, "GET", 200, 0.0004);  // first bucket (le 0.0005)
  metrics.observe_request(route, "GET", 200, 0.0005);  // le is inclusive
  metrics.observe_request(route, "GET", 200, 0.003);   // le 0.005
  metrics.observe_request(route, "GET", 200, 0.2);     // le 0.25
  metrics.observe_request(route, "GET", 200, 7.0);     // only +Inf
  const auto text = metrics.render();
  const std::string bucket = R"(dpost_http_request_duration_seconds_bucket{route="/r",le=")";
  CHECK(sample(text, bucket + R"(0.0005"} )") == 2);
  CHECK(sample(text, bucket + R"(0.001"} )") == 2);
  CHECK(sample(text, bucket + R"(0.005"} )") == 3);
  CHECK(sample(text, bucket + R"(0.25"} )") == 4);
  CHECK(sample(text, bucket + R"(5"} )") == 4);
  CHECK(sample(text, bucket + R"(+Inf"} )") == 5);
  CHECK(sample(text, R"(dpost_http_request_duration_seconds_count{route="/r"} )") == 5);
  CHECK(sample(text, R"(dpost_http_request_duration_seconds_sum{route="/r"} )") ==
        doctest::Approx(7.2039).epsilon(1e-6));

  // Never decreasing, one line per bucket plus +Inf.
  double previous = 0;
  int buckets = 0;
  for (const auto& l : lines_of(text)) {
    if (l.rfind(bucket, 0) != 0) continue;
    const double value = std::stod(l.substr(l.rfind(' ') + 1));
    CHECK(value >= previous);
    previous = value;
    ++buckets;
  }
  CHECK(buckets == static_cast<int>(Metrics::kDurationBuckets.size()) + 1);
}

TEST_CASE("metrics: declared scan outcomes show 0 until counted") {
  Metrics metrics;
  metrics.declare_scan_outcome("recorded");
  metrics.declare_scan_outcome("duplicate");
  metrics.count_scan("duplicate");
  const auto text = metrics.render();
  CHECK(has_line(text, R"(dpost_scans_total{outcome="recorded"} 0)"));
  CHECK(has_line(text, R"(dpost_scans_total{outcome="duplicate"} 1)"));
}

TEST_CASE("access log: one JSON line with the documented fields") {
  using namespace std::chrono;
  const auto when = system_clock::time_point(milliseconds(1795425300123));  // 2026-11-23T09:15:00.123Z
  const auto line = format_access_log_line({"GET", "/api/v1/track/{item_id}", 200, 0.4219, 1234, "127.0.0.1"}, when);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["ts"] == "2026-11-23T09:15:00.123Z");
  CHECK(j["level"] == "info");
  CHECK(j["msg"] == "request");
  CHECK(j["method"] == "GET");
  CHECK(j["route"] == "/api/v1/track/{item_id}");
  CHECK(j["status"] == 200);
  CHECK(j["ms"].get<double>() == doctest::Approx(0.422));
  CHECK(j["bytes"] == 1234);
  CHECK(j["remote"] == "127.0.0.1");
}

TEST_CASE("access log: strings are escaped so that the line always parses") {
  const auto line = format_access_log_line({"GET", "/a\"b\\c\n", 404, 1.0, 0, "::1"}, std::chrono::system_clock::now());
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(nlohmann::json::parse(line)["route"] == "/a\"b\\c\n");
}
