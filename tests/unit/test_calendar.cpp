// Working days and due dates: weekends, the Labour Code holidays of the default calendar, the cut-off hour,
// pauses while a citizen supplements a dossier, and the rule files' validation. Dates worked out by hand in
// the comments (2026-12-04 is a Friday).
#include "calendar.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace dpost;

namespace {

UnixMillis t(const char* text) {
  const auto v = parse_rfc3339(text);
  REQUIRE(v);
  return *v;
}

// The due instant as Vietnamese local time, for readable assertions.
std::string due_text(UnixMillis start, int days, std::vector<WorkingCalendar::Pause> pauses = {}) {
  const auto d = WorkingCalendar::vietnam().due(start, days, pauses);
  if (!d) return "paused";
  return format_rfc3339(*d);
}

// The parser's one-line message for a calendar file it refuses, or "accepted".
std::string refused(const char* text) {
  try {
    (void)WorkingCalendar::parse(text);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  return "accepted";
}

std::string close_of(const char* date) {
  return format_rfc3339(*WorkingCalendar::vietnam().end_of_date(date));
}

}  // namespace

TEST_CASE("calendar: a receipt before the cut-off counts that day as day 0, after it the next working day") {
  // Friday 10:00: day 0 Friday, day 1 Monday 7, day 2 Tuesday 8, closing 17:00 local.
  CHECK(due_text(t("2026-12-04T10:00:00+07:00"), 2) == close_of("2026-12-08"));
  CHECK(close_of("2026-12-08") == "2026-12-08T10:00:00.000Z");
  // Friday 15:00 is the cut-off itself: counts from Monday, so day 2 is Wednesday.
  CHECK(due_text(t("2026-12-04T15:00:00+07:00"), 2) == close_of("2026-12-09"));
  CHECK(due_text(t("2026-12-04T14:59:00+07:00"), 2) == close_of("2026-12-08"));
  // Saturday or Sunday: Monday is day 0.
  CHECK(due_text(t("2026-12-05T09:00:00+07:00"), 1) == close_of("2026-12-08"));
  CHECK(due_text(t("2026-12-06T23:30:00+07:00"), 1) == close_of("2026-12-08"));
  // Zero days: the end of day 0.
  CHECK(due_text(t("2026-12-04T16:00:00+07:00"), 0) == close_of("2026-12-07"));
  // 2026-12-04T20:00Z is already Saturday 03:00 in Vietnam: the time zone is the calendar's, not UTC.
  CHECK(due_text(t("2026-12-04T20:00:00Z"), 1) == close_of("2026-12-08"));
}

TEST_CASE("calendar: public holidays of the default Vietnamese calendar are not working days") {
  const auto& vn = WorkingCalendar::vietnam();
  // Tết Bính Ngọ: 16-20 February 2026 off, then the weekend: Friday 13 + 1 day is Monday 23.
  CHECK(due_text(t("2026-02-13T10:00:00+07:00"), 1) == close_of("2026-02-23"));
  // 30/4 and 1/5 (Thursday, Friday): Wednesday 29/4 + 1 is Monday 4/5.
  CHECK(due_text(t("2026-04-29T10:00:00+07:00"), 1) == close_of("2026-05-04"));
  // Giỗ Tổ Hùng Vương on Sunday 26/4/2026 is taken on Monday 27/4: Friday 24/4 + 1 is Tuesday 28/4.
  CHECK(due_text(t("2026-04-24T10:00:00+07:00"), 1) == close_of("2026-04-28"));
  // Quốc khánh 1-2/9/2026: Monday 31/8 + 1 is Thursday 3/9.
  CHECK(due_text(t("2026-08-31T10:00:00+07:00"), 1) == close_of("2026-09-03"));
  // The fixed holidays hold in every year: Friday 1/1/2027.
  CHECK_FALSE(vn.is_working_day(vn.local_day(t("2027-01-01T10:00:00+07:00"))));
  CHECK(due_text(t("2026-12-31T10:00:00+07:00"), 1) == close_of("2027-01-04"));
  // A make-up Saturday is a working day: 26/4/2025 (2/5 was swapped for it).
  CHECK(vn.is_working_day(vn.local_day(t("2025-04-26T10:00:00+07:00"))));
  CHECK(due_text(t("2025-04-25T10:00:00+07:00"), 1) == close_of("2025-04-26"));
  // A receipt on a holiday counts from the next working day.
  CHECK(due_text(t("2026-09-02T09:00:00+07:00"), 0) == close_of("2026-09-03"));
}

TEST_CASE("calendar: working days between two events") {
  const auto& vn = WorkingCalendar::vietnam();
  const auto fri = t("2026-12-04T10:00:00+07:00");
  CHECK(vn.working_days_between(fri, t("2026-12-07T09:00:00+07:00")) == 1);  // Monday
  CHECK(vn.working_days_between(fri, t("2026-12-08T09:00:00+07:00")) == 2);  // Tuesday
  CHECK(vn.working_days_between(fri, t("2026-12-04T16:00:00+07:00")) == 0);  // same day
  CHECK(vn.working_days_between(t("2026-02-13T10:00:00+07:00"), t("2026-02-23T10:00:00+07:00")) == 1);
}

TEST_CASE("calendar: a pause for a supplement stops the clock and a resume restarts it like a receipt") {
  // Monday 7/12 10:00, 3 working days: Tue 8, Wed 9, Thu 10.
  const auto received = t("2026-12-07T10:00:00+07:00");
  CHECK(due_text(received, 3) == close_of("2026-12-10"));
  // Paused Tuesday 8 11:00 (Tuesday was used), resumed Thursday 10 09:00 (Thursday is day 0 again): Wednesday
  // and Thursday do not count, so Tue 8, Fri 11, Mon 14.
  CHECK(due_text(received, 3, {{t("2026-12-08T11:00:00+07:00"), t("2026-12-10T09:00:00+07:00")}}) ==
        close_of("2026-12-14"));
  // Resumed after the cut-off: Friday 11 is the restart day, so Tue 8, Mon 14, Tue 15.
  CHECK(due_text(received, 3, {{t("2026-12-08T11:00:00+07:00"), t("2026-12-10T16:00:00+07:00")}}) ==
        close_of("2026-12-15"));
  // Two pauses add up.
  CHECK(due_text(received, 3,
                 {{t("2026-12-08T11:00:00+07:00"), t("2026-12-09T09:00:00+07:00")},
                  {t("2026-12-10T11:00:00+07:00"), t("2026-12-11T09:00:00+07:00")}}) == close_of("2026-12-14"));
  // An open pause: no due date while the citizen has the dossier.
  CHECK(due_text(received, 3, {{t("2026-12-08T11:00:00+07:00"), std::nullopt}}) == "paused");
}

TEST_CASE("calendar: verdicts are early, on time or late, with the moment they became so") {
  const auto& vn = WorkingCalendar::vietnam();
  const auto start = t("2026-12-07T10:00:00+07:00");
  const auto due = *vn.due(start, 2);  // Wednesday 9 17:00
  auto v = judge(vn, start, due, t("2026-12-08T12:00:00+07:00"), 0);
  CHECK(v.status == "early");
  CHECK(v.since == t("2026-12-08T12:00:00+07:00"));
  v = judge(vn, start, due, t("2026-12-09T16:59:00+07:00"), 0);
  CHECK(v.status == "on_time");
  v = judge(vn, start, due, t("2026-12-09T17:01:00+07:00"), 0);
  CHECK(v.status == "late");
  CHECK(v.since == due);
  v = judge(vn, start, due, std::nullopt, t("2026-12-09T12:00:00+07:00"));
  CHECK(v.status == "on_time");
  CHECK(v.since == start);
  v = judge(vn, start, due, std::nullopt, t("2026-12-10T08:00:00+07:00"));
  CHECK(v.status == "late");
  CHECK(v.since == due);
  CHECK(judge(vn, start, std::nullopt, std::nullopt, start, true).status == "paused");
  CHECK(judge(vn, start, std::nullopt, std::nullopt, start).status == "open");
}

TEST_CASE("calendar: a calendar file is checked, and a typo is refused with its place") {
  const auto custom = WorkingCalendar::parse(R"({"weekend":["sunday"],"cutoff":"11:30",
      "office_hours":{"open":"08:00","close":"16:30"},"years":{"2026":{"holidays":["2026-12-08"]}}})");
  // Saturday works, Tuesday 8 is a holiday, closing at 16:30; Friday 11:00 is before the 11:30 cut-off.
  const auto d = custom.due(t("2026-12-04T11:00:00+07:00"), 2);
  CHECK(format_rfc3339(*d) == "2026-12-07T09:30:00.000Z");  // Saturday 5 = 1, Monday 7 = 2, 16:30 local
  CHECK(custom.next_working_day(custom.local_day(t("2026-12-07T10:00:00+07:00"))) ==
        custom.local_day(t("2026-12-09T10:00:00+07:00")));

