#include "deadline.hpp"

#include <algorithm>

namespace dpost {
namespace {

std::optional<UnixMillis> first(const DeadlineItem& item, EventCode code) {
  for (const auto& e : item.events) {
    if (e.code == code) return e.at;
  }
  return std::nullopt;
}

// Delivered before any return began: a returned result never completes its leg.
std::optional<UnixMillis> delivered(const DeadlineItem& item) {
  for (const auto& e : item.events) {
    if (e.code == EventCode::RTS) return std::nullopt;
    if (e.code == EventCode::EMI) return e.at;
  }
  return std::nullopt;
}

LegVerdict judge_leg(const DeadlineItem& item, const DeadlineInput& input, const RuleSet& rules, UnixMillis now) {
  LegVerdict v;
  v.item_id = item.item_id;
  v.kind = item.kind;
  v.limit_days = rules.limits.days(input.province, input.area);
  std::optional<UnixMillis> start = first(item, EventCode::EMA);
  if (item.kind == ItemKind::result) {
    if (auto handed = first(item, EventCode::RES)) start = handed;
  }
  if (!start) {
    v.timeliness = judge(rules.calendar, item.events.empty() ? input.created_at : item.events.front().at,
                         std::nullopt, std::nullopt, now);
    return v;
  }
  v.timeliness = judge(rules.calendar, *start, rules.calendar.due(*start, v.limit_days), delivered(item), now);
  return v;
}

}  // namespace

DossierVerdict judge_dossier(const DeadlineInput& input, const RuleSet& rules, UnixMillis now) {
  const auto& cal = rules.calendar;
  DossierVerdict out;
  const DeadlineItem* dossier_item = nullptr;
  const DeadlineItem* result_item = nullptr;
  for (const auto& item : input.items) {
    if (item.kind == ItemKind::return_item) continue;
    if (item.kind == ItemKind::dossier && !dossier_item) dossier_item = &item;
    if (item.kind == ItemKind::result) result_item = &item;  // the latest result item counts
    out.legs.push_back(judge_leg(item, input, rules, now));
  }

  // Where the office's clock starts.
  if (dossier_item && input.service != ServiceOption::receive) {
    out.received_at = first(*dossier_item, EventCode::RCV);
  } else {
    out.received_at = input.created_at;
  }
  out.paused = std::any_of(input.pauses.begin(), input.pauses.end(), [](const auto& p) { return !p.until; });

  std::optional<UnixMillis> due;
  if (out.received_at) {
    if (input.processing_days) {
      due = cal.due(*out.received_at, *input.processing_days, input.pauses);
    } else if (input.due_date) {
      const auto printed = cal.end_of_date(*input.due_date);
      if (input.pauses.empty() || !printed) {
        due = printed;
      } else {
        // The printed date moves on by the working days the clock stood still.
        const int days = cal.working_days_between(cal.at(cal.day_zero(*out.received_at), cal.open_minute()), *printed);
        due = cal.due(*out.received_at, days, input.pauses);
      }
    }
  } else if (input.due_date) {
    due = cal.end_of_date(*input.due_date);  // not received yet: the printed date is all there is
  }

  std::optional<UnixMillis> left_office;
  if (result_item) {
    left_office = first(*result_item, EventCode::RES);
    if (!left_office) left_office = first(*result_item, EventCode::EMA);
  }
  out.timeliness = judge(cal, out.received_at.value_or(input.created_at), due, left_office, now, out.paused);

  for (const auto& leg : out.legs) {
    if (leg.timeliness.status != "late") continue;
    const char* part = leg.kind == ItemKind::dossier ? "dossier_leg" : "result_leg";
    if (std::find(out.late_parts.begin(), out.late_parts.end(), part) == out.late_parts.end())
      out.late_parts.emplace_back(part);
  }
  if (out.timeliness.status == "late") out.late_parts.emplace_back("processing");
  std::sort(out.late_parts.begin(), out.late_parts.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& s) { return s == "dossier_leg" ? 0 : s == "processing" ? 1 : 2; };
    return rank(a) < rank(b);
  });
  return out;
}

}  // namespace dpost
