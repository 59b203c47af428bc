#include "access_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace dpost::server {

namespace {

// A JSON string member. The values are route patterns, method tokens and IP addresses, but escape anyway: a
// log line that does not parse is worse than a slower one.
void append_string(std::string& out, std::string_view name, std::string_view value) {
  out.append(",\"").append(name).append("\":\"");
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

template <class Number, class... Format>
void append_number(std::string& out, std::string_view name, Number value, Format... format) {
  char buffer[40];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format...);
  out.append(",\"").append(name).append("\":").append(buffer, ec == std::errc() ? end : buffer);
}

// "{"ts":"...","level":"<level>","msg":"<msg>"" without the closing brace.
std::string line_start(std::string_view level, std::string_view msg, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(now.time_since_epoch()).count();
  const auto seconds = since_epoch / 1000;
  // gmtime_r and snprintf cost more than the rest of the line: format the date once per second and thread.
  thread_local long long cached_second = -1;
  thread_local char cached_date[80];  // "2026-11-23T09:15:00"; sized for any int so that GCC sees no truncation
  if (seconds != cached_second) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    std::snprintf(cached_date, sizeof cached_date, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_second = seconds;
  }
  const auto millis = static_cast<int>(since_epoch % 1000);
  const char fraction[] = {'.', static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                           static_cast<char>('0' + millis % 10), 'Z'};

  std::string out;
  out.reserve(200);
  out.append("{\"ts\":\"").append(cached_date).append(fraction, sizeof fraction).append("\"");
  append_string(out, "level", level);
  append_string(out, "msg", msg);
  return out;
}

// One write() per line under one mutex for the whole process: request and event lines never interleave.
std::mutex log_mutex;

void write_line(int fd, const std::string& line) {
  std::lock_guard lock(log_mutex);
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed or full stderr must not fail the request
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string format_access_log_line(const AccessLogEntry& entry, std::chrono::system_clock::time_point now) {
  std::string out = line_start("info", "request", now);
  append_string(out, "method", entry.method);
  append_string(out, "route", entry.route);
  append_number(out, "status", entry.status);
  // Microsecond resolution is enough and keeps the number short.
  append_number(out, "ms", entry.ms < 0 ? 0.0 : entry.ms, std::chars_format::fixed, 3);
  append_number(out, "bytes", entry.bytes);
  append_string(out, "remote", entry.remote);
  out += "}\n";
  return out;
}

void AccessLog::write(const AccessLogEntry& entry) {
  write_line(fd_, format_access_log_line(entry, std::chrono::system_clock::now()));
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::string format_event_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields,
                              std::chrono::system_clock::time_point now) {
  std::string out = line_start(to_string(level), msg, now);
  for (const auto& field : fields) {
    if (const auto* text = std::get_if<std::string_view>(&field.value)) {
      append_string(out, field.key, *text);
    } else {
      append_number(out, field.key, std::get<std::int64_t>(field.value));
    }
  }
  out += "}\n";
  return out;
}

void log_event(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  write_line(2, format_event_line(level, msg, fields, std::chrono::system_clock::now()));
}

}  // namespace dpost::server
