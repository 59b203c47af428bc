#pragma once
// Supervisor reports over a set of items and their events: counts by state, what waits too long at its step,
// on-time rates per leg and site, transit time percentiles, failed attempts by reason, returns. Pure functions
// over plain rows (the server loads them; tests build them by hand), so every figure can be checked by hand.

#include "calendar.hpp"
#include "clock.hpp"
#include "delivery_rules.hpp"
#include "journey.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dpost {

struct ReportEvent {
  EventCode code = EventCode::EMA;
  std::string site;
  UnixMillis occurred_at = 0;
  std::string reason;                        // EMH: the clerk's free text
  std::optional<FailureReason> reason_code;  // EMH: the coded reason, when given
  std::optional<FailureAction> action;       // EMH: what the clerk did about it
};

struct ReportItem {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string office;  // the dossier's one-stop office
  std::optional<std::string> dossier_code;
  std::optional<std::string> due_date;  // YYYY-MM-DD, the result's due date (hẹn trả)
  UnixMillis created_at = 0;
  std::vector<ReportEvent> events;  // in order of occurrence
  // From the dossier's frozen deadline rules (deadline.hpp), when the server judged it: the leg's due instant,
  // the dossier's (hẹn trả, after pauses), and why the dossier is late. Without them the hour limits apply.
  std::int64_t dossier_id = 0;
  std::optional<UnixMillis> leg_due_at;
  std::optional<UnixMillis> dossier_due_at;
  std::vector<std::string> late_parts;
  // The calendar frozen with the dossier, for the working days between failed attempts (delivery_rules.hpp);
  // the embedded Vietnamese calendar when absent.
  std::shared_ptr<const WorkingCalendar> calendar;
};

// What an item waiting after a failed attempt needs next, by the rules of check_delivery_rules(): a return to
// the office (RTS is allowed: the recipient refused, or two attempts far enough apart failed), or another
// attempt (EDG: a redelivery, or a second invitation to collect a result held at the post office).
enum class NextStep { attempt_again, return_to_office };
std::string_view to_string(NextStep step);

// How long an item may stay at each step before it "waits too long", in hours; and how long a leg may take.
struct ReportLimits {
  std::map<ItemState, int> step_hours;
  int dossier_leg_hours = 48;  // EMA to EMI of a dossier: the post's transit to the office
  int result_leg_hours = 48;   // RES to EMI of a result when the dossier has no due date
  static ReportLimits defaults(int confirm_within_minutes = 240);
};

struct WaitingItem {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string site;  // where it waits (the last event's site; the office for a new item)
  UnixMillis since = 0;
  long long waiting_hours = 0;
  int limit_hours = 0;
  std::optional<std::string> dossier_code;
  std::optional<std::string> due_date;
  bool past_due = false;                // the dossier's due date has passed and its result has not reached the citizen
  std::vector<std::string> late_parts;  // dossier_leg, processing, result_leg
  std::optional<UnixMillis> due_at;     // the dossier's due instant under its rules, when known
  // After a failed attempt (attempt_failed, attempts_exhausted): the last attempt's coded reason and action (no
  // free-text note: reports carry no personal data), and what is due next.
  std::optional<FailureReason> failure_reason;
  std::optional<FailureAction> failure_action;
  std::optional<NextStep> next_step;
};

struct OnTime {
  std::string site;
  std::string leg;  // "dossier" (to the office) or "result" (back to the citizen)
  int completed = 0;
  int on_time = 0;
  int late = 0;
};

struct Percentiles {
  int count = 0;
  double p50 = 0, p90 = 0, max = 0;  // hours
};

// Failed attempts of one reason: a coded reason (other than "other") groups every attempt that gave it, whatever
// note came with it; without one, the free text (trimmed) is the group, as before codes existed.
struct FailedAttempts {
  std::optional<FailureReason> reason_code;
  std::string reason;  // describe_vi(reason_code), or the free text
  int count = 0;
  bool operator==(const FailedAttempts&) const = default;
};

struct Report {
  std::map<std::string, std::map<std::string, int>> by_state;  // kind -> state -> count
  std::vector<WaitingItem> waiting;                            // longest wait first
  std::vector<OnTime> on_time;                                 // by site, then leg
  std::map<std::string, Percentiles> transit_hours;            // kind -> hours from EMA to EMI
  std::vector<FailedAttempts> failed_attempts;                 // most frequent first
  int returns = 0;                                             // RTS in the period
};

// `from`..`to` bounds the period for completed legs, transit times, failed attempts and returns; counts by state
// and the waiting list are as of `now`. Legs are attributed to the post office that accepted (dossier) or
// delivered (result) the item and to the dossier's office.
Report build_report(const std::vector<ReportItem>& items, UnixMillis from, UnixMillis to, UnixMillis now,
                    const ReportLimits& limits);

// A report period cut into days, ISO weeks (Monday first) or calendar months, Vietnam time; the first and
// last buckets are clipped to [from, to).
enum class Grouping { day, week, month };
std::optional<Grouping> parse_grouping(std::string_view text);
struct Bucket {
  UnixMillis from = 0;
  UnixMillis to = 0;  // exclusive
};
std::vector<Bucket> split_period(UnixMillis from, UnixMillis to, Grouping grouping);

// How many items were in each state at `t` (kind -> state -> count), replaying each item's events before `t`;
// an item exists from its first event or its creation, whichever is earlier.
std::map<std::string, std::map<std::string, int>> states_at(const std::vector<ReportItem>& items, UnixMillis t);

// The nearest-rank percentile of sorted values (p in 0..100); 0 for none.
double percentile(const std::vector<double>& sorted, double p);

// RFC 4180 field: quoted when it holds a comma, quote or line break; formula-leading text is defanged for
// spreadsheets (a leading =, +, - or @ gets a ').
std::string csv_field(std::string_view text);

}  // namespace dpost
