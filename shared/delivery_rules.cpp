#include "delivery_rules.hpp"

#include "calendar.hpp"

namespace dpost {

namespace {

std::string format_day(UnixMillis t) {
  return format_date_vn(t);
}

}  // namespace

std::string_view to_string(FailureReason reason) {
  switch (reason) {
    case FailureReason::absent:
      return "absent";
    case FailureReason::refused:
      return "refused";
    case FailureReason::wrong_address:
      return "wrong_address";
    case FailureReason::office_closed:
      return "office_closed";
    case FailureReason::moved:
      return "moved";
    case FailureReason::no_id:
      return "no_id";
    case FailureReason::other:
      return "other";
  }
  return "other";
}

std::optional<FailureReason> parse_failure_reason(std::string_view text) {
  for (auto r : kAllFailureReasons) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::string_view describe_vi(FailureReason reason) {
  switch (reason) {
    case FailureReason::absent:
      return "Người nhận vắng nhà";
    case FailureReason::refused:
      return "Người nhận từ chối nhận";
    case FailureReason::wrong_address:
      return "Sai địa chỉ";
    case FailureReason::office_closed:
      return "Cơ quan đóng cửa";
    case FailureReason::moved:
      return "Người nhận đã chuyển đi";
    case FailureReason::no_id:
      return "Người nhận không xuất trình được giấy tờ tùy thân";
    case FailureReason::other:
      return "Lý do khác";
  }
  return "";
}

std::string_view describe_en(FailureReason reason) {
  switch (reason) {
    case FailureReason::absent:
      return "Recipient absent";
    case FailureReason::refused:
      return "Recipient refused it";
    case FailureReason::wrong_address:
      return "Wrong address";
    case FailureReason::office_closed:
      return "Office closed";
    case FailureReason::moved:
      return "Recipient moved away";
    case FailureReason::no_id:
      return "Recipient could not show an ID document";
    case FailureReason::other:
      return "Other reason";
  }
  return "";
}

std::string_view to_string(FailureAction action) {
  switch (action) {
    case FailureAction::redeliver:
      return "redeliver";
    case FailureAction::hold_at_post_office:
      return "hold_at_post_office";
    case FailureAction::return_to_sender:
      return "return_to_sender";
  }
  return "redeliver";
}

std::optional<FailureAction> parse_failure_action(std::string_view text) {
  for (auto a : kAllFailureActions) {
    if (to_string(a) == text) return a;
  }
  return std::nullopt;
}

std::string_view describe_vi(FailureAction action) {
  switch (action) {
    case FailureAction::redeliver:
      return "Hẹn phát lại";
    case FailureAction::hold_at_post_office:
      return "Lưu tại bưu cục, chờ người nhận đến lấy";
    case FailureAction::return_to_sender:
      return "Chuyển hoàn cho người gửi";
  }
  return "";
}

std::string_view describe_en(FailureAction action) {
  switch (action) {
    case FailureAction::redeliver:
      return "Another delivery attempt";
    case FailureAction::hold_at_post_office:
      return "Held at the post office for collection";
    case FailureAction::return_to_sender:
      return "Return to sender";
  }
  return "";
}

std::string_view to_string(IdDocumentType type) {
  switch (type) {
    case IdDocumentType::cccd:
      return "cccd";
    case IdDocumentType::cmnd:
      return "cmnd";
    case IdDocumentType::passport:
      return "passport";
    case IdDocumentType::other:
      return "other";
  }
  return "other";
}

std::optional<IdDocumentType> parse_id_document_type(std::string_view text) {
  for (auto t : kAllIdDocumentTypes) {
    if (to_string(t) == text) return t;
  }
  return std::nullopt;
}

std::string_view describe_vi(IdDocumentType type) {
  switch (type) {
    case IdDocumentType::cccd:
      return "Căn cước / CCCD";
    case IdDocumentType::cmnd:
      return "CMND";
    case IdDocumentType::passport:
      return "Hộ chiếu";
    case IdDocumentType::other:
      return "Giấy tờ khác";
  }
  return "";
}

std::string mask_id_number(std::string_view number) {
  constexpr std::size_t kVisible = 4;
  std::string out(number);
  const std::size_t hidden = out.size() > kVisible ? out.size() - kVisible : out.size();
  for (std::size_t i = 0; i < hidden; ++i) out[i] = '*';
  return out;
}

bool at_least_working_days_apart(const WorkingCalendar& calendar, std::int64_t first_ms, std::int64_t last_ms,
                                 int days) {
  if (last_ms < first_ms) return false;
  if (days <= 0) return true;
  return calendar.working_days_between(first_ms, last_ms) >= days;
}

std::optional<RuleRefusal> check_delivery_rules(ItemState from, EventCode code,
                                                std::span<const FailedAttempt> failures,
                                                const WorkingCalendar& calendar) {
  const bool last_refused = !failures.empty() && failures.back().reason_code == FailureReason::refused;
  if (from == ItemState::attempt_failed && code == EventCode::RTS) {
    if (last_refused) return std::nullopt;
    return RuleRefusal{"return_needs_refusal",
                       "A return to sender (RTS) after one failed attempt is allowed only when the recipient refused "
                       "the item (reason_code refused); otherwise make a second attempt (EDG)."};
  }
  if (from != ItemState::attempts_exhausted || (code != EventCode::RTS && code != EventCode::EDG)) {
    return std::nullopt;
  }
  const bool far_apart =
      failures.size() >= 2 &&
      at_least_working_days_apart(calendar, failures.front().occurred_at, failures.back().occurred_at,
                                  kReturnAfterWorkingDays);
  const bool return_allowed = last_refused || far_apart;
  if (code == EventCode::RTS && !return_allowed) {
    std::string message =
        "A return to sender (RTS) after failed attempts needs the first and the last of them at least " +
        std::to_string(kReturnAfterWorkingDays) + " working days apart";
    if (failures.size() >= 2) {
      message += " (they were on " + format_day(failures.front().occurred_at) + " and " +
                 format_day(failures.back().occurred_at) + ")";
    }
    message += ": make another delivery attempt (EDG) first.";
    return RuleRefusal{"attempts_too_close", std::move(message)};
  }
  if (code == EventCode::EDG && return_allowed) {
    return RuleRefusal{"return_due",
                       "The failed attempts already allow a return to sender: record RTS instead of another attempt."};
  }
  return std::nullopt;
}

}  // namespace dpost
