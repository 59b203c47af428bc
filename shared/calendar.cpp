#include "calendar.hpp"

#include "embedded_file.hpp"

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace dpost {
std::span<const EmbeddedFile> rule_files();  // generated: shared/data/*.json
namespace {

using nlohmann::json;
constexpr UnixMillis kDay = 24LL * 60 * 60 * 1000;
constexpr UnixMillis kMinute = 60LL * 1000;

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument(what);
}

std::string_view embedded(std::string_view name) {
  for (const auto& f : rule_files()) {
    if (f.name == name) return f.text;
  }
  bad("embedded rule file missing: " + std::string(name));
}

json parse_json(std::string_view text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    bad(std::string(what) + " is not valid JSON: " + e.what());
  }
}

void only_keys(const json& j, std::initializer_list<std::string_view> allowed, const std::string& where) {
  if (!j.is_object()) bad(where + " must be an object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) bad(where + ": unknown key \"" + key + "\"");
  }
}

int parse_hhmm(const json& j, const std::string& where) {
  if (!j.is_string()) bad(where + " must be \"HH:MM\"");
  const auto s = j.get<std::string>();
  if (s.size() != 5 || s[2] != ':' || !isdigit(static_cast<unsigned char>(s[0])) ||
      !isdigit(static_cast<unsigned char>(s[1])) || !isdigit(static_cast<unsigned char>(s[3])) ||
      !isdigit(static_cast<unsigned char>(s[4])))
    bad(where + " must be \"HH:MM\", got \"" + s + "\"");
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) bad(where + " is not a time of day: \"" + s + "\"");
  return h * 60 + m;
}

std::optional<LocalDay> day_of_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::pair<int, int> spans[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < spans[i].second; ++k) {
      const char c = s[static_cast<std::size_t>(spans[i].first + k)];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  using namespace std::chrono;
  const year_month_day ymd{year{parts[0]}, month{static_cast<unsigned>(parts[1])},
                           day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok() || parts[0] < 1970) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

std::pair<int, int> month_day_of(LocalDay d) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{d}}};
  return {static_cast<int>(static_cast<unsigned>(ymd.month())), static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

LocalDay parse_date_entry(const json& j, const std::string& where) {
  if (!j.is_string()) bad(where + " must hold dates \"YYYY-MM-DD\"");
  const auto d = day_of_date(j.get<std::string>());
  if (!d) bad(where + ": not a date: \"" + j.get<std::string>() + "\"");
  return *d;
}

int parse_days(const json& j, const std::string& where) {
  if (!j.is_number_integer() || j.get<long long>() < 0 || j.get<long long>() > 60)
    bad(where + " must be a whole number of working days, 0..60");
  return j.get<int>();
}

std::map<Area, int> parse_area_days(const json& j, const std::string& where) {
  only_keys(j, {"urban", "rural", "remote"}, where);
  std::map<Area, int> out;
  for (const auto& [key, value] : j.items()) out[*parse_area(key)] = parse_days(value, where + "." + key);
  return out;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

WorkingCalendar WorkingCalendar::parse(std::string_view json_text) {
  const json j = parse_json(json_text, "calendar");
  only_keys(j, {"name", "utc_offset_minutes", "weekend", "office_hours", "cutoff", "fixed_holidays", "years"},
            "calendar");
  WorkingCalendar c;
  if (j.contains("utc_offset_minutes")) {
    const auto& o = j["utc_offset_minutes"];
    if (!o.is_number_integer() || o.get<int>() < -720 || o.get<int>() > 840)
      bad("calendar.utc_offset_minutes must be a whole number of minutes, -720..840");
    c.offset_minutes_ = o.get<int>();
  }
  if (j.contains("weekend")) {
    static constexpr std::string_view kNames[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                                   "thursday", "friday", "saturday"};
    std::fill(std::begin(c.weekend_), std::end(c.weekend_), false);
    if (!j["weekend"].is_array()) bad("calendar.weekend must be a list of day names");
    for (const auto& d : j["weekend"]) {
      const auto name = d.is_string() ? d.get<std::string>() : std::string();
      const auto* it = std::find(std::begin(kNames), std::end(kNames), name);
      if (it == std::end(kNames)) bad("calendar.weekend: not a day name: " + d.dump());
      c.weekend_[it - std::begin(kNames)] = true;
    }
  }
  if (j.contains("office_hours")) {
    only_keys(j["office_hours"], {"open", "close"}, "calendar.office_hours");
    if (j["office_hours"].contains("open")) c.open_minute_ = parse_hhmm(j["office_hours"]["open"], "office_hours.open");
    if (j["office_hours"].contains("close"))
      c.close_minute_ = parse_hhmm(j["office_hours"]["close"], "office_hours.close");
  }
  if (j.contains("cutoff")) c.cutoff_minute_ = parse_hhmm(j["cutoff"], "calendar.cutoff");
  if (c.open_minute_ >= c.close_minute_) bad("calendar.office_hours: open must be before close");
  if (c.cutoff_minute_ > c.close_minute_) bad("calendar.cutoff must not be after closing time");
  if (j.contains("fixed_holidays")) {
    if (!j["fixed_holidays"].is_array()) bad("calendar.fixed_holidays must be a list of \"MM-DD\"");
    for (const auto& d : j["fixed_holidays"]) {
      const auto s = d.is_string() ? d.get<std::string>() : std::string();
      // Checked against a leap year so that 02-29 is accepted.
      const auto day = s.size() == 5 ? day_of_date("2024-" + s) : std::nullopt;
      if (!day) bad("calendar.fixed_holidays: not a \"MM-DD\": " + d.dump());
      c.fixed_holidays_.insert(month_day_of(*day));
    }
  }
  if (j.contains("years")) {
    if (!j["years"].is_object()) bad("calendar.years must be an object keyed by year");
    for (const auto& [year, entry] : j["years"].items()) {
      const std::string where = "calendar.years." + year;
      if (!day_of_date(year + "-01-01")) bad(where + ": a year is four digits, 1970 or later");
      only_keys(entry, {"holidays", "working_days", "note", "provisional"}, where);
      if (entry.contains("provisional") && !entry["provisional"].is_boolean())
        bad(where + ".provisional must be true or false");
      const bool provisional = entry.value("provisional", false);
      (provisional ? c.estimated_years_ : c.years_).insert(std::stoi(year));
      for (const char* list : {"holidays", "working_days"}) {
        if (!entry.contains(list)) continue;
        if (!entry[list].is_array()) bad(where + "." + list + " must be a list of dates");
        for (const auto& d : entry[list]) {
          const auto day = parse_date_entry(d, where + "." + list);
          if (d.get<std::string>().substr(0, 4) != year)
            bad(where + "." + list + ": " + d.dump() + " is not in " + year);
          (std::string_view(list) == "holidays" ? c.holidays_ : c.working_days_).insert(day);
        }
      }
    }
  }
  return c;
}

const WorkingCalendar& WorkingCalendar::vietnam() {
  static const WorkingCalendar c = parse(vietnam_source());
  return c;
}

std::string_view WorkingCalendar::vietnam_source() {
  return embedded("calendar_vn.json");
}

int WorkingCalendar::year_of(UnixMillis t) const {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{local_day(t)}}};
  return static_cast<int>(ymd.year());
}

