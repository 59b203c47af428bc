#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

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

// Writes access log lines to a file descriptor (stderr by default), one write() per line under a mutex so that
// lines from concurrent requests never interleave.
class AccessLog {
 public:
  explicit AccessLog(int fd = 2) : fd_(fd) {}
  void write(const AccessLogEntry& entry);

 private:
  std::mutex mutex_;
  int fd_;
};

}  // namespace dpost::server
