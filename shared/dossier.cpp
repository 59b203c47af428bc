#include "dossier.hpp"

#include "text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dpost {

namespace {

using Json = nlohmann::json;

// Limits from dossier.hpp, counted in characters (code points), not bytes.
constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxAddress = 500;
constexpr std::size_t kMaxIdNumber = 20;
constexpr std::size_t kMaxDevice = 100;
constexpr std::size_t kMinPhone = 6;
constexpr std::size_t kMaxPhone = 20;

FieldError invalid(std::string field, std::string code, std::string message) {
  return FieldError{false, std::move(field), std::move(code), std::move(message)};
}

FieldError wrong_type(const std::string& field, std::string_view expected) {
  return FieldError{true, field, "wrong_type", field + " must be " + std::string(expected) + "."};
}

FieldError missing(const std::string& field) {
  return invalid(field, "missing_field", field + " is required.");
}

std::string path(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

bool has_visible_char(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t') return true;
  }
  return false;
}

// Reads a string member. JSON null counts as absent: clients commonly send null for "not given".
// Returns an error, or nullopt with `out` set (or left empty when absent and optional).
std::optional<FieldError> read_string(const Json& object, std::string_view prefix, std::string_view key, bool required,
                                      std::optional<std::string>& out) {
  const std::string field = path(prefix, key);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return missing(field);
    return std::nullopt;
  }
  if (!it->is_string()) return wrong_type(field, "a string");
  out = it->get<std::string>();
  return std::nullopt;
}

// Free text typed by people (names, reasons, addresses): valid UTF-8, no control characters, bounded length.
std::optional<FieldError> check_text(const std::string& field, std::string_view text, std::size_t max_chars,
                                     bool allow_empty) {
  if (!is_clean_text(text)) {
    return invalid(field, "invalid_text", field + " must be valid UTF-8 text without control characters.");
  }
  if (!allow_empty && !has_visible_char(text)) return invalid(field, "invalid_text", field + " must not be empty.");
  if (count_code_points(text) > max_chars) {
    return invalid(field, "too_long", field + " must be at most " + std::to_string(max_chars) + " characters.");
  }
  return std::nullopt;
}

std::optional<FieldError> read_text(const Json& object, std::string_view prefix, std::string_view key, bool required,
                                    std::size_t max_chars, bool allow_empty, std::optional<std::string>& out) {
  if (auto error = read_string(object, prefix, key, required, out)) return error;
  if (!out) return std::nullopt;
  return check_text(path(prefix, key), *out, max_chars, allow_empty);
}

std::optional<FieldError> read_site(const Json& object, std::string_view key, std::string& out) {
  std::optional<std::string> value;
  if (auto error = read_string(object, "", key, true, value)) return error;
  if (!is_valid_site_code(*value)) {
    return invalid(std::string(key), "bad_site_code",
                   std::string(key) + " must be a site code of 1 to 40 letters, digits, '.', '_' or '-'.");
  }
  out = std::move(*value);
  return std::nullopt;
}

std::optional<FieldError> read_object(const Json& object, std::string_view key, bool required, const Json*& out) {
  const std::string field(key);
  auto it = object.find(key);
  out = nullptr;
  if (it == object.end() || it->is_null()) {
    if (required) return missing(field);
    return std::nullopt;
  }
  if (!it->is_object()) return wrong_type(field, "an object");
  out = &*it;
  return std::nullopt;
}

bool is_valid_phone(std::string_view phone) {
  if (phone.size() < kMinPhone || phone.size() > kMaxPhone) return false;
  bool has_digit = false;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (c != '+' && c != ' ') {
      return false;
    }
  }
  return has_digit;
}

bool is_valid_id_number(std::string_view id) {
  // CCCD/CMND are digits; passports add letters. Nothing else belongs in an identity document number.
  if (id.size() > kMaxIdNumber) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// "YYYY-MM-DD", a real calendar date.
bool is_valid_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  // Reuse the RFC 3339 parser's calendar checks (years 1970..9999, days per month, leap years).
  std::string stamp(text);
  stamp += "T00:00:00Z";
  return parse_rfc3339(stamp).has_value();
}

