#include "clock.hpp"

#include <chrono>
#include <cstdio>

namespace dpost {

namespace {

constexpr std::int64_t kMillisPerDay = 86'400'000;
constexpr std::int64_t kVietnamOffsetMillis = 7 * 3'600'000;  // UTC+7, no daylight saving

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian): libstdc++ 12 has no
// std::chrono::parse, and these are exact for every year we accept.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `count` decimal digits at `pos`; advances `pos` on success.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& value) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  value = v;
  pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Writes `value` as exactly `width` digits (0 <= value < 10^width) at `out`.
void put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DD" into out[0..9]; false for a year outside 0..9999, which callers format the slow way.
bool put_date(char* out, const CivilDate& date) {
  if (date.year < 0 || date.year > 9999) return false;
  put_digits(out, static_cast<unsigned>(date.year), 4);
  out[4] = '-';
  put_digits(out + 5, date.month, 2);
  out[7] = '-';
  put_digits(out + 8, date.day, 2);
  return true;
}

// Timestamps go into every event of every answer: formatted by hand, since snprintf was ~3% of a look-up.
std::string format_date(std::int64_t days) {
  CivilDate date = civil_from_days(days);
  char buf[48];
  if (put_date(buf, date)) return std::string(buf, 10);
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(date.year), date.month, date.day);
  return buf;
}

}  // namespace

UnixMillis now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<UnixMillis> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  // RFC 3339 section 5.6 allows 't' and, by its note, a space in place of 'T'.
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    // Keep milliseconds, truncate finer digits (still validated); cap the run so junk cannot be endless.
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
      if (digits > 9) return std::nullopt;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;  // the offset is mandatory
  int offset_minutes = 0;
  char sign = text[pos];
  if (sign == 'Z' || sign == 'z') {
    ++pos;
  } else if (sign == '+' || sign == '-') {
    ++pos;
    int off_h = 0, off_m = 0;
    if (!read_digits(text, pos, 2, off_h) || !expect(text, pos, ':') || !read_digits(text, pos, 2, off_m)) {
      return std::nullopt;
    }
    if (off_h > 23 || off_m > 59) return std::nullopt;
    offset_minutes = (off_h * 60 + off_m) * (sign == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  // Leap seconds (second 60) are refused: nothing we record needs them, and POSIX time cannot hold them.
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t t = days * kMillisPerDay + ((hour * 60 + minute) * 60 + second) * std::int64_t{1000} + millis -
                   std::int64_t{offset_minutes} * 60'000;
  // "1970-01-01T00:30:00+07:00" is before the epoch: out of range like the year.
  if (t < 0) return std::nullopt;
  return t;
}

std::string format_rfc3339(UnixMillis t) {
  std::int64_t days = floor_div(t, kMillisPerDay);
  std::int64_t in_day = t - days * kMillisPerDay;
  CivilDate date = civil_from_days(days);
  auto ms = static_cast<int>(in_day % 1000);
  auto s = static_cast<int>(in_day / 1000 % 60);
  auto m = static_cast<int>(in_day / 60'000 % 60);
  auto h = static_cast<int>(in_day / 3'600'000);
  char buf[80];
  if (put_date(buf, date)) {
    buf[10] = 'T';
    put_digits(buf + 11, static_cast<unsigned>(h), 2);
    buf[13] = ':';
    put_digits(buf + 14, static_cast<unsigned>(m), 2);
    buf[16] = ':';
    put_digits(buf + 17, static_cast<unsigned>(s), 2);
    buf[19] = '.';
    put_digits(buf + 20, static_cast<unsigned>(ms), 3);
    buf[23] = 'Z';
    return std::string(buf, 24);
  }
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(date.year), date.month,
                date.day, h, m, s, ms);
  return buf;
}

std::string format_date_vn(UnixMillis t) {
  return format_date(floor_div(t + kVietnamOffsetMillis, kMillisPerDay));
}

std::string format_time_vn(UnixMillis t) {
  const auto iso = format_rfc3339(t + kVietnamOffsetMillis);  // 2026-11-23T02:15:00.000Z, shifted to UTC+7
  return iso.substr(11, 5) + " " + iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

}  // namespace dpost
