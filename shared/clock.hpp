#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpost {

// Times are milliseconds since the Unix epoch, UTC, everywhere inside the system.
using UnixMillis = std::int64_t;

UnixMillis now_millis();

// RFC 3339 with a mandatory offset ("2026-11-23T09:15:00+07:00", "...Z", fractional seconds allowed).
// nullopt when malformed or out of range (years 1970..9999).
std::optional<UnixMillis> parse_rfc3339(std::string_view text);
// "2026-11-23T02:15:00.000Z"
std::string format_rfc3339(UnixMillis t);
// Calendar date in Vietnam (UTC+7), "2026-11-23": what a citizen reads.
std::string format_date_vn(UnixMillis t);
// Time and date in Vietnam, "09:15 23/11/2026": what a notice, a slip or a tracking page shows.
std::string format_time_vn(UnixMillis t);

// Whether a recorded time (a scan, a bag hand-over, a pause) is plausible against the server's clock: device
// clocks run a little ahead (10 minutes are tolerated); offline queues send late, but nothing happened before
// 2020-01-01 (a time near 1970 is a device whose clock was never set). A fixed floor, not a window, so that a
// history replayed long after it happened (a restore, a test with fixed dates) stays acceptable.
inline constexpr UnixMillis kFutureTolerance = 10LL * 60 * 1000;
inline constexpr UnixMillis kEarliestRecordedTime = 1'577'836'800'000;  // 2020-01-01T00:00:00Z
enum class TimeCheck { ok, in_future, too_old };
constexpr TimeCheck check_recorded_time(UnixMillis t, UnixMillis now) {
  if (t > now + kFutureTolerance) return TimeCheck::in_future;
  if (t < kEarliestRecordedTime) return TimeCheck::too_old;
  return TimeCheck::ok;
}

}  // namespace dpost
