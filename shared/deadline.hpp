#pragma once
// Due dates and verdicts of one dossier and its items under the rules frozen with it (calendar.hpp).
//
// - The dossier's due date (hẹn trả) counts from the office's receipt (RCV of the dossier item; the dossier's
//   registration when it never travelled by post): either `processing_days` working days, or the printed
//   `due_date`, moved on by the working days its clock was paused. The office meets it when the result leaves
//   it (RES, or the post's EMA of the result).
// - Each postal leg (dossier item: EMA -> EMI at the office; result item: RES or EMA -> EMI to the citizen)
//   may take the working days the leg limits give for the province and area of the site where the dossier
//   was registered (the citizen's side).

#include "calendar.hpp"
#include "dossier.hpp"
#include "journey.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dpost {

struct DeadlineEvent {
  EventCode code = EventCode::EMA;
  UnixMillis at = 0;
};
struct DeadlineItem {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  std::vector<DeadlineEvent> events;  // in order of occurrence
};
struct DeadlineInput {
  ServiceOption service = ServiceOption::both;
  std::optional<std::string> due_date;  // YYYY-MM-DD as printed on the receipt
  std::optional<int> processing_days;   // working days, when the due date is to be computed
  UnixMillis created_at = 0;
  std::string province;  // of the site the dossier was registered at
  std::optional<Area> area;
  std::vector<WorkingCalendar::Pause> pauses;
  std::vector<DeadlineItem> items;
};

struct LegVerdict {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  int limit_days = 0;
  Timeliness timeliness;  // "open" while the leg has not started
};
struct DossierVerdict {
  Timeliness timeliness;                  // the office's part: hẹn trả against the result leaving the office
  std::optional<UnixMillis> received_at;  // by the office: where its clock starts
  bool paused = false;                    // a supplement is awaited now
  std::vector<std::string> late_parts;    // why it is late: "dossier_leg", "processing", "result_leg"
  std::vector<LegVerdict> legs;           // dossier and result items (return items have no limit)
};

DossierVerdict judge_dossier(const DeadlineInput& input, const RuleSet& rules, UnixMillis now);

}  // namespace dpost
