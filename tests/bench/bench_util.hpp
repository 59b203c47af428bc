#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace dpost::bench {

using SteadyClock = std::chrono::steady_clock;

// Milliseconds since the Unix epoch, UTC (the unit of every time column).
std::int64_t unix_millis_now();

// "2026-11-23T02:15:00.123Z".
std::string format_rfc3339_millis(std::int64_t unix_millis);

// Random version-4 UUID, lower case.
std::string random_uuid(std::mt19937_64& rng);

// Version-7 style UUID whose first 48 bits are `sequence`: ids made with an increasing sequence sort in that
// order, so a bulk load appends to the event_id index instead of splitting random pages.
std::string sequential_uuid(std::uint64_t sequence, std::mt19937_64& rng);

// `length` characters of [a-z2-7] (base32): an unguessable tracking token.
std::string random_token(std::mt19937_64& rng, std::size_t length);

// VN item id for a service indicator and a serial 0..99'999'999. The check digit is the UPU S10 one
// (weights 8,6,4,2,3,5,9,7; 11 - (sum mod 11), 10 -> 0, 11 -> 5), computed here so the generator does not
// depend on the domain library being finished.
std::string s10_item_id(std::string_view service, std::uint32_t serial);

// "127.0.0.1:8080" -> host and port; throws UsageError when malformed.
struct HostPort {
  std::string host;
  unsigned short port = 0;
};
HostPort parse_host_port(std::string_view text);

}  // namespace dpost::bench