  CHECK(refused(R"({"cutof":"15:00"})") == "calendar: unknown key \"cutof\"");
  CHECK(refused(R"({"cutoff":"25:00"})").find("not a time of day") != std::string::npos);
  CHECK(refused(R"({"years":{"2026":{"holidays":["2026-02-30"]}}})").find("not a date") != std::string::npos);
  CHECK(refused(R"({"years":{"2026":{"holidays":["2027-01-02"]}}})").find("is not in 2026") != std::string::npos);
  CHECK(refused(R"({"years":{"2026":{"holiday":[]}}})").find("unknown key \"holiday\"") != std::string::npos);
  CHECK(refused(R"({"weekend":["caturday"]})").find("not a day name") != std::string::npos);
  CHECK(refused("{").find("not valid JSON") != std::string::npos);
  CHECK(refused(R"({"office_hours":{"open":"18:00","close":"17:00"}})").find("open must be before close") !=
        std::string::npos);
}

TEST_CASE("calendar: leg limits per province and area, and a rule set named by its content") {
  const auto& d = LegLimits::defaults();
  CHECK(d.days("79", Area::urban) == 1);
  CHECK(d.days("79", Area::rural) == 2);
  CHECK(d.days("79", Area::remote) == 3);
  CHECK(d.days("", std::nullopt) == 2);  // an unknown area counts as rural
  const auto l = LegLimits::parse(R"({"default":{"urban":2},"provinces":{"49":{"remote":5}}})");
  CHECK(l.days("01", Area::urban) == 2);
  CHECK(l.days("49", Area::remote) == 5);
  CHECK(l.days("49", Area::urban) == 2);  // a province row inherits the defaults it does not name
  CHECK_THROWS_AS(LegLimits::parse(R"({"default":{"town":1}})"), std::invalid_argument);
  CHECK_THROWS_AS(LegLimits::parse(R"({"default":{"urban":-1}})"), std::invalid_argument);

  const auto a =
      RuleSet::from_texts(std::string(WorkingCalendar::vietnam_source()), std::string(LegLimits::defaults_source()));
  const auto b = RuleSet::from_texts(std::string(WorkingCalendar::vietnam_source()), R"({"default":{"urban":2}})");
  CHECK(a.hash.size() == 64);
  CHECK(a.hash != b.hash);
  CHECK(a.hash == RuleSet::from_texts(a.calendar_text, a.limits_text).hash);
}