std::string to_upper_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

}  // namespace

std::string_view to_string(ServiceOption option) {
  switch (option) {
    case ServiceOption::send:
      return "send";
    case ServiceOption::receive:
      return "receive";
    case ServiceOption::both:
      return "both";
  }
  return "both";
}

std::optional<ServiceOption> parse_service_option(std::string_view text) {
  if (text == "send") return ServiceOption::send;
  if (text == "receive") return ServiceOption::receive;
  if (text == "both") return ServiceOption::both;
  return std::nullopt;
}

namespace {

constexpr std::size_t kMaxDocuments = 50;
constexpr std::int64_t kMaxFeeVnd = 100'000'000;

// "documents": [{"name", "kind", "count"}]: the papers counted with the citizen at pickup.
std::optional<FieldError> read_documents(const Json& body, std::vector<DossierDocument>& out) {
  auto it = body.find("documents");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return wrong_type("documents", "an array");
  if (it->size() > kMaxDocuments) {
    return invalid("documents", "too_many_documents",
                   "documents lists at most " + std::to_string(kMaxDocuments) + " papers.");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& entry = (*it)[i];
    const std::string prefix = "documents[" + std::to_string(i) + "]";
    if (!entry.is_object()) return wrong_type(prefix, "an object");
    DossierDocument doc;
    std::optional<std::string> text;
    if (auto error = read_text(entry, prefix, "name", true, kMaxName, false, text)) return error;
    doc.name = std::move(*text);
    text.reset();
    if (auto error = read_string(entry, prefix, "kind", false, text)) return error;
    if (text) {
      auto kind = parse_copy_kind(*text);
      if (!kind) {
        return invalid(prefix + ".kind", "unknown_copy_kind",
                       prefix + ".kind must be \"original\", \"certified_copy\" or \"copy\".");
      }
      doc.kind = *kind;
    }
    if (auto c = entry.find("count"); c != entry.end() && !c->is_null()) {
      if (!c->is_number_integer()) return wrong_type(prefix + ".count", "a whole number");
      const auto n = c->get<std::int64_t>();
      if (n < 1 || n > 99) return invalid(prefix + ".count", "bad_count", prefix + ".count must be 1 to 99.");
      doc.count = static_cast<int>(n);
    }
    out.push_back(std::move(doc));
  }
  return std::nullopt;
}

std::optional<FieldError> read_fee(const Json& body, std::optional<std::int64_t>& out) {
  auto it = body.find("fee_vnd");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return wrong_type("fee_vnd", "a whole number of đồng");
  const auto fee = it->get<std::int64_t>();
  if (fee < 0 || fee > kMaxFeeVnd) return invalid("fee_vnd", "bad_fee", "fee_vnd must be 0 to 100,000,000 đồng.");
  out = fee;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(CopyKind kind) {
  switch (kind) {
    case CopyKind::original:
      return "original";
    case CopyKind::certified_copy:
      return "certified_copy";
    case CopyKind::copy:
      return "copy";
  }
  return "original";
}

std::optional<CopyKind> parse_copy_kind(std::string_view text) {
  for (auto kind : {CopyKind::original, CopyKind::certified_copy, CopyKind::copy}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::string_view describe_vi(CopyKind kind) {
  switch (kind) {
    case CopyKind::original:
      return "Bản chính";
    case CopyKind::certified_copy:
      return "Bản sao chứng thực";
    case CopyKind::copy:
      return "Bản sao";
  }
  return "Bản chính";
}

std::variant<NewDossierRequest, FieldError> parse_new_dossier(const nlohmann::json& body) {
  if (!body.is_object()) return FieldError{true, "", "not_an_object", "The request body must be a JSON object."};
  NewDossierRequest request;

  const Json* procedure = nullptr;
  if (auto error = read_object(body, "procedure", true, procedure)) return *error;
  std::optional<std::string> text;
  if (auto error = read_string(*procedure, "procedure", "code", true, text)) return *error;
  if (!is_valid_procedure_code(*text)) {
    return invalid("procedure.code", "bad_procedure_code",
                   "procedure.code must be a procedure code of digits and dots, e.g. 1.005129.");
  }
  request.procedure_code = std::move(*text);
  text.reset();
  if (auto error = read_text(*procedure, "procedure", "name", true, kMaxName, false, text)) return *error;
  request.procedure_name = std::move(*text);
  text.reset();
  if (auto error = read_text(*procedure, "procedure", "category", false, 100, true, text)) return *error;
  if (text && has_visible_char(*text)) request.procedure_category = std::move(*text);

  const Json* applicant = nullptr;
  if (auto error = read_object(body, "applicant", true, applicant)) return *error;
  text.reset();
  if (auto error = read_text(*applicant, "applicant", "name", true, kMaxName, false, text)) return *error;
  request.applicant.name = std::move(*text);
  text.reset();
  if (auto error = read_string(*applicant, "applicant", "phone", false, text)) return *error;
  if (text && !text->empty()) {
    if (!is_valid_phone(*text)) {
      return invalid("applicant.phone", "bad_phone",
                     "applicant.phone must be 6 to 20 characters of digits, '+' and spaces.");
    }
    request.applicant.phone = std::move(*text);
  }
  text.reset();
  if (auto error = read_text(*applicant, "applicant", "address", false, kMaxAddress, true, text)) return *error;
  if (text) request.applicant.address = std::move(*text);
  text.reset();
  if (auto error = read_string(*applicant, "applicant", "id_number", false, text)) return *error;
  if (text) {
    if (!is_valid_id_number(*text)) {
      return invalid("applicant.id_number", "bad_id_number",
                     "applicant.id_number must be at most 20 letters and digits.");
    }
    request.applicant.id_number = std::move(*text);
  }

  if (auto error = read_site(body, "office", request.office)) return *error;

  text.reset();
  if (auto error = read_string(body, "", "service", true, text)) return *error;
  auto service = parse_service_option(*text);
  if (!service) return invalid("service", "unknown_service", "service must be \"send\", \"receive\" or \"both\".");
  request.service = *service;

  text.reset();
  if (auto error = read_string(body, "", "dossier_code", false, text)) return *error;
  if (text && !text->empty()) {
    // Staff type codes by hand: accept lower case, store the canonical upper-case form.
    std::string code = to_upper_ascii(std::move(*text));
    if (!is_valid_dossier_code(code)) {
      return invalid("dossier_code", "bad_dossier_code",
                     "dossier_code must look like H15.50.05.13-261008-0975 (agency-yymmdd-sequence).");
    }
    request.dossier_code = std::move(code);
  }

  text.reset();
  if (auto error = read_string(body, "", "due_date", false, text)) return *error;
  if (text && !text->empty()) {
    if (!is_valid_date(*text)) return invalid("due_date", "bad_date", "due_date must be a real date as YYYY-MM-DD.");
    // A receipt's hẹn trả is a day of this century: 1970-01-01 or 9999-12-31 is a typing or a default value.
    if (*text < "2000-01-01" || *text > "2099-12-31") {
      return invalid("due_date", "bad_date", "due_date must be between 2000-01-01 and 2099-12-31.");
    }
    request.due_date = std::move(*text);
  }
  if (auto it = body.find("processing_days"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) return wrong_type("processing_days", "a whole number of working days");
    const auto days = it->get<std::int64_t>();
    if (days < 0 || days > 365) {
      return invalid("processing_days", "bad_processing_days", "processing_days must be 0 to 365 working days.");
    }
    if (request.due_date) {
      return invalid("processing_days", "due_date_and_processing_days",
                     "Give either due_date (as printed on the receipt) or processing_days, not both.");
    }
    request.processing_days = static_cast<int>(days);
  }
  if (auto error = read_documents(body, request.documents)) return *error;
  if (auto error = read_fee(body, request.fee_vnd)) return *error;
  return request;
}

namespace {

constexpr std::size_t kMinIdNumber = 4;
constexpr std::size_t kMaxAuthorizationNumber = 100;

// "reason_code" and "action" (issue 7): enumerations, so a value outside the list is malformed (400), and
// recorded only on a failed attempt.
std::optional<FieldError> read_failure(const Json& body, EventCode code, std::optional<FailureReason>& reason_code,
                                       std::optional<FailureAction>& action) {
  std::optional<std::string> text;
  if (auto error = read_string(body, "", "reason_code", false, text)) return error;
  if (text) {
    reason_code = parse_failure_reason(*text);
    if (!reason_code) {
      return invalid("reason_code", "unknown_reason_code",
                     "reason_code must be one of absent, refused, wrong_address, office_closed, moved, no_id, "
                     "other.");
    }
  }
  text.reset();
  if (auto error = read_string(body, "", "action", false, text)) return error;
  if (text) {
    action = parse_failure_action(*text);
    if (!action) {
      return invalid("action", "unknown_action",
                     "action must be one of redeliver, hold_at_post_office, return_to_sender.");
    }
  }
  if ((reason_code || action) && code != EventCode::EMH) {
    return invalid(reason_code ? "reason_code" : "action", "not_a_failed_attempt",
                   "reason_code and action are recorded only with a failed delivery attempt (EMH).");
  }
  return std::nullopt;
}

bool is_id_number_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

// "recipient": {"id_document": {"type", "number"}}: the number may come whole or already masked; only its
// masked form goes further (stored, signed, shown).
std::optional<FieldError> read_id_document(const Json& recipient, Recipient& r) {
  const Json* doc = nullptr;
  if (auto error = read_object(recipient, "id_document", false, doc)) {
    error->field = "recipient." + error->field;
    error->message = "recipient." + error->message;
    return error;
  }
  if (!doc) return std::nullopt;
  std::optional<std::string> text;
  if (auto error = read_string(*doc, "recipient.id_document", "type", true, text)) return error;
  auto type = parse_id_document_type(*text);
  if (!type) {
    return invalid("recipient.id_document.type", "unknown_id_document_type",
                   "recipient.id_document.type must be one of cccd, cmnd, passport, other.");
  }
  text.reset();
  if (auto error = read_string(*doc, "recipient.id_document", "number", true, text)) return error;
  std::string number;
  for (char c : *text) {
    if (c != ' ') number.push_back(c);
  }
  const bool valid = number.size() >= kMinIdNumber && number.size() <= kMaxIdNumber &&
                     std::all_of(number.begin(), number.end(), is_id_number_char);
  if (!valid) {
    return invalid("recipient.id_document.number", "bad_id_number",
                   "recipient.id_document.number must be 4 to 20 letters or digits ('*' for masked ones).");
  }
  if (!r.id_checked) {
    return invalid("recipient.id_checked", "id_not_checked",
                   "recipient.id_checked must be true when an ID document is recorded.");
  }
  r.id_document = IdDocument{*type, mask_id_number(number)};
  return std::nullopt;
}

// "recipient": {"authorization": {"number", "date"}} (giấy ủy quyền): required when a relation says the
// recipient is not the applicant.
std::optional<FieldError> read_authorization(const Json& recipient, Recipient& r) {
  const Json* auth = nullptr;
  if (auto error = read_object(recipient, "authorization", false, auth)) {
    error->field = "recipient." + error->field;
    error->message = "recipient." + error->message;
    return error;
  }
  if (auth) {
    std::optional<std::string> number;
    if (auto error =
            read_text(*auth, "recipient.authorization", "number", true, kMaxAuthorizationNumber, false, number)) {
      return error;
    }
    std::optional<std::string> date;
    if (auto error = read_string(*auth, "recipient.authorization", "date", true, date)) return error;
    if (!is_valid_date(*date)) {
      return invalid("recipient.authorization.date", "bad_date",
                     "recipient.authorization.date must be a real date as YYYY-MM-DD.");
    }
    r.authorization = Authorization{std::move(*number), std::move(*date)};
  }
  if (r.relation && !r.authorization) {
    return invalid("recipient.authorization", "authorization_required",
                   "A recipient who is not the applicant (recipient.relation) must show an authorization (giấy ủy "
                   "quyền): recipient.authorization {\"number\", \"date\"}.");
  }
  return std::nullopt;
}

}  // namespace

std::string delivery_facts_text(const std::optional<FailureReason>& reason_code,
                                const std::optional<FailureAction>& action, const std::optional<Recipient>& recipient) {
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value) {
    out.append(key).append("=").append(value).push_back('\n');
  };
  if (reason_code) line("reason_code", to_string(*reason_code));
  if (action) line("action", to_string(*action));
  if (recipient && recipient->id_document) {
    line("id_type", to_string(recipient->id_document->type));
    line("id_number", recipient->id_document->number_masked);
  }
  if (recipient && recipient->authorization) {
    line("authorization_number", recipient->authorization->number);
    line("authorization_date", recipient->authorization->date);
  }
  return out;
}

std::variant<ScanRequest, FieldError> parse_scan(const nlohmann::json& body) {
  if (!body.is_object()) return FieldError{true, "", "not_an_object", "The scan must be a JSON object."};

  std::optional<std::string> text;
  if (auto error = read_string(body, "", "event_id", true, text)) return *error;
  auto event_id = normalize_uuid(*text);
  if (!event_id) return invalid("event_id", "bad_event_id", "event_id must be a UUID (8-4-4-4-12 hex digits).");

  text.reset();
  if (auto error = read_string(body, "", "item_id", true, text)) return *error;
  auto item_id = ItemId::parse(*text);
  if (!item_id) {
    return invalid("item_id", std::string(to_code(item_id.error())),
                   "item_id: " + std::string(describe(item_id.error())));
  }

  text.reset();
  if (auto error = read_string(body, "", "code", true, text)) return *error;
  auto code = parse_event_code(*text);
  if (!code) {
    return invalid("code", "unknown_event_code",
                   "code must be one of EMA, EDD, EDE, EMG, EDG, EMH, EMI, RCV, RES, RTS.");
  }

  std::string site;
  if (auto error = read_site(body, "site", site)) return *error;

  text.reset();
  if (auto error = read_string(body, "", "occurred_at", true, text)) return *error;
  auto occurred_at = parse_rfc3339(*text);
  if (!occurred_at) {
    return invalid("occurred_at", "bad_time",
                   "occurred_at must be an RFC 3339 time with an offset, e.g. 2026-11-23T09:15:00+07:00.");
  }

  std::optional<std::string> reason;
  if (auto error = read_text(body, "", "reason", false, kMaxName, true, reason)) return *error;
  if (reason && !has_visible_char(*reason)) reason.reset();
  std::optional<FailureReason> reason_code;
  std::optional<FailureAction> action;
  if (auto error = read_failure(body, *code, reason_code, action)) return *error;
  // A structured reason says enough on its own, except "other", which the free text must explain.
  const bool reason_given = reason || (reason_code && *reason_code != FailureReason::other);
  if (requires_reason(*code) && !reason_given) {
    return invalid("reason", "reason_required",
                   "reason (or a reason_code other than \"other\") is required for a failed delivery attempt (EMH).");
  }
  if (requires_reason(*code) && !action) {
    return invalid("action", "action_required",
                   "action is required for a failed delivery attempt (EMH): one of redeliver, hold_at_post_office, "
                   "return_to_sender.");
  }

  std::optional<Recipient> recipient;
  const Json* recipient_json = nullptr;
  if (auto error = read_object(body, "recipient", false, recipient_json)) return *error;
  if (recipient_json) {
    Recipient r;
    text.reset();
    if (auto error = read_text(*recipient_json, "recipient", "name", true, kMaxName, false, text)) return *error;
    r.name = std::move(*text);
    auto checked = recipient_json->find("id_checked");
    if (checked == recipient_json->end() || checked->is_null()) return missing("recipient.id_checked");
    if (!checked->is_boolean()) return wrong_type("recipient.id_checked", "true or false");
    r.id_checked = checked->get<bool>();
    if (auto error = read_text(*recipient_json, "recipient", "relation", false, kMaxName, true, r.relation)) {
      return *error;
    }
    if (r.relation && !has_visible_char(*r.relation)) r.relation.reset();
    if (auto error = read_id_document(*recipient_json, r)) return *error;
    if (auto error = read_authorization(*recipient_json, r)) return *error;
    recipient = std::move(r);
  }

  std::optional<std::string> device;
  if (auto error = read_text(body, "", "device", false, kMaxDevice, true, device)) return *error;
  if (device && device->empty()) device.reset();

  ScanRequest scan{std::move(*event_id), std::move(*item_id), *code, std::move(site), *occurred_at, std::move(reason),
                   std::move(recipient), std::move(device)};
  scan.reason_code = reason_code;
  scan.action = action;

  if (auto it = body.find("seal_intact"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return wrong_type("seal_intact", "true or false");
    scan.seal_intact = it->get<bool>();
  }
  text.reset();
  if (auto error = read_string(body, "", "issue", false, text)) return *error;
  if (text) {
    scan.issue = parse_handoff_issue(*text);
    if (!scan.issue) {
      return invalid("issue", "unknown_issue",
                     "issue must be one of seal_broken, envelope_damaged, document_missing, wet, other.");
    }
  }
  if ((scan.seal_intact || scan.issue) && !is_confirmation(scan.code)) {
    return invalid("seal_intact", "not_a_confirmation",
                   "seal_intact and issue are recorded only by the receiving side of a handoff (RCV, EMA, EMG, EDD).");
  }
  if (scan.seal_intact == false && !scan.issue) scan.issue = HandoffIssue::seal_broken;

  if (auto it = body.find("seq"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) return wrong_type("seq", "an integer");
    const auto seq = it->get<std::int64_t>();
    if (seq < 0) return invalid("seq", "bad_seq", "seq must be 0 or more.");
    scan.seq = seq;
  }
  text.reset();
  if (auto error = read_string(body, "", "signature", false, text)) return *error;
  if (text) {
    if (text->empty() || text->size() > 200) return invalid("signature", "bad_signature", "signature is not base64.");
    scan.signature = std::move(*text);
  }
  return scan;
}

std::string_view to_string(HandoffIssue issue) {
  switch (issue) {
    case HandoffIssue::seal_broken:
      return "seal_broken";
    case HandoffIssue::envelope_damaged:
      return "envelope_damaged";
    case HandoffIssue::document_missing:
      return "document_missing";
    case HandoffIssue::wet:
      return "wet";
    case HandoffIssue::other:
      return "other";
  }
  return "other";
}

std::optional<HandoffIssue> parse_handoff_issue(std::string_view text) {
  for (auto issue : kAllHandoffIssues) {
    if (to_string(issue) == text) return issue;
  }
  return std::nullopt;
}

std::string_view describe_vi(HandoffIssue issue) {
  switch (issue) {
    case HandoffIssue::seal_broken:
      return "Niêm phong không còn nguyên vẹn";
    case HandoffIssue::envelope_damaged:
      return "Bì thư bị rách, hư hỏng";
    case HandoffIssue::document_missing:
      return "Thiếu giấy tờ so với phiếu gửi";
    case HandoffIssue::wet:
      return "Bưu gửi bị ướt";
    case HandoffIssue::other:
      return "Vấn đề khác";
  }
  return "";
}

std::string_view describe_en(HandoffIssue issue) {
  switch (issue) {
    case HandoffIssue::seal_broken:
      return "Seal broken";
    case HandoffIssue::envelope_damaged:
      return "Envelope damaged";
    case HandoffIssue::document_missing:
      return "Documents missing against the receipt";
    case HandoffIssue::wet:
      return "Wet";
    case HandoffIssue::other:
      return "Other problem";
  }
  return "";
}

bool is_confirmation(EventCode code) {
  // The receiving side of a handoff: the office (RCV), the post taking a result (EMA) or an item arriving at
  // a post office (EMG, EDD).
  return code == EventCode::RCV || code == EventCode::EMA || code == EventCode::EMG || code == EventCode::EDD;
}

}  // namespace dpost
