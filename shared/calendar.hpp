#pragma once
// Working days and legal deadlines (issue #7). Pure: a calendar and a set of leg limits are plain values read
// from JSON files (an embedded Vietnamese default, or a file given to the server), and every due date is a
// function of them, of when a thing started and of the pauses on its clock.
//
// Semantics (docs/deadlines.md):
// - Day 0 is the day of receipt when it is a working day and the receipt came before the cut-off hour;
//   otherwise the next working day is day 0.
// - A limit of N working days ends at office closing time of the N-th working day after day 0.
// - A pause (the citizen must supplement the dossier) that starts on day P and ends on day R (R computed as a
//   day 0 again: after the cut-off, or on a non-working day, it is the next working day) stops the clock:
//   working days in (P, R] do not count. An open pause has no due date yet.

#include "clock.hpp"

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpost {

// Local calendar day in the calendar's time zone, counted from 1970-01-01.
using LocalDay = std::int64_t;

class WorkingCalendar {
 public:
  // Parses the calendar file (JSON). Throws std::invalid_argument with a one-line message naming the problem
  // (unknown key, bad date, bad hour) so a typo never silently changes deadlines.
  static WorkingCalendar parse(std::string_view json_text);
  // Vietnam: Saturday and Sunday off, 07:30-17:00, cut-off 15:00, the Labour Code holidays with the
  // government's published days off per year (shared/data/calendar_vn.json).
  static const WorkingCalendar& vietnam();
  static std::string_view vietnam_source();

  LocalDay local_day(UnixMillis t) const;
  int local_minute(UnixMillis t) const;  // minutes since local midnight
  // The instant a local day's minute falls on.
  UnixMillis at(LocalDay day, int minute) const;
  bool is_working_day(LocalDay day) const;
  LocalDay next_working_day(LocalDay day) const;  // the first working day strictly after `day`
  // Day 0 of something received at `t` (see above).
  LocalDay day_zero(UnixMillis t) const;
  // Working days d with day_of(a) < d <= day_of(b): how far apart two events are in working days.
  int working_days_between(UnixMillis a, UnixMillis b) const;

  struct Pause {
    UnixMillis from = 0;
    std::optional<UnixMillis> until;  // nullopt: still paused
  };
  // When a limit of `days` working days that started at `start` ends; nullopt while a pause is open.
  std::optional<UnixMillis> due(UnixMillis start, int days, std::span<const Pause> pauses = {}) const;
  // The end of a local date ("YYYY-MM-DD") as a due instant: office closing time that day. nullopt if malformed.
  std::optional<UnixMillis> end_of_date(std::string_view date) const;

  // Whether the file lists a year's published days off (its "years" entry, not marked provisional). A year
  // without one still has the weekend and the fixed holidays, but not Tết or the swapped days; a year marked
  // "provisional": true has days off estimated from the Labour Code before the government publishes them.
  // Deadlines in either are provisional.
  bool covers(int year) const { return years_.contains(year); }
  bool estimated(int year) const { return estimated_years_.contains(year); }
  // Every year from the one `from` falls in to the one `to` falls in is covered.
  bool covers_span(UnixMillis from, UnixMillis to) const;
  std::optional<int> last_year() const;  // the last year listed as published, nullopt when none
  int year_of(UnixMillis t) const;       // the local calendar year of an instant

  int utc_offset_minutes() const { return offset_minutes_; }
  int open_minute() const { return open_minute_; }
  int close_minute() const { return close_minute_; }
  int cutoff_minute() const { return cutoff_minute_; }

 private:
  int offset_minutes_ = 420;
  bool weekend_[7] = {true, false, false, false, false, false, true};  // by weekday, 0 = Sunday
  int open_minute_ = 7 * 60 + 30;
  int close_minute_ = 17 * 60;
  int cutoff_minute_ = 15 * 60;
  std::set<std::pair<int, int>> fixed_holidays_;  // (month, day) every year
  std::set<LocalDay> holidays_;
  std::set<LocalDay> working_days_;  // make-up Saturdays and the like: working although a weekend day
  std::set<int> years_;              // the years with a published entry
  std::set<int> estimated_years_;    // the years whose entry is marked provisional
};

// "Area" of a site for time limits: nội thành (urban), ngoại thành / nông thôn (rural), vùng sâu vùng xa,
// hải đảo (remote).
enum class Area { urban, rural, remote };
std::optional<Area> parse_area(std::string_view text);
std::string_view to_string(Area area);

// How many working days one postal leg may take, per province (code as in the site's province_code) and area.
class LegLimits {
 public:
  static LegLimits parse(std::string_view json_text);  // throws std::invalid_argument, like the calendar
  static const LegLimits& defaults();                  // 1 / 2 / 3 working days (urban / rural / remote)
  static std::string_view defaults_source();
  // A missing province uses the default row; a missing area counts as rural.
  int days(std::string_view province, std::optional<Area> area) const;

 private:
  std::map<Area, int> default_;
  std::map<std::string, std::map<Area, int>, std::less<>> provinces_;
};

// The rules attached to a dossier when it was received: both files' text, so a later change of either does
// not rewrite its verdicts. `hash` (hex SHA-256 of both texts) names the set.
struct RuleSet {
  std::string calendar_text;
  std::string limits_text;
  std::string hash;
  WorkingCalendar calendar;
  LegLimits limits;
  static RuleSet from_texts(std::string calendar_text, std::string limits_text);  // throws like parse
};

// Whether something with a due date is early, on time or late, and since when.
struct Timeliness {
  std::string status;  // "early", "on_time", "late", "paused" (the clock is stopped), "open" (no due date)
  std::optional<UnixMillis> due_at;
  UnixMillis since = 0;  // started (on time), due date passed (late), completed (early / on time)
  std::optional<UnixMillis> completed_at;
  // The calendar does not list the days off of a year between the start and the due date (the government has
  // not published them yet, or the file was not updated): the due date may move once they are known.
  bool provisional = false;
};
// Early: completed on a working day before the due day. Late: completed after, or still open past, due_at.
Timeliness judge(const WorkingCalendar& calendar, UnixMillis started_at, std::optional<UnixMillis> due_at,
                 std::optional<UnixMillis> completed_at, UnixMillis now, bool paused = false);

}  // namespace dpost