TEST_CASE("calendar: a due date in a year whose days off the calendar does not list is provisional") {
  const auto& vn = WorkingCalendar::vietnam();
  CHECK(vn.covers(2025));
  CHECK(vn.covers(2026));
  CHECK(vn.year_of(t("2026-12-31T16:59:00Z")) == 2026);  // 23:59 in Hanoi
  CHECK(vn.year_of(t("2026-12-31T17:00:00Z")) == 2027);  // already 1 January there
  const auto last = vn.last_year();
  REQUIRE(last);
  CHECK(*last >= 2026);

  // Within 2026: every day off is known, the verdict is final.
  const auto start = t("2026-12-01T09:00:00+07:00");
  const auto due = vn.due(start, 5);
  REQUIRE(due);
  CHECK_FALSE(judge(vn, start, due, std::nullopt, start).provisional);

  // A calendar listing 2026 only: a limit reaching into 2027 does not know its Tết yet.
  const auto only_2026 = WorkingCalendar::parse(R"({"years":{"2026":{"holidays":["2026-12-01"]}}})");
  CHECK_FALSE(only_2026.covers(2027));
  CHECK(only_2026.last_year() == 2026);
  const auto late_december = t("2026-12-28T09:00:00+07:00");
  const auto into_2027 = only_2026.due(late_december, 10);
  REQUIRE(into_2027);
  CHECK(only_2026.year_of(*into_2027) == 2027);
  CHECK(judge(only_2026, late_december, into_2027, std::nullopt, late_december).provisional);
  CHECK(judge(only_2026, late_december, into_2027, late_december, late_december).provisional);
  // No due date yet: nothing to be provisional about.
  CHECK_FALSE(judge(only_2026, late_december, std::nullopt, std::nullopt, late_december).provisional);
  // A calendar with no year at all lists no Tết: everything it dates is provisional.
  const auto no_years = WorkingCalendar::parse(R"({"fixed_holidays":["01-01"]})");
  CHECK_FALSE(no_years.last_year());
  CHECK(judge(no_years, start, no_years.due(start, 1), std::nullopt, start).provisional);

  // A year key must be a year, so that a typo cannot silently leave a year uncovered.
  CHECK(refused(R"({"years":{"2O27":{}}})").find("a year is four digits") != std::string::npos);
  CHECK(refused(R"({"years":{"27":{}}})").find("a year is four digits") != std::string::npos);
  CHECK(refused(R"({"years":{"1969":{}}})").find("a year is four digits") != std::string::npos);
}

