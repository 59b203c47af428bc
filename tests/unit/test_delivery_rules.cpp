// Failed deliveries and returns (issue 7): the working-days rule, the rules beyond the transition table, the
// wire names of reasons and actions, and ID number masking.
#include "clock.hpp"
#include "delivery_rules.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using dpost::EventCode;
using dpost::FailedAttempt;
using dpost::FailureReason;
using dpost::ItemState;

// A Vietnam local time, e.g. at("2026-12-04T10:00") (a Friday).
std::int64_t at(const std::string& local) {
  auto t = dpost::parse_rfc3339(local + ":00+07:00");
  REQUIRE(t.has_value());
  return *t;
}

const dpost::WorkingCalendar& vn() {
  return dpost::WorkingCalendar::vietnam();
}

// The rules under the embedded Vietnamese calendar, as for a dossier received with the default rules.
std::optional<dpost::RuleRefusal> rules(ItemState from, EventCode code, std::span<const FailedAttempt> failures) {
  return dpost::check_delivery_rules(from, code, failures, vn());
}

bool at_least_working_days_apart(std::int64_t first, std::int64_t last, int days) {
  return dpost::at_least_working_days_apart(vn(), first, last, days);
}

}  // namespace

TEST_CASE("working days apart: weekends do not count") {
  // 2026-12-04 is a Friday.
  CHECK(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-08T09:00"), 2));        // Fri -> Tue
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-07T17:00"), 2));  // Fri -> Mon
  CHECK(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-07T17:00"), 1));        // Fri -> Mon
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-06T17:00"), 1));  // Fri -> Sun
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-07T08:00"), at("2026-12-08T18:00"), 2));  // Mon -> Tue
  CHECK(at_least_working_days_apart(at("2026-12-07T18:00"), at("2026-12-09T08:00"), 2));        // Mon -> Wed
  CHECK(at_least_working_days_apart(at("2026-12-05T10:00"), at("2026-12-08T10:00"), 2));        // Sat -> Tue
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-05T10:00"), at("2026-12-07T10:00"), 2));  // Sat -> Mon
  CHECK(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-18T10:00"), 10));       // two weeks
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-17T10:00"), 10));
}

TEST_CASE("working days apart: the day is Vietnam's, not UTC's") {
  // 2026-12-08 00:30 in Hanoi is still Monday 17:30 UTC: counted as Tuesday.
  CHECK(at_least_working_days_apart(at("2026-12-04T10:00"), at("2026-12-08T00:30"), 2));
  // Friday 23:30 in Hanoi is Friday 16:30 UTC; Monday 06:30 in Hanoi is Sunday 23:30 UTC: one working day.
  CHECK(at_least_working_days_apart(at("2026-12-04T23:30"), at("2026-12-07T06:30"), 1));
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-04T23:30"), at("2026-12-07T06:30"), 2));
}

TEST_CASE("working days apart: edge cases") {
  const auto fri = at("2026-12-04T10:00");
  CHECK(at_least_working_days_apart(fri, fri, 0));
  CHECK_FALSE(at_least_working_days_apart(fri, fri, 1));
  CHECK_FALSE(at_least_working_days_apart(fri, fri - 1, 0));                 // last before first
  CHECK_FALSE(at_least_working_days_apart(at("2026-12-08T10:00"), fri, 2));  // reversed
  // Far apart: stops early instead of walking every day.
  CHECK(at_least_working_days_apart(0, 253402300799000, 2));
}

TEST_CASE("delivery rules: a return after one failed attempt needs a refusal") {
  const std::vector<FailedAttempt> refused{{at("2026-12-04T10:00"), FailureReason::refused}};
  const std::vector<FailedAttempt> absent{{at("2026-12-04T10:00"), FailureReason::absent}};
  const std::vector<FailedAttempt> unknown{{at("2026-12-04T10:00"), std::nullopt}};
  CHECK_FALSE(rules(ItemState::attempt_failed, EventCode::RTS, refused));
  auto r = rules(ItemState::attempt_failed, EventCode::RTS, absent);
  REQUIRE(r);
  CHECK(r->code == "return_needs_refusal");
  CHECK(rules(ItemState::attempt_failed, EventCode::RTS, unknown));
  CHECK(rules(ItemState::attempt_failed, EventCode::RTS, {}));
  // A second attempt is always possible after the first.
  CHECK_FALSE(rules(ItemState::attempt_failed, EventCode::EDG, absent));
  CHECK_FALSE(rules(ItemState::attempt_failed, EventCode::EDG, refused));
}

TEST_CASE("delivery rules: a return after two attempts needs them two working days apart") {
  const auto fri = at("2026-12-04T10:00");
  const std::vector<FailedAttempt> close{{fri, FailureReason::absent}, {at("2026-12-07T10:00"), FailureReason::absent}};
  const std::vector<FailedAttempt> apart{{fri, FailureReason::absent}, {at("2026-12-08T10:00"), FailureReason::moved}};
  auto r = rules(ItemState::attempts_exhausted, EventCode::RTS, close);
  REQUIRE(r);
  CHECK(r->code == "attempts_too_close");
  CHECK(r->message.find("2026-12-04") != std::string::npos);
  CHECK(r->message.find("2026-12-07") != std::string::npos);
  CHECK_FALSE(rules(ItemState::attempts_exhausted, EventCode::RTS, apart));

  // Too close: one more attempt is allowed; far enough: the return is due instead.
  CHECK_FALSE(rules(ItemState::attempts_exhausted, EventCode::EDG, close));
  auto due = rules(ItemState::attempts_exhausted, EventCode::EDG, apart);
  REQUIRE(due);
  CHECK(due->code == "return_due");

  // First and last count, whatever lies between: a third attempt on Tuesday allows the return.
  const std::vector<FailedAttempt> three{{fri, FailureReason::absent},
                                         {at("2026-12-07T10:00"), FailureReason::absent},
                                         {at("2026-12-08T10:00"), std::nullopt}};
  CHECK_FALSE(rules(ItemState::attempts_exhausted, EventCode::RTS, three));

  // A refusal at the last attempt allows the return at once, as after the first attempt.
  const std::vector<FailedAttempt> refused_last{{fri, FailureReason::absent},
                                                {at("2026-12-07T10:00"), FailureReason::refused}};
  CHECK_FALSE(rules(ItemState::attempts_exhausted, EventCode::RTS, refused_last));
  CHECK(rules(ItemState::attempts_exhausted, EventCode::EDG, refused_last));
}

TEST_CASE("delivery rules: the dossier's calendar decides, so a holiday between attempts does not count") {
  // Monday 2026-12-07 declared a day off: Friday then Tuesday is only one working day apart under that calendar.
  const auto holiday_monday =
      dpost::WorkingCalendar::parse(R"({"fixed_holidays":["01-01"],"years":{"2026":{"holidays":["2026-12-07"]}}})");
  const std::vector<FailedAttempt> fri_tue{{at("2026-12-04T10:00"), FailureReason::absent},
                                           {at("2026-12-08T10:00"), FailureReason::absent}};
  CHECK_FALSE(rules(ItemState::attempts_exhausted, EventCode::RTS, fri_tue));
  auto r = dpost::check_delivery_rules(ItemState::attempts_exhausted, EventCode::RTS, fri_tue, holiday_monday);
  REQUIRE(r);
  CHECK(r->code == "attempts_too_close");
  CHECK_FALSE(dpost::check_delivery_rules(ItemState::attempts_exhausted, EventCode::EDG, fri_tue, holiday_monday));
  // Wednesday is the second working day after Friday under it.
  const std::vector<FailedAttempt> fri_wed{{at("2026-12-04T10:00"), FailureReason::absent},
                                           {at("2026-12-09T10:00"), FailureReason::absent}};
  CHECK_FALSE(dpost::check_delivery_rules(ItemState::attempts_exhausted, EventCode::RTS, fri_wed, holiday_monday));
  CHECK(dpost::at_least_working_days_apart(holiday_monday, at("2026-12-04T10:00"), at("2026-12-09T10:00"), 2));
  CHECK_FALSE(dpost::at_least_working_days_apart(holiday_monday, at("2026-12-04T10:00"), at("2026-12-08T10:00"), 2));
  // A national holiday of the embedded calendar counts too: 2 September 2026 is a Wednesday.
  CHECK_FALSE(at_least_working_days_apart(at("2026-09-01T10:00"), at("2026-09-03T10:00"), 2));
  CHECK(at_least_working_days_apart(at("2026-09-01T10:00"), at("2026-09-04T10:00"), 2));
}

TEST_CASE("delivery rules: other events are left to the transition table") {
  const std::vector<FailedAttempt> none;
  for (auto state : dpost::kAllItemStates) {
    for (auto code : dpost::kAllEventCodes) {
      const bool ruled =
          (code == EventCode::RTS && (state == ItemState::attempt_failed || state == ItemState::attempts_exhausted)) ||
          (code == EventCode::EDG && state == ItemState::attempts_exhausted);
      if (!ruled) CHECK_FALSE(rules(state, code, none));
    }
  }
}

TEST_CASE("delivery rules: wire names round-trip") {
  for (auto r : dpost::kAllFailureReasons) {
    CHECK(dpost::parse_failure_reason(dpost::to_string(r)) == r);
    CHECK_FALSE(dpost::describe_vi(r).empty());
    CHECK_FALSE(dpost::describe_en(r).empty());
  }
  for (auto a : dpost::kAllFailureActions) {
    CHECK(dpost::parse_failure_action(dpost::to_string(a)) == a);
    CHECK_FALSE(dpost::describe_vi(a).empty());
    CHECK_FALSE(dpost::describe_en(a).empty());
  }
  for (auto t : dpost::kAllIdDocumentTypes) CHECK(dpost::parse_id_document_type(dpost::to_string(t)) == t);
  CHECK_FALSE(dpost::parse_failure_reason("Refused"));
  CHECK_FALSE(dpost::parse_failure_action("return"));
  CHECK(dpost::to_string(FailureReason::wrong_address) == "wrong_address");
  CHECK(dpost::to_string(dpost::FailureAction::hold_at_post_office) == "hold_at_post_office");
}

TEST_CASE("id numbers are masked but for the last four characters") {
  CHECK(dpost::mask_id_number("079201001234") == "********1234");
  CHECK(dpost::mask_id_number("********1234") == "********1234");
  CHECK(dpost::mask_id_number("B1234567") == "****4567");
  CHECK(dpost::mask_id_number("1234") == "****");
  CHECK(dpost::mask_id_number("") == "");
}

TEST_CASE("delivery rules: a new delivery is the citizen's to ask for only on a leg that comes to them") {
  using dpost::ItemKind;
  using dpost::ItemState;
  CHECK(dpost::redelivery_can_be_asked(ItemKind::result, ItemState::attempt_failed));
  CHECK(dpost::redelivery_can_be_asked(ItemKind::return_item, ItemState::attempt_failed));
  CHECK_FALSE(dpost::redelivery_can_be_asked(ItemKind::dossier, ItemState::attempt_failed));
  CHECK_FALSE(dpost::redelivery_can_be_asked(ItemKind::result, ItemState::attempts_exhausted));
  CHECK_FALSE(dpost::redelivery_can_be_asked(ItemKind::result, ItemState::out_for_delivery));
}
