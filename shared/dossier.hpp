#pragma once

#include "clock.hpp"
#include "delivery_rules.hpp"
#include "item_id.hpp"
#include "journey.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dpost {

// Which legs the citizen chose (QĐ 45/2016 art. 5).
enum class ServiceOption { send, receive, both };
std::string_view to_string(ServiceOption option);
std::optional<ServiceOption> parse_service_option(std::string_view text);

// A field that failed validation while mapping JSON: becomes HTTP 422 (or 400 for wrong JSON types).
struct FieldError {
  bool malformed = false;  // wrong JSON type or structure (400) rather than an invalid value (422)
  std::string field;       // JSON path, e.g. "applicant.name"
  std::string code;        // snake_case, e.g. "bad_check_digit", "missing_field"
  std::string message;     // English sentence naming the field
};

struct Applicant {
  std::string name;
  std::string phone;
  std::string address;
  std::string id_number;
};

// One paper handed over at pickup, as listed on the receipt (phiếu gửi hồ sơ): the clerk and the citizen count
// them together against the procedure's published list (QĐ 45/2016).
enum class CopyKind { original, certified_copy, copy };
std::string_view to_string(CopyKind kind);  // "original", "certified_copy", "copy"
std::optional<CopyKind> parse_copy_kind(std::string_view text);
std::string_view describe_vi(CopyKind kind);  // "Bản chính", "Bản sao chứng thực", "Bản sao"

struct DossierDocument {
  std::string name;
  CopyKind kind = CopyKind::original;
  int count = 1;  // 1..99
};

// POST /api/v1/dossiers body (design.md section 6).
struct NewDossierRequest {
  std::string procedure_code;
  std::string procedure_name;
  Applicant applicant;
  std::string office;  // site code of the one-stop office
  ServiceOption service = ServiceOption::both;
  std::optional<std::string> dossier_code;
  std::optional<std::string> due_date;     // hẹn trả, "YYYY-MM-DD"
  std::vector<DossierDocument> documents;  // "documents": [{"name", "kind", "count"}], at most 50
  std::optional<std::int64_t> fee_vnd;     // "fee_vnd": fees collected at pickup (phí, lệ phí), 0..100,000,000
  // "procedure": {"category"}: the field (lĩnh vực, e.g. "Hộ tịch"), all that public tracking shows of it.
  std::optional<std::string> procedure_category = std::nullopt;
  // "processing_days": the procedure's time limit in working days (0..365), counted from the office's
  // receipt by the dossier's calendar (deadline.hpp); an alternative to a printed due_date, not both.
  std::optional<int> processing_days = std::nullopt;
};

// The ID document the clerk checked: its type and the number masked (mask_id_number), never the full number.
struct IdDocument {
  IdDocumentType type = IdDocumentType::cccd;
  std::string number_masked;
};

// Giấy ủy quyền: what lets someone other than the applicant take a result.
struct Authorization {
  std::string number;  // reference or number of the letter
  std::string date;    // "YYYY-MM-DD"
};

struct Recipient {
  std::string name;
  bool id_checked = false;
  std::optional<std::string> relation;  // present when the recipient is not the applicant
  std::optional<IdDocument> id_document = std::nullopt;
  std::optional<Authorization> authorization = std::nullopt;  // required with a relation
};

// What the receiving side of a two-party handoff found wrong (RCV at the office, EMA of a result at the post,
// EMG/EDD at a post office): recorded with the confirmation, shown to supervisors.
enum class HandoffIssue { seal_broken, envelope_damaged, document_missing, wet, other };
inline constexpr std::array kAllHandoffIssues{HandoffIssue::seal_broken, HandoffIssue::envelope_damaged,
                                              HandoffIssue::document_missing, HandoffIssue::wet, HandoffIssue::other};
std::string_view to_string(HandoffIssue issue);
std::optional<HandoffIssue> parse_handoff_issue(std::string_view text);
std::string_view describe_vi(HandoffIssue issue);
std::string_view describe_en(HandoffIssue issue);
// Codes of the receiving side of a handoff (RCV, EMA, EMG, EDD): they may carry "seal_intact" and "issue".
bool is_confirmation(EventCode code);

// One scan as a device sends it (design.md section 6).
struct ScanRequest {
  std::string event_id;  // normalized (lower-case) UUID
  ItemId item_id;
  EventCode code;
  std::string site;
  UnixMillis occurred_at;
  std::optional<std::string> reason;
  std::optional<Recipient> recipient;
  std::optional<std::string> device;
  // Confirmations (RCV, EMA): was the seal intact, and what was wrong. seal_intact false implies seal_broken.
  std::optional<bool> seal_intact = std::nullopt;
  std::optional<HandoffIssue> issue = std::nullopt;
  // Scanner devices sign each scan (signing.hpp): their counter and the Ed25519 signature.
  std::optional<std::int64_t> seq = std::nullopt;
  std::optional<std::string> signature = std::nullopt;  // base64, as sent
  // Failed attempts (EMH): the structured reason beside the free text, and what was done (required).
  std::optional<FailureReason> reason_code = std::nullopt;
  std::optional<FailureAction> action = std::nullopt;
};

// The facts of issue 7 (reason_code, action, the recipient's ID document and authorization) as one text for
// hashes and signatures: "key=value" lines, and empty when none is present, so that texts of events without
// them stay exactly as they were before these fields existed.
std::string delivery_facts_text(const std::optional<FailureReason>& reason_code,
                                const std::optional<FailureAction>& action, const std::optional<Recipient>& recipient);

// Map and validate JSON into requests. Limits: names and reasons 1..200 chars, addresses up to 500,
// phone 6..20 of [0-9+ ], id_number up to 20. An EMH needs an "action" (400 when missing or unknown) and a reason:
// the free text "reason", or a "reason_code" other than "other". A recipient with a "relation" (not the
// applicant) needs an "authorization" (400). parse_scan cannot know the item's kind: whether an EMI needs a
// recipient (requires_recipient()) and an ID check (requires_id_check()) is checked once the item is known.
// A scan's item_id with a bad check digit is FieldError{code: "bad_check_digit"} (422).
std::variant<NewDossierRequest, FieldError> parse_new_dossier(const nlohmann::json& body);
std::variant<ScanRequest, FieldError> parse_scan(const nlohmann::json& body);

}  // namespace dpost