TEST_CASE("calendar: 2027's estimated days off count, and due dates reaching them stay provisional") {
  const auto& vn = WorkingCalendar::vietnam();
  // Estimated from the Labour Code until the government publishes the year: used, but not as final.
  CHECK_FALSE(vn.covers(2027));
  CHECK(vn.estimated(2027));
  CHECK_FALSE(vn.estimated(2026));
  CHECK(vn.last_year() == 2026);  // the last published year, which the gauge reports

  // Tết Đinh Mùi is Saturday 6/2/2027: off from the eve, Friday 5/2, with the weekend compensated, so Thursday
  // 4/2 is the last working day before it and Friday 12/2 the first after.
  auto day = [&](const char* date) { return vn.local_day(t((std::string(date) + "T10:00:00+07:00").c_str())); };
  CHECK(vn.is_working_day(day("2027-02-04")));
  for (const char* off : {"2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"}) {
    INFO(off);
    CHECK_FALSE(vn.is_working_day(day(off)));
  }
  CHECK(vn.is_working_day(day("2027-02-12")));
  // Received Thursday 4/2 before the cut-off with one working day: due at closing time on Friday 12/2, not on
  // the eve of Tết.
  const auto start = t("2027-02-04T09:00:00+07:00");
  CHECK(due_text(start, 1) == close_of("2027-02-12"));
  CHECK(judge(vn, start, vn.due(start, 1), std::nullopt, start).provisional);
  // Giỗ Tổ Hùng Vương (Friday 16/4), 1/5 on a Saturday compensated on Monday 3/5, and 3/9 beside Quốc khánh.
  CHECK(vn.is_working_day(day("2027-04-15")));
  CHECK_FALSE(vn.is_working_day(day("2027-04-16")));
  CHECK_FALSE(vn.is_working_day(day("2027-05-03")));
  CHECK(vn.is_working_day(day("2027-05-04")));
  CHECK_FALSE(vn.is_working_day(day("2027-09-03")));

  // A file that publishes 2027 (no "provisional") makes the same dates final.
  const auto published = WorkingCalendar::parse(R"({"years":{"2027":{"holidays":["2027-02-05"]}}})");
  CHECK(published.covers(2027));
  CHECK_FALSE(published.estimated(2027));
  CHECK_FALSE(judge(published, start, published.due(start, 1), std::nullopt, start).provisional);
  CHECK(WorkingCalendar::parse(R"({"years":{"2027":{"provisional":false}}})").covers(2027));
  CHECK(refused(R"({"years":{"2027":{"provisional":"yes"}}})").find("provisional must be true or false") !=
        std::string::npos);
}
