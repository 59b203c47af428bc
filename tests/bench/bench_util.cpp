#include "bench_util.hpp"

#include "args.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace dpost::bench {

std::int64_t unix_millis_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339_millis(std::int64_t unix_millis) {
  const std::time_t seconds = static_cast<std::time_t>(unix_millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 96> out{};
  std::snprintf(out.data(), out.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_millis % 1000));
  return out.data();
}

namespace {

std::string format_uuid(std::uint64_t high, std::uint64_t low) {
  std::array<char, 40> out{};
  std::snprintf(out.data(), out.size(), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48), static_cast<unsigned long long>(low & 0xffff'ffff'ffffULL));
  return out.data();
}

}  // namespace

std::string random_uuid(std::mt19937_64& rng) {
  std::uint64_t high = rng();
  std::uint64_t low = rng();
  high = (high & ~0xf000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  return format_uuid(high, low);
}

std::string sequential_uuid(std::uint64_t sequence, std::mt19937_64& rng) {
  std::uint64_t high = (sequence << 16) | (rng() & 0x0fffULL) | 0x7000ULL;  // version 7
  std::uint64_t low = rng();
  low = (low & ~(0xc000ULL << 48)) | (0x8000ULL << 48);
  return format_uuid(high, low);
}

std::string random_token(std::mt19937_64& rng, std::size_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string token;
  token.reserve(length);
  std::uint64_t bits = 0;
  int left = 0;
  for (std::size_t i = 0; i < length; ++i) {
    if (left < 5) {
      bits = rng();
      left = 64;
    }
    token.push_back(kAlphabet[bits & 31]);
    bits >>= 5;
    left -= 5;
  }
  return token;
}

std::string s10_item_id(std::string_view service, std::uint32_t serial) {
  static constexpr std::array kWeights{8, 6, 4, 2, 3, 5, 9, 7};
  std::array<char, 16> digits{};
  std::snprintf(digits.data(), digits.size(), "%08u", serial % 100'000'000U);
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (digits[i] - '0') * kWeights[i];
  int check = 11 - sum % 11;
  if (check == 10) check = 0;
  if (check == 11) check = 5;
  std::string id(service);
  id += digits.data();
  id += static_cast<char>('0' + check);
  id += "VN";
  return id;
}

HostPort parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw UsageError("expected HOST:PORT, not '" + std::string(text) + "'");
  HostPort result{std::string(text.substr(0, colon)), 0};
  const std::string_view port = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), result.port);
  if (ec != std::errc() || end != port.data() + port.size()) {
    throw UsageError("bad port in '" + std::string(text) + "'");
  }
  return result;
}

}  // namespace dpost::bench
