#include "clock.hpp"

#include <doctest/doctest.h>

#include <ctime>

using dpost::format_date_vn;
using dpost::format_rfc3339;
using dpost::format_time_vn;
using dpost::parse_rfc3339;

TEST_CASE("clock: parse_rfc3339 accepts the forms devices send") {
  const dpost::UnixMillis t = 1'795'400'100'000;  // 2026-11-23T02:15:00Z
  CHECK(parse_rfc3339("2026-11-23T02:15:00Z") == t);
  CHECK(parse_rfc3339("2026-11-23T09:15:00+07:00") == t);
  CHECK(parse_rfc3339("2026-11-22T21:15:00-05:00") == t);
  CHECK(parse_rfc3339("2026-11-23t02:15:00z") == t);
  CHECK(parse_rfc3339("2026-11-23 02:15:00Z") == t);
  CHECK(parse_rfc3339("2026-11-23T02:15:00.5Z") == t + 500);
  CHECK(parse_rfc3339("2026-11-23T02:15:00.123Z") == t + 123);
  CHECK(parse_rfc3339("2026-11-23T02:15:00.123999999Z") == t + 123);  // finer digits truncated
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z") == 951'782'400'000);
  CHECK(parse_rfc3339("9999-12-31T23:59:59.999Z") == 253'402'300'799'999);
}

TEST_CASE("clock: parse_rfc3339 refuses malformed or out-of-range times") {
  for (const char* text : {"",
                           "2026-11-23",
                           "2026-11-23T02:15:00",
                           "2026-11-23T02:15Z",
                           "2026-11-23T02:15:00+0700",
                           "2026-11-23T02:15:00+07",
                           "2026-11-23T02:15:00.Z",
                           "2026-11-23T02:15:00ZZ",
                           "2026-11-23X02:15:00Z",
                           "26-11-23T02:15:00Z",
                           "2026-1-23T02:15:00Z",
                           "2026-13-01T00:00:00Z",
                           "2026-00-01T00:00:00Z",
                           "2026-11-31T00:00:00Z",
                           "2026-02-29T00:00:00Z",
                           "1900-02-29T00:00:00Z",
                           "2026-11-00T00:00:00Z",
                           "2026-11-23T24:00:00Z",
                           "2026-11-23T23:60:00Z",
                           "2026-11-23T23:59:60Z",
                           "1969-12-31T23:59:59Z",
                           "1970-01-01T00:30:00+07:00",
                           "2026-11-23T02:15:00+24:00",
                           "2026-11-23T02:15:00+07:60",
                           "2026-11-23T02:15:00.1234567890Z",
                           "+2026-11-23T02:15:00Z",
                           " 2026-11-23T02:15:00Z",
                           "2026-11-23T02:15:00Z ",
                           "２026-11-23T02:15:00Z",
                           "10000-01-01T00:00:00Z"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  CHECK(parse_rfc3339("2000-02-29T00:00:00Z").has_value());
}

TEST_CASE("clock: format_rfc3339") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(1'795'400'100'000) == "2026-11-23T02:15:00.000Z");
  CHECK(format_rfc3339(1'795'400'100'042) == "2026-11-23T02:15:00.042Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  // The last instant of year 9999 is written digit by digit; year 10000 needs five digits and the slow path.
  CHECK(format_rfc3339(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(253'402'300'800'000) == "10000-01-01T00:00:00.000Z");
  CHECK(format_date_vn(253'402'300'799'999) == "10000-01-01");
}

TEST_CASE("clock: format and parse round-trip over many days") {
  // Every ~day and a bit from 1970 to 2100, compared with the C library's gmtime as an independent oracle.
  for (dpost::UnixMillis t = 0; t < 4'102'444'800'000; t += 86'400'000 + 3'723'001) {
    std::string text = format_rfc3339(t);
    REQUIRE(parse_rfc3339(text) == t);
    std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    REQUIRE(text.substr(0, 19) == buf);
  }
}

TEST_CASE("clock: format_date_vn uses UTC+7") {
  CHECK(format_date_vn(*parse_rfc3339("2026-11-23T16:59:59Z")) == "2026-11-23");
  CHECK(format_date_vn(*parse_rfc3339("2026-11-23T17:00:00Z")) == "2026-11-24");
  CHECK(format_date_vn(*parse_rfc3339("2026-12-31T23:30:00+07:00")) == "2026-12-31");
  CHECK(format_date_vn(0) == "1970-01-01");
}

TEST_CASE("clock: format_time_vn reads the time and date in Vietnam") {
  CHECK(format_time_vn(*parse_rfc3339("2026-11-23T02:15:00Z")) == "09:15 23/11/2026");
  // 17:30 UTC is already the next day, and here the next year, in Vietnam.
  CHECK(format_time_vn(*parse_rfc3339("2026-12-31T17:30:00Z")) == "00:30 01/01/2027");
  CHECK(format_time_vn(*parse_rfc3339("2026-12-31T16:59:59.999Z")) == "23:59 31/12/2026");
}

TEST_CASE("clock: now_millis is current") {
  const auto now = dpost::now_millis();
  CHECK(now > *parse_rfc3339("2024-01-01T00:00:00Z"));
  CHECK(now < *parse_rfc3339("2200-01-01T00:00:00Z"));
}
