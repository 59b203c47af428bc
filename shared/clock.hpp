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

}  // namespace dpost