bool WorkingCalendar::covers_span(UnixMillis from, UnixMillis to) const {
  for (int y = year_of(std::min(from, to)); y <= year_of(std::max(from, to)); ++y) {
    if (!covers(y)) return false;
  }
  return true;
}

std::optional<int> WorkingCalendar::last_year() const {
  if (years_.empty()) return std::nullopt;
  return *years_.rbegin();
}

LocalDay WorkingCalendar::local_day(UnixMillis t) const {
  const UnixMillis local = t + offset_minutes_ * kMinute;
  return local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
}

int WorkingCalendar::local_minute(UnixMillis t) const {
  const UnixMillis local = t + offset_minutes_ * kMinute;
  return static_cast<int>((local - local_day(t) * kDay) / kMinute);
}

UnixMillis WorkingCalendar::at(LocalDay day, int minute) const {
  return day * kDay + (minute - offset_minutes_) * kMinute;
}

bool WorkingCalendar::is_working_day(LocalDay day) const {
  if (working_days_.count(day)) return true;
  if (holidays_.count(day) || fixed_holidays_.count(month_day_of(day))) return false;
  const auto weekday = ((day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
  return !weekend_[weekday];
}

LocalDay WorkingCalendar::next_working_day(LocalDay day) const {
  // Bounded: a calendar with no working day in a year is a broken file, not a reason to spin forever.
  for (LocalDay d = day + 1; d <= day + 366; ++d) {
    if (is_working_day(d)) return d;
  }
  return day + 1;
}

LocalDay WorkingCalendar::day_zero(UnixMillis t) const {
  const auto d = local_day(t);
  if (is_working_day(d) && local_minute(t) < cutoff_minute_) return d;
  return next_working_day(d);
}

int WorkingCalendar::working_days_between(UnixMillis a, UnixMillis b) const {
  int n = 0;
  for (LocalDay d = local_day(a) + 1; d <= local_day(b); ++d) n += is_working_day(d) ? 1 : 0;
  return n;
}

std::optional<UnixMillis> WorkingCalendar::due(UnixMillis start, int days, std::span<const Pause> pauses) const {
  std::vector<std::pair<LocalDay, LocalDay>> stopped;  // (P, R]
  for (const auto& p : pauses) {
    if (!p.until) return std::nullopt;
    if (*p.until < p.from) continue;
    stopped.emplace_back(local_day(p.from), day_zero(*p.until));
  }
  auto counts = [&](LocalDay d) {
    if (!is_working_day(d)) return false;
    return std::none_of(stopped.begin(), stopped.end(), [d](const auto& s) { return d > s.first && d <= s.second; });
  };
  LocalDay d = day_zero(start);
  for (int counted = 0; counted < days;) {
    ++d;
    if (counts(d)) ++counted;
  }
  return at(d, close_minute_);
}

std::optional<UnixMillis> WorkingCalendar::end_of_date(std::string_view date) const {
  const auto d = day_of_date(date);
  if (!d) return std::nullopt;
  return at(*d, close_minute_);
}

std::optional<Area> parse_area(std::string_view text) {
  if (text == "urban") return Area::urban;
  if (text == "rural") return Area::rural;
  if (text == "remote") return Area::remote;
  return std::nullopt;
}

std::string_view to_string(Area area) {
  switch (area) {
    case Area::urban:
      return "urban";
    case Area::rural:
      return "rural";
    case Area::remote:
      return "remote";
  }
  return "rural";
}

LegLimits LegLimits::parse(std::string_view json_text) {
  const json j = parse_json(json_text, "leg limits");
  only_keys(j, {"name", "default", "provinces"}, "leg limits");
  LegLimits l;
  l.default_ = {{Area::urban, 1}, {Area::rural, 2}, {Area::remote, 3}};
  if (j.contains("default")) {
    for (const auto& [area, days] : parse_area_days(j["default"], "leg limits.default")) l.default_[area] = days;
  }
  if (j.contains("provinces")) {
    if (!j["provinces"].is_object()) bad("leg limits.provinces must be an object keyed by province code");
    for (const auto& [province, entry] : j["provinces"].items()) {
      auto row = l.default_;
      for (const auto& [area, days] : parse_area_days(entry, "leg limits.provinces." + province)) row[area] = days;
      l.provinces_[province] = row;
    }
  }
  return l;
}

const LegLimits& LegLimits::defaults() {
  static const LegLimits l = parse(defaults_source());
  return l;
}

std::string_view LegLimits::defaults_source() {
  return embedded("leg_limits.json");
}

int LegLimits::days(std::string_view province, std::optional<Area> area) const {
  const auto it = provinces_.find(province);
  const auto& row = it == provinces_.end() ? default_ : it->second;
  return row.at(area.value_or(Area::rural));
}

RuleSet RuleSet::from_texts(std::string calendar_text, std::string limits_text) {
  RuleSet r;
  r.calendar = WorkingCalendar::parse(calendar_text);
  r.limits = LegLimits::parse(limits_text);
  r.hash = sha256_hex(calendar_text + '\0' + limits_text);
  r.calendar_text = std::move(calendar_text);
  r.limits_text = std::move(limits_text);
  return r;
}

Timeliness judge(const WorkingCalendar& calendar, UnixMillis started_at, std::optional<UnixMillis> due_at,
                 std::optional<UnixMillis> completed_at, UnixMillis now, bool paused) {
  Timeliness t;
  t.due_at = due_at;
  t.completed_at = completed_at;
  t.since = started_at;
  t.provisional = due_at && !calendar.covers_span(started_at, *due_at);
  if (!due_at) {
    t.status = paused && !completed_at ? "paused" : "open";
    if (completed_at) t.since = *completed_at;
    return t;
  }
  if (completed_at) {
    if (*completed_at > *due_at) {
      t.status = "late";
      t.since = *due_at;
    } else {
      t.status = calendar.working_days_between(*completed_at, *due_at) >= 1 ? "early" : "on_time";
      t.since = *completed_at;
    }
    return t;
  }
  if (now > *due_at) {
    t.status = "late";
    t.since = *due_at;
  } else {
    t.status = "on_time";
  }
  return t;
}

}  // namespace dpost
