#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace dpost::server {

// A label value escaped for the Prometheus text format 0.0.4: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

// The method as a metric label: the standard methods as sent, anything else "other". A client chooses the
// method token freely, and every distinct label value is a new series kept for the life of the process.
std::string_view method_label(std::string_view method);

// The service's Prometheus metrics. Series are created under a lock the first time a label set is seen and
// never removed; after that a request costs a shared lock, a map look-up and a few relaxed atomic adds.
// Label values must come from bounded sets (route patterns, not paths), or the registry grows for ever.
class Metrics {
 public:
  // Upper bounds of dpost_http_request_duration_seconds, in seconds (+Inf is implied).
  static constexpr std::array<double, 13> kDurationBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1.0,   2.5,  5.0};

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered request. `route` is the router's pattern ("/api/v1/track/{item_id}") or "-".
  void observe_request(std::string_view route, std::string_view method, unsigned status, double seconds);
  // One scan outcome ("recorded", "duplicate", "illegal_transition", ...).
  void count_scan(std::string_view outcome);
  // Shows the outcome at 0 before the first scan, so that dashboards and rate() see the series from the start.
  void declare_scan_outcome(std::string_view outcome);

  // Every metric in the text exposition format 0.0.4, with # HELP and # TYPE lines.
  std::string render() const;

 private:
  struct RequestSeries {
    std::atomic<std::uint64_t> count{0};
  };
  struct DurationHistogram {
    // Per bucket (not cumulative: render() sums them), so an observation is a single add.
    std::array<std::atomic<std::uint64_t>, kDurationBuckets.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_nanos{0};
    std::atomic<std::uint64_t> count{0};
  };
  struct Counter {
    std::atomic<std::uint64_t> value{0};
  };

  template <class Series>
  static Series& find_or_add(std::shared_mutex& mutex, std::map<std::string, std::unique_ptr<Series>, std::less<>>& map,
                             std::string_view key);

  const double start_time_seconds_;
  // Keys: "route\x1fmethod\x1fstatus" for requests (sorted, so the output is stable), the route for durations,
  // the outcome for scans. unique_ptr keeps a series' address stable while the map grows.
  mutable std::shared_mutex requests_mutex_;
  std::map<std::string, std::unique_ptr<RequestSeries>, std::less<>> requests_;
  mutable std::shared_mutex durations_mutex_;
  std::map<std::string, std::unique_ptr<DurationHistogram>, std::less<>> durations_;
  mutable std::shared_mutex scans_mutex_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> scans_;
};

struct StorageStats;
// The storage's series (storage.hpp StorageStats) in the same format: dpost_storage_write_queue_length,
// dpost_storage_commits_total, dpost_storage_commit_failures_total, dpost_storage_write_jobs_total,
// dpost_storage_commit_duration_seconds (histogram), dpost_notifications_pending and
// dpost_notifications_oldest_pending_seconds by channel.
std::string render_storage_metrics(const StorageStats& stats);
// dpost_calendar_last_year: the last year whose days off the working calendar lists (0 when none).
std::string render_calendar_metrics(int last_year);

}  // namespace dpost::server
