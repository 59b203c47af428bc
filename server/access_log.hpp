#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

namespace dpost::server {

// One answered request as the access log records it. `route` is the router's pattern, never the raw path:
// paths carry QR tokens (/t/{token}) and item ids, and the log must not become a list of who tracked what.
// Query strings, bodies and headers are never logged.
struct AccessLogEntry {
  std::string_view method;
  std::string_view route;  // "/api/v1/track/{item_id}", or "-" when no route matched
  unsigned status = 0;
  double ms = 0;          // from the parsed request to the response being produced
  std::size_t bytes = 0;  // response body size
  std::string_view remote;
};

// The JSON line (with its '\n') for `entry`:
// {"ts":"2026-11-23T09:15:00.123Z","level":"info","msg":"request","method":"GET","route":"/api/v1/track/{item_id}",
//  "status":200,"ms":0.42,"bytes":1234,"remote":"127.0.0.1"}
std::string format_access_log_line(const AccessLogEntry& entry, std::chrono::system_clock::time_point now);

// Writes access log lines to a file descriptor (stderr by default), one write() per line under the log's mutex
// so that lines from concurrent requests and notable events never interleave.
class AccessLog {
 public:
  explicit AccessLog(int fd = 2) : fd_(fd) {}
  void write(const AccessLogEntry& entry);

 private:
  int fd_;
};

// Notable events (start, drain, stop, storage errors, dropped requests, failed notifications) go to the same
// stream in the same shape as requests: one JSON object per line, "msg" a stable snake_case event name.
// Never put personal data (names, phones, ID numbers, QR tokens) in a field: ids and error texts only.
enum class LogLevel { info, warn, error };
std::string_view to_string(LogLevel level);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  std::string_view key;
  std::variant<std::string_view, std::int64_t> value;
};

// {"ts":"2026-11-23T09:15:00.123Z","level":"error","msg":"storage_unavailable","error":"database is locked"}
std::string format_event_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields,
                              std::chrono::system_clock::time_point now);
// Writes that line to stderr.
void log_event(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

}  // namespace dpost::server
