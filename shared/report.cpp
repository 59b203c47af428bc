#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace dpost {
namespace {

constexpr UnixMillis kHour = 60LL * 60 * 1000;

const ReportEvent* first_of(const ReportItem& item, EventCode code) {
  for (const auto& e : item.events) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

const ReportEvent* last_of(const ReportItem& item, EventCode code) {
  for (auto it = item.events.rbegin(); it != item.events.rend(); ++it) {
    if (it->code == code) return &*it;
  }
  return nullptr;
}

bool in_period(UnixMillis t, UnixMillis from, UnixMillis to) {
  return t >= from && t < to;
}

void count_leg(std::map<std::pair<std::string, std::string>, OnTime>& legs, const std::string& site,
               const std::string& leg, bool on_time) {
  if (site.empty()) return;
  auto& o = legs[{site, leg}];
  o.site = site;
  o.leg = leg;
  ++o.completed;
  ++(on_time ? o.on_time : o.late);
}

// The last failed attempt of an item waiting after one, and whether the rules already allow its return.
void explain_failure(const ReportItem& item, WaitingItem& w) {
  if (item.state != ItemState::attempt_failed && item.state != ItemState::attempts_exhausted) return;
  std::vector<FailedAttempt> failures;
  const ReportEvent* last = nullptr;
  for (const auto& e : item.events) {
    if (e.code != EventCode::EMH) continue;
    failures.push_back({e.occurred_at, e.reason_code});
    last = &e;
  }
  if (!last) return;
  w.failure_reason = last->reason_code;
  w.failure_action = last->action;
  const auto& calendar = item.calendar ? *item.calendar : WorkingCalendar::vietnam();
  const bool return_allowed = !check_delivery_rules(item.state, EventCode::RTS, failures, calendar);
  w.next_step = return_allowed ? NextStep::return_to_office : NextStep::attempt_again;
}

}  // namespace

std::string_view to_string(NextStep step) {
  switch (step) {
    case NextStep::attempt_again:
      return "attempt_again";
    case NextStep::return_to_office:
      return "return_to_office";
  }
  return "attempt_again";
}

ReportLimits ReportLimits::defaults(int confirm_within_minutes) {
  ReportLimits l;
  l.step_hours = {
      {ItemState::created, 72},
      {ItemState::handed_to_post, 24},
      {ItemState::accepted, 24},
      {ItemState::at_sorting, 24},
      {ItemState::left_sorting, 24},
      {ItemState::at_delivery_office, 24},
      {ItemState::out_for_delivery, 12},
      {ItemState::attempt_failed, 48},
      {ItemState::out_for_redelivery, 12},
      {ItemState::attempts_exhausted, 24},
      {ItemState::returning, 72},
      {ItemState::delivered, std::max(1, (confirm_within_minutes + 59) / 60)},
  };
  return l;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

Report build_report(const std::vector<ReportItem>& items, UnixMillis from, UnixMillis to, UnixMillis now,
                    const ReportLimits& limits) {
  Report r;
  std::map<std::pair<std::string, std::string>, OnTime> legs;
  std::map<std::string, std::vector<double>> transit;
  std::map<std::string, int> reasons;  // free text, when no code says why
  std::map<FailureReason, int> coded;
  const auto today = format_date_vn(now);

  for (const auto& item : items) {
    const std::string kind(to_string(item.kind));
    ++r.by_state[kind][std::string(to_string(item.state))];

    // Waiting too long at its step, or past the dossier's due date while still on the way.
    if (!is_final(item.kind, item.state)) {
      WaitingItem w;
      w.item_id = item.item_id;
      w.kind = item.kind;
      w.state = item.state;
      w.since = item.events.empty() ? item.created_at : item.events.back().occurred_at;
      w.site = item.events.empty() ? item.office : item.events.back().site;
      w.waiting_hours = (now - w.since) / kHour;
      const auto limit = limits.step_hours.find(item.state);
      w.limit_hours = limit == limits.step_hours.end() ? 24 : limit->second;
      w.dossier_code = item.dossier_code;
      w.due_date = item.due_date;
      w.past_due = item.dossier_due_at ? now > *item.dossier_due_at : item.due_date && *item.due_date < today;
      w.late_parts = item.late_parts;
      w.due_at = item.dossier_due_at;
      explain_failure(item, w);
      if (now - w.since > static_cast<UnixMillis>(w.limit_hours) * kHour || w.past_due) r.waiting.push_back(w);
    }

    for (const auto& e : item.events) {
      if (!in_period(e.occurred_at, from, to)) continue;
      if (e.code == EventCode::EMH) {
        if (e.reason_code && *e.reason_code != FailureReason::other) {
          ++coded[*e.reason_code];
        } else {
          auto reason = e.reason;
          while (!reason.empty() && reason.back() == ' ') reason.pop_back();
          ++reasons[reason.empty() ? std::string("(không ghi lý do)") : reason];
        }
      }
      if (e.code == EventCode::RTS) ++r.returns;
    }

    // Legs completed in the period: a dossier delivered to its office, a result delivered to the citizen.
    const auto* delivered = item.kind == ItemKind::return_item ? nullptr : last_of(item, EventCode::EMI);
    if (!delivered || !in_period(delivered->occurred_at, from, to)) continue;
    if (const auto* accepted = first_of(item, EventCode::EMA)) {
      transit[kind].push_back(static_cast<double>(delivered->occurred_at - accepted->occurred_at) /
                              static_cast<double>(kHour));
    }
    if (item.kind == ItemKind::dossier) {
      const auto* accepted = first_of(item, EventCode::EMA);
      const bool on_time = item.leg_due_at ? delivered->occurred_at <= *item.leg_due_at
                                           : accepted && delivered->occurred_at - accepted->occurred_at <=
                                                             static_cast<UnixMillis>(limits.dossier_leg_hours) * kHour;
      count_leg(legs, accepted ? accepted->site : std::string(), "dossier", on_time);
      count_leg(legs, item.office, "dossier", on_time);
    } else {
      const auto* handed = first_of(item, EventCode::RES);
      bool on_time = false;
      if (item.leg_due_at) {
        on_time = delivered->occurred_at <= *item.leg_due_at;
      } else if (item.due_date) {
        on_time = format_date_vn(delivered->occurred_at) <= *item.due_date;
      } else if (handed) {
        on_time =
            delivered->occurred_at - handed->occurred_at <= static_cast<UnixMillis>(limits.result_leg_hours) * kHour;
      }
      count_leg(legs, delivered->site, "result", on_time);
      count_leg(legs, item.office, "result", on_time);
    }
  }

  std::stable_sort(r.waiting.begin(), r.waiting.end(), [](const WaitingItem& a, const WaitingItem& b) {
    if (a.past_due != b.past_due) return a.past_due;
    return a.waiting_hours - a.limit_hours > b.waiting_hours - b.limit_hours;
  });
  for (auto& [key, o] : legs) r.on_time.push_back(o);
  for (auto& [kind, hours] : transit) {
    std::sort(hours.begin(), hours.end());
    r.transit_hours[kind] = {static_cast<int>(hours.size()), percentile(hours, 50), percentile(hours, 90),
                             hours.back()};
  }
  for (const auto& [code, count] : coded) r.failed_attempts.push_back({code, std::string(describe_vi(code)), count});
  for (auto& [reason, count] : reasons) r.failed_attempts.push_back({std::nullopt, reason, count});
  std::stable_sort(r.failed_attempts.begin(), r.failed_attempts.end(),
                   [](const auto& a, const auto& b) { return a.count > b.count; });
  return r;
}

std::optional<Grouping> parse_grouping(std::string_view text) {
  if (text == "day") return Grouping::day;
  if (text == "week") return Grouping::week;
  if (text == "month") return Grouping::month;
  return std::nullopt;
}

std::vector<Bucket> split_period(UnixMillis from, UnixMillis to, Grouping grouping) {
  constexpr UnixMillis kDay = 24 * kHour;
  constexpr UnixMillis kOffset = 7 * kHour;  // Vietnam
  std::vector<Bucket> out;
  UnixMillis start = from;
  while (start < to) {
    const UnixMillis local = start + kOffset;
    const std::int64_t day = local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
    std::int64_t next_day = day + 1;
    if (grouping == Grouping::week) {
      const auto weekday = ((day % 7) + 7 + 3) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
      next_day = day + 7 - weekday;
    } else if (grouping == Grouping::month) {
      using namespace std::chrono;
      const year_month_day ymd{sys_days{days{day}}};
      const auto first_next = year_month_day{ymd.year() / ymd.month() / 1} + months{1};
      next_day = sys_days{first_next}.time_since_epoch().count();
    }
    const UnixMillis end = std::min(to, next_day * kDay - kOffset);
    out.push_back({start, end});
    start = end;
  }
  return out;
}

std::map<std::string, std::map<std::string, int>> states_at(const std::vector<ReportItem>& items, UnixMillis t) {
  std::map<std::string, std::map<std::string, int>> out;
  for (const auto& item : items) {
    const UnixMillis born =
        item.events.empty() ? item.created_at : std::min(item.created_at, item.events.front().occurred_at);
    if (born >= t) continue;
    std::vector<EventCode> codes;
    for (const auto& e : item.events) {
      if (e.occurred_at < t) codes.push_back(e.code);
    }
    ++out[std::string(to_string(item.kind))][std::string(to_string(replay(item.kind, codes).state))];
  }
  return out;
}

std::string csv_field(std::string_view text) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) about std::string::insert at the front.
  std::string value;
  value.reserve(text.size() + 1);
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) value.push_back('\'');
  value.append(text);
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace dpost
