#include "metrics.hpp"

#include "storage.hpp"

#include <charconv>
#include <chrono>
#include <mutex>

namespace dpost::server {

namespace {

constexpr char kKeySeparator = '\x1f';  // cannot appear in a route pattern, a method label or a status

void append_double(std::string& out, double value) {
  char buffer[64];
  // Shortest round-trip form in fixed notation ("0.0005", not "5e-04"), so le labels read as written.
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// Splits "a\x1fb\x1fc" into its parts.
std::array<std::string_view, 3> split_key(std::string_view key) {
  std::array<std::string_view, 3> parts{};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto at = key.find(kKeySeparator);
    parts[i] = key.substr(0, at);
    if (at == std::string_view::npos) break;
    key.remove_prefix(at + 1);
  }
  return parts;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 8> kKnown{"GET",    "HEAD",    "POST",  "PUT",
                                                          "DELETE", "OPTIONS", "PATCH", "CONNECT"};
  for (auto known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

Metrics::Metrics()
    : start_time_seconds_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

Metrics::~Metrics() = default;

template <class Series>
Series& Metrics::find_or_add(std::shared_mutex& mutex, std::map<std::string, std::unique_ptr<Series>, std::less<>>& map,
                             std::string_view key) {
  {
    std::shared_lock lock(mutex);
    if (auto it = map.find(key); it != map.end()) return *it->second;
  }
  std::unique_lock lock(mutex);
  auto& slot = map[std::string(key)];  // another thread may have added it meanwhile: keep theirs
  if (!slot) slot = std::make_unique<Series>();
  return *slot;
}

void Metrics::observe_request(std::string_view route, std::string_view method, unsigned status, double seconds) {
  // Built on the stack: no allocation on the hot path for the usual key lengths.
  char key_buffer[192];
  std::string_view key;
  const auto method_text = method_label(method);
  char status_text[8];
  auto [status_end, status_ec] = std::to_chars(status_text, status_text + sizeof status_text, status);
  const std::string_view status_view(status_text, status_ec == std::errc() ? status_end - status_text : 0);
  std::string heap_key;
  const std::size_t key_size = route.size() + method_text.size() + status_view.size() + 2;
  if (key_size <= sizeof key_buffer) {
    char* p = key_buffer;
    p = std::copy(route.begin(), route.end(), p);
    *p++ = kKeySeparator;
    p = std::copy(method_text.begin(), method_text.end(), p);
    *p++ = kKeySeparator;
    p = std::copy(status_view.begin(), status_view.end(), p);
    key = std::string_view(key_buffer, key_size);
  } else {
    heap_key.append(route).append(1, kKeySeparator).append(method_text).append(1, kKeySeparator).append(status_view);
    key = heap_key;
  }
  find_or_add(requests_mutex_, requests_, key).count.fetch_add(1, std::memory_order_relaxed);

  auto& histogram = find_or_add(durations_mutex_, durations_, route);
  std::size_t bucket = 0;
  while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket]) ++bucket;
  histogram.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  const double nanos = seconds > 0 ? seconds * 1e9 : 0.0;
  histogram.sum_nanos.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
  histogram.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_scan(std::string_view outcome) {
  find_or_add(scans_mutex_, scans_, outcome).value.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::declare_scan_outcome(std::string_view outcome) {
  find_or_add(scans_mutex_, scans_, outcome);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(4096);

  append_header(out, "dpost_up", "gauge", "1 while the server answers.");
  out += "dpost_up 1\n";

  append_header(out, "dpost_process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
  out += "dpost_process_start_time_seconds ";
  append_double(out, start_time_seconds_);
  out += '\n';

  append_header(out, "dpost_http_requests_total", "counter", "HTTP requests answered, by route pattern.");
  {
    std::shared_lock lock(requests_mutex_);
    for (const auto& [key, series] : requests_) {
      const auto [route, method, status] = split_key(key);
      out.append("dpost_http_requests_total{route=\"").append(escape_label_value(route));
      out.append("\",method=\"").append(escape_label_value(method));
      out.append("\",status=\"").append(status).append("\"} ");
      append_uint(out, series->count.load(std::memory_order_relaxed));
      out += '\n';
    }
  }

  append_header(out, "dpost_http_request_duration_seconds", "histogram",
                "Time from a parsed request to its response being produced, by route pattern.");
  {
    std::shared_lock lock(durations_mutex_);
    for (const auto& [route, histogram] : durations_) {
      const auto label = escape_label_value(route);
      // Read count first and clamp the buckets to it: observations racing with this scrape may land in a bucket
      // after count was read, and +Inf must equal _count.
      const auto count = histogram->count.load(std::memory_order_relaxed);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= kDurationBuckets.size(); ++i) {
        cumulative += histogram->buckets[i].load(std::memory_order_relaxed);
        out.append("dpost_http_request_duration_seconds_bucket{route=\"").append(label).append("\",le=\"");
        if (i < kDurationBuckets.size()) {
          append_double(out, kDurationBuckets[i]);
        } else {
          out += "+Inf";
        }
        out += "\"} ";
        append_uint(out, i < kDurationBuckets.size() ? std::min(cumulative, count) : count);
        out += '\n';
      }
      out.append("dpost_http_request_duration_seconds_sum{route=\"").append(label).append("\"} ");
      append_double(out, static_cast<double>(histogram->sum_nanos.load(std::memory_order_relaxed)) / 1e9);
      out += '\n';
      out.append("dpost_http_request_duration_seconds_count{route=\"").append(label).append("\"} ");
      append_uint(out, count);
      out += '\n';
    }
  }

  append_header(out, "dpost_scans_total", "counter",
                "Scans by outcome (recorded, duplicate, illegal_transition, ...).");
  {
    std::shared_lock lock(scans_mutex_);
    for (const auto& [outcome, counter] : scans_) {
      out.append("dpost_scans_total{outcome=\"").append(escape_label_value(outcome)).append("\"} ");
      append_uint(out, counter->value.load(std::memory_order_relaxed));
      out += '\n';
    }
  }
  return out;
}

std::string render_storage_metrics(const StorageStats& s) {
  std::string out;
  append_header(out, "dpost_storage_write_queue_length", "gauge", "Write jobs waiting for the storage writer.");
  out += "dpost_storage_write_queue_length ";
  append_uint(out, s.write_queue);
  out += '\n';
  append_header(out, "dpost_storage_commits_total", "counter", "Group commits made durable (fsync) by the writer.");
  out += "dpost_storage_commits_total ";
  append_uint(out, s.commits);
  out += '\n';
  append_header(out, "dpost_storage_commit_failures_total", "counter",
                "Group commits that failed: nothing of them was acknowledged.");
  out += "dpost_storage_commit_failures_total ";
  append_uint(out, s.failed_commits);
  out += '\n';
  append_header(out, "dpost_storage_write_jobs_total", "counter", "Write jobs applied in successful commits.");
  out += "dpost_storage_write_jobs_total ";
  append_uint(out, s.jobs);
  out += '\n';
  append_header(out, "dpost_storage_commit_duration_seconds", "histogram",
                "Time of one group commit, from BEGIN to the fsync of COMMIT.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < s.commit_buckets.size(); ++i) {
    cumulative += s.commit_buckets[i];
    out += "dpost_storage_commit_duration_seconds_bucket{le=\"";
    if (i < StorageStats::kCommitBuckets.size()) {
      append_double(out, StorageStats::kCommitBuckets[i]);
    } else {
      out += "+Inf";
    }
    out += "\"} ";
    append_uint(out, cumulative);
    out += '\n';
  }
  out += "dpost_storage_commit_duration_seconds_sum ";
  append_double(out, s.commit_seconds_sum);
  out += "\ndpost_storage_commit_duration_seconds_count ";
  append_uint(out, cumulative);
  out += '\n';
  append_header(out, "dpost_notifications_pending", "gauge",
                "Notifications queued and not yet delivered, by channel (citizen SMS, webhook).");
  for (const auto& [channel, p] : s.notifications_pending) {
    out.append("dpost_notifications_pending{channel=\"").append(escape_label_value(channel)).append("\"} ");
    append_uint(out, static_cast<std::uint64_t>(p.count));
    out += '\n';
  }
  append_header(out, "dpost_notifications_oldest_pending_seconds", "gauge",
                "Age of the oldest undelivered notification, by channel (0 when none).");
  for (const auto& [channel, p] : s.notifications_pending) {
    out.append("dpost_notifications_oldest_pending_seconds{channel=\"")
        .append(escape_label_value(channel))
        .append("\"} ");
    append_double(out, p.oldest_age_seconds);
    out += '\n';
  }
  return out;
}

std::string render_calendar_metrics(int last_year) {
  std::string out;
  append_header(out, "dpost_calendar_last_year", "gauge",
                "The last year whose published days off (Tet, swapped days) the working calendar lists; 0 when none. "
                "Deadlines in a later year are provisional.");
  out += "dpost_calendar_last_year " + std::to_string(last_year) + "\n";
  return out;
}

}  // namespace dpost::server
