#pragma once

// Failed deliveries, returns and hand-over of results (issue 7): what a failed attempt (EMH) records, when a
// return to sender (RTS) is allowed beyond what the transition table says, and the ID check at delivery.
// Pure functions: no storage, no clock.

#include "calendar.hpp"
#include "clock.hpp"
#include "journey.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dpost {

// Why an attempt failed ("reason_code" on the wire), beside the free-text "reason".
enum class FailureReason { absent, refused, wrong_address, office_closed, moved, no_id, other };
inline constexpr std::array kAllFailureReasons{
    FailureReason::absent, FailureReason::refused, FailureReason::wrong_address, FailureReason::office_closed,
    FailureReason::moved,  FailureReason::no_id,   FailureReason::other};
std::string_view to_string(FailureReason reason);
std::optional<FailureReason> parse_failure_reason(std::string_view text);
std::string_view describe_vi(FailureReason reason);
std::string_view describe_en(FailureReason reason);

// What the clerk did about it ("action" on the wire, required on every EMH).
enum class FailureAction { redeliver, hold_at_post_office, return_to_sender };
inline constexpr std::array kAllFailureActions{FailureAction::redeliver, FailureAction::hold_at_post_office,
                                               FailureAction::return_to_sender};
std::string_view to_string(FailureAction action);
std::optional<FailureAction> parse_failure_action(std::string_view text);
std::string_view describe_vi(FailureAction action);
std::string_view describe_en(FailureAction action);

// The ID document a recipient showed at delivery of a result.
enum class IdDocumentType { cccd, cmnd, passport, other };
inline constexpr std::array kAllIdDocumentTypes{IdDocumentType::cccd, IdDocumentType::cmnd, IdDocumentType::passport,
                                                IdDocumentType::other};
std::string_view to_string(IdDocumentType type);
std::optional<IdDocumentType> parse_id_document_type(std::string_view text);
std::string_view describe_vi(IdDocumentType type);

// Only the last 4 characters stay readable ("079201001234" -> "********1234"); idempotent, so an already masked
// number passes unchanged. A number of 4 characters or fewer is masked whole. The full number is never stored.
std::string mask_id_number(std::string_view number);

// True when at least `days` working days of `calendar` lie after the local calendar day of `first_ms` up to and
// including the day of `last_ms`. Weekends and the calendar's holidays do not count: with the Vietnamese
// calendar, Friday then Tuesday is 2 apart, Friday then Monday 1 (and 0 when that Monday is a holiday). False
// when last is before first. The server passes the calendar frozen with the item's dossier (calendar.hpp).
bool at_least_working_days_apart(const WorkingCalendar& calendar, std::int64_t first_ms, std::int64_t last_ms,
                                 int days);

// Whether the recipient may ask for a new delivery (a preferred day, a note for the postman): after a failed
// first attempt (attempt_failed), on a leg that comes to the citizen (a result, or a document sent back). A
// dossier travels to its office, so its failed attempt is not the citizen's to book.
constexpr bool redelivery_can_be_asked(ItemKind kind, ItemState state) {
  return kind != ItemKind::dossier && state == ItemState::attempt_failed;
}

// Working days the first and the last failed attempt must be apart before a return after two attempts.
inline constexpr int kReturnAfterWorkingDays = 2;

// A failed attempt of the item's history, in order of occurrence.
struct FailedAttempt {
  UnixMillis occurred_at = 0;
  std::optional<FailureReason> reason_code;  // absent on events recorded before reason codes existed
};

struct RuleRefusal {
  std::string code;     // stable snake_case error code
  std::string message;  // English sentence
};

// The rules beyond the transition table for an event `code` on an item in state `from`, given the failed
// attempts that happened before it (oldest first):
// - RTS from attempt_failed only when that attempt was refused ("return_needs_refusal");
// - RTS from attempts_exhausted when the last attempt was refused, or when the first and the last failed attempt
//   are at least kReturnAfterWorkingDays working days of `calendar` apart ("attempts_too_close");
// - EDG from attempts_exhausted (one more attempt) only while such a return is not yet allowed ("return_due").
std::optional<RuleRefusal> check_delivery_rules(ItemState from, EventCode code, std::span<const FailedAttempt> failures,
                                                const WorkingCalendar& calendar);

}  // namespace dpost
