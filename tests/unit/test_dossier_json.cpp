#include "dossier.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using nlohmann::json;

namespace {

json valid_dossier() {
  return json::parse(R"({
    "procedure": {"code": "1.005129", "name": "Cấp đổi giấy phép lái xe"},
    "applicant": {"name": "Nguyễn Văn An", "phone": "0912 345 678", "address": "Số 1, phố Huế, Hà Nội",
                  "id_number": "001203004567"},
    "office": "000.00.01.H26",
    "service": "both",
    "dossier_code": "H15.50.05.13-261008-0975",
    "due_date": "2026-12-01",
    "unknown_extra": [1, 2, 3]
  })");
}

json valid_scan() {
  return json::parse(R"({
    "event_id": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
    "item_id": "ee 123 456 785 vn",
    "code": "EMI",
    "site": "BC-100000",
    "occurred_at": "2026-11-23T09:15:00+07:00",
    "recipient": {"name": "Trần Thị Bình", "id_checked": true, "relation": "vợ",
                  "id_document": {"type": "cccd", "number": "0792 0100 1234"},
                  "authorization": {"number": "125/UQ", "date": "2026-11-20"}},
    "device": "pda-07"
  })");
}

const dpost::FieldError& error_of(const std::variant<dpost::NewDossierRequest, dpost::FieldError>& v) {
  REQUIRE(std::holds_alternative<dpost::FieldError>(v));
  return std::get<dpost::FieldError>(v);
}

const dpost::FieldError& error_of(const std::variant<dpost::ScanRequest, dpost::FieldError>& v) {
  REQUIRE(std::holds_alternative<dpost::FieldError>(v));
  return std::get<dpost::FieldError>(v);
}

// Expects a 422-style error with this field and code.
template <class Parse>
void check_invalid(Parse parse, const json& body, const std::string& field, const std::string& code) {
  CAPTURE(body.dump());
  auto result = parse(body);
  const auto& e = error_of(result);
  CHECK_FALSE(e.malformed);
  CHECK(e.field == field);
  CHECK(e.code == code);
  CHECK(e.message.find(field) != std::string::npos);
}

template <class Parse>
void check_malformed(Parse parse, const json& body, const std::string& field) {
  CAPTURE(body.dump());
  auto result = parse(body);
  const auto& e = error_of(result);
  CHECK(e.malformed);
  CHECK(e.field == field);
  CHECK_FALSE(e.message.empty());
}

auto parse_dossier = [](const json& j) { return dpost::parse_new_dossier(j); };
auto parse_scan = [](const json& j) { return dpost::parse_scan(j); };

}  // namespace

TEST_CASE("dossier json: a full valid dossier maps every field") {
  auto result = dpost::parse_new_dossier(valid_dossier());
  REQUIRE(std::holds_alternative<dpost::NewDossierRequest>(result));
  const auto& d = std::get<dpost::NewDossierRequest>(result);
  CHECK(d.procedure_code == "1.005129");
  CHECK(d.procedure_name == "Cấp đổi giấy phép lái xe");
  CHECK(d.applicant.name == "Nguyễn Văn An");
  CHECK(d.applicant.phone == "0912 345 678");
  CHECK(d.applicant.address == "Số 1, phố Huế, Hà Nội");
  CHECK(d.applicant.id_number == "001203004567");
  CHECK(d.office == "000.00.01.H26");
  CHECK(d.service == dpost::ServiceOption::both);
  CHECK(d.dossier_code == "H15.50.05.13-261008-0975");
  CHECK(d.due_date == "2026-12-01");
}

TEST_CASE("dossier json: optional fields may be absent, empty or null") {
  json body = json::parse(R"({"procedure": {"code": "1.005129", "name": "Thủ tục"},
    "applicant": {"name": "An", "phone": "", "address": null}, "office": "X", "service": "send"})");
  auto result = dpost::parse_new_dossier(body);
  REQUIRE(std::holds_alternative<dpost::NewDossierRequest>(result));
  const auto& d = std::get<dpost::NewDossierRequest>(result);
  CHECK(d.applicant.phone.empty());
  CHECK(d.applicant.address.empty());
  CHECK(d.applicant.id_number.empty());
  CHECK(d.service == dpost::ServiceOption::send);
  CHECK_FALSE(d.dossier_code.has_value());
  CHECK_FALSE(d.due_date.has_value());
}

TEST_CASE("dossier json: lower-case dossier code is stored upper case") {
  json body = valid_dossier();
  body["dossier_code"] = "h15.50.05.13-261008-0975";
  auto result = dpost::parse_new_dossier(body);
  REQUIRE(std::holds_alternative<dpost::NewDossierRequest>(result));
  CHECK(std::get<dpost::NewDossierRequest>(result).dossier_code == "H15.50.05.13-261008-0975");
}

TEST_CASE("dossier json: service options round-trip") {
  for (auto option : {dpost::ServiceOption::send, dpost::ServiceOption::receive, dpost::ServiceOption::both}) {
    CHECK(dpost::parse_service_option(dpost::to_string(option)) == option);
  }
  CHECK_FALSE(dpost::parse_service_option("Both").has_value());
}

TEST_CASE("dossier json: wrong JSON types are malformed (400)") {
  check_malformed(parse_dossier, json::array(), "");
  check_malformed(parse_dossier, json("text"), "");
  json body = valid_dossier();
  body["procedure"] = "1.005129";
  check_malformed(parse_dossier, body, "procedure");
  body = valid_dossier();
  body["procedure"]["code"] = 1.005129;
  check_malformed(parse_dossier, body, "procedure.code");
  body = valid_dossier();
  body["applicant"]["name"] = json::array({"An"});
  check_malformed(parse_dossier, body, "applicant.name");
  body = valid_dossier();
  body["applicant"]["phone"] = 912345678;
  check_malformed(parse_dossier, body, "applicant.phone");
  body = valid_dossier();
  body["office"] = 7;
  check_malformed(parse_dossier, body, "office");
  body = valid_dossier();
  body["service"] = true;
  check_malformed(parse_dossier, body, "service");
  body = valid_dossier();
  body["due_date"] = 20261201;
  check_malformed(parse_dossier, body, "due_date");
}

TEST_CASE("dossier json: invalid values (422)") {
  struct Case {
    const char* pointer;
    json value;
    const char* field;
    const char* code;
  };
  const std::string long_name(201, 'a');
  const std::string long_vietnamese_name = [] {
    std::string s;
    for (int i = 0; i < 201; ++i) s += "ễ";
    return s;
  }();
  const Case cases[] = {
      {"/procedure", nullptr, "procedure", "missing_field"},
      {"/procedure/code", nullptr, "procedure.code", "missing_field"},
      {"/procedure/code", "1.00a", "procedure.code", "bad_procedure_code"},
      {"/procedure/name", "", "procedure.name", "invalid_text"},
      {"/procedure/name", long_name, "procedure.name", "too_long"},
      {"/applicant", nullptr, "applicant", "missing_field"},
      {"/applicant/name", nullptr, "applicant.name", "missing_field"},
      {"/applicant/name", "   ", "applicant.name", "invalid_text"},
      {"/applicant/name", "An\n", "applicant.name", "invalid_text"},
      {"/applicant/name", "\xC0\xAF", "applicant.name", "invalid_text"},
      {"/applicant/name", long_vietnamese_name, "applicant.name", "too_long"},
      {"/applicant/phone", "12345", "applicant.phone", "bad_phone"},
      {"/applicant/phone", "091-234-5678", "applicant.phone", "bad_phone"},
      {"/applicant/address", std::string(501, 'x'), "applicant.address", "too_long"},
      {"/applicant/address", "a\x01", "applicant.address", "invalid_text"},
      {"/applicant/id_number", std::string(21, '1'), "applicant.id_number", "bad_id_number"},
      {"/applicant/id_number", "0012 0300", "applicant.id_number", "bad_id_number"},
      {"/office", nullptr, "office", "missing_field"},
      {"/office", "Bưu cục", "office", "bad_site_code"},
      {"/service", nullptr, "service", "missing_field"},
      {"/service", "deliver", "service", "unknown_service"},
      {"/dossier_code", "H15.50.05.13-261308-0975", "dossier_code", "bad_dossier_code"},
      {"/due_date", "2026-02-29", "due_date", "bad_date"},
      {"/due_date", "2026-12-01T00:00:00Z", "due_date", "bad_date"},
      {"/due_date", "01/12/2026", "due_date", "bad_date"},
      {"/due_date", "1970-01-01", "due_date", "bad_date"},
      {"/due_date", "9999-12-31", "due_date", "bad_date"},
  };
  for (const auto& c : cases) {
    json body = valid_dossier();
    json::json_pointer pointer(c.pointer);
    if (c.value.is_null()) {
      body[pointer.parent_pointer()].erase(pointer.back());
    } else {
      body[pointer] = c.value;
    }
    check_invalid(parse_dossier, body, c.field, c.code);
  }
  // A length limit counts characters, not bytes: 200 Vietnamese letters fit.
  json body = valid_dossier();
  body["applicant"]["name"] = long_vietnamese_name.substr(0, 200 * std::string("ễ").size());
  CHECK(std::holds_alternative<dpost::NewDossierRequest>(dpost::parse_new_dossier(body)));
}

TEST_CASE("scan json: a full valid scan maps every field") {
  auto result = dpost::parse_scan(valid_scan());
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(result));
  const auto& s = std::get<dpost::ScanRequest>(result);
  CHECK(s.event_id == "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  CHECK(s.item_id.str() == "EE123456785VN");
  CHECK(s.code == dpost::EventCode::EMI);
  CHECK(s.site == "BC-100000");
  CHECK(s.occurred_at == 1'795'400'100'000);
  CHECK_FALSE(s.reason.has_value());
  REQUIRE(s.recipient.has_value());
  CHECK(s.recipient->name == "Trần Thị Bình");
  CHECK(s.recipient->id_checked);
  CHECK(s.recipient->relation == "vợ");
  REQUIRE(s.recipient->id_document.has_value());
  CHECK(s.recipient->id_document->type == dpost::IdDocumentType::cccd);
  CHECK(s.recipient->id_document->number_masked == "********1234");  // spaces dropped, only the end kept
  REQUIRE(s.recipient->authorization.has_value());
  CHECK(s.recipient->authorization->number == "125/UQ");
  CHECK(s.recipient->authorization->date == "2026-11-20");
  CHECK(s.device == "pda-07");
  CHECK_FALSE(s.action.has_value());
  CHECK_FALSE(s.reason_code.has_value());
}

TEST_CASE("scan json: minimal scans") {
  json body = valid_scan();
  body.erase("recipient");
  body.erase("device");
  body["code"] = "EDD";
  auto result = dpost::parse_scan(body);
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(result));
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).recipient.has_value());
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).device.has_value());

  body["code"] = "EMH";
  body["reason"] = "Vắng nhà";
  body["action"] = "redeliver";
  result = dpost::parse_scan(body);
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(result));
  CHECK(std::get<dpost::ScanRequest>(result).reason == "Vắng nhà");
  CHECK(std::get<dpost::ScanRequest>(result).action == dpost::FailureAction::redeliver);
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).reason_code.has_value());

  // A structured reason is enough on its own, but for "other".
  body.erase("reason");
  body["reason_code"] = "refused";
  body["action"] = "return_to_sender";
  result = dpost::parse_scan(body);
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(result));
  CHECK(std::get<dpost::ScanRequest>(result).reason_code == dpost::FailureReason::refused);
  CHECK(std::get<dpost::ScanRequest>(result).action == dpost::FailureAction::return_to_sender);
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).reason.has_value());

  body = valid_scan();
  body["recipient"].erase("relation");
  body["recipient"].erase("authorization");
  body["recipient"].erase("id_document");
  body["recipient"]["id_checked"] = false;
  result = dpost::parse_scan(body);
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(result));
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).recipient->id_checked);
  CHECK_FALSE(std::get<dpost::ScanRequest>(result).recipient->relation.has_value());
}

TEST_CASE("scan json: wrong JSON types are malformed (400)") {
  check_malformed(parse_scan, json::array({valid_scan()}), "");
  check_malformed(parse_scan, json(nullptr), "");
  for (const char* key : {"event_id", "item_id", "code", "site", "occurred_at", "reason", "device"}) {
    json body = valid_scan();
    body[key] = 42;
    check_malformed(parse_scan, body, key);
  }
  json body = valid_scan();
  body["recipient"] = "Bình";
  check_malformed(parse_scan, body, "recipient");
  body = valid_scan();
  body["recipient"]["id_checked"] = "yes";
  check_malformed(parse_scan, body, "recipient.id_checked");
  body = valid_scan();
  body["recipient"]["name"] = false;
  check_malformed(parse_scan, body, "recipient.name");
  body = valid_scan();
  body["recipient"]["id_document"] = "cccd";
  check_malformed(parse_scan, body, "recipient.id_document");
  body = valid_scan();
  body["recipient"]["authorization"] = 7;
  check_malformed(parse_scan, body, "recipient.authorization");
}

TEST_CASE("scan json: a representative without the authorization is invalid (422), not malformed") {
  // Someone other than the applicant needs the authorization (giấy ủy quyền).
  json body = valid_scan();
  body["recipient"].erase("authorization");
  check_invalid(parse_scan, body, "recipient.authorization", "authorization_required");
}

TEST_CASE("scan json: invalid values (422)") {
  struct Case {
    const char* pointer;
    json value;
    const char* field;
    const char* code;
  };
  const Case cases[] = {
      {"/event_id", nullptr, "event_id", "missing_field"},
      {"/event_id", "not-a-uuid", "event_id", "bad_event_id"},
      {"/item_id", nullptr, "item_id", "missing_field"},
      {"/item_id", "EE123456784VN", "item_id", "bad_check_digit"},
      {"/item_id", "EE12345678VN", "item_id", "bad_length"},
      {"/item_id", "EE12345678AVN", "item_id", "bad_format"},
      {"/item_id", "RR473124829GB", "item_id", "not_domestic"},
      {"/code", nullptr, "code", "missing_field"},
      {"/code", "XYZ", "code", "unknown_event_code"},
      {"/code", "emi", "code", "unknown_event_code"},
      {"/site", nullptr, "site", "missing_field"},
      {"/site", "", "site", "bad_site_code"},
      {"/occurred_at", nullptr, "occurred_at", "missing_field"},
      {"/occurred_at", "2026-11-23T09:15:00", "occurred_at", "bad_time"},
      {"/occurred_at", "yesterday", "occurred_at", "bad_time"},
      {"/reason", std::string(201, 'r'), "reason", "too_long"},
      {"/reason", "a\x1b", "reason", "invalid_text"},
      {"/recipient/name", nullptr, "recipient.name", "missing_field"},
      {"/recipient/name", "", "recipient.name", "invalid_text"},
      {"/recipient/id_checked", nullptr, "recipient.id_checked", "missing_field"},
      {"/recipient/relation", "x\x7f", "recipient.relation", "invalid_text"},
      {"/recipient/id_document/type", nullptr, "recipient.id_document.type", "missing_field"},
      {"/recipient/id_document/type", "visa", "recipient.id_document.type", "unknown_id_document_type"},
      {"/recipient/id_document/number", nullptr, "recipient.id_document.number", "missing_field"},
      {"/recipient/id_document/number", "12", "recipient.id_document.number", "bad_id_number"},
      {"/recipient/id_document/number", "0792-0100-1234", "recipient.id_document.number", "bad_id_number"},
      {"/recipient/id_document/number", std::string(21, '1'), "recipient.id_document.number", "bad_id_number"},
      {"/recipient/id_checked", false, "recipient.id_checked", "id_not_checked"},
      {"/recipient/authorization/number", nullptr, "recipient.authorization.number", "missing_field"},
      {"/recipient/authorization/number", "", "recipient.authorization.number", "invalid_text"},
      {"/recipient/authorization/date", nullptr, "recipient.authorization.date", "missing_field"},
      {"/recipient/authorization/date", "2026-02-30", "recipient.authorization.date", "bad_date"},
      {"/reason_code", "absent", "reason_code", "not_a_failed_attempt"},
      {"/action", "redeliver", "action", "not_a_failed_attempt"},
      {"/device", std::string(101, 'd'), "device", "too_long"},
  };
  for (const auto& c : cases) {
    json body = valid_scan();
    json::json_pointer pointer(c.pointer);
    if (c.value.is_null()) {
      body[pointer.parent_pointer()].erase(pointer.back());
    } else {
      body[pointer] = c.value;
    }
    check_invalid(parse_scan, body, c.field, c.code);
  }
}

TEST_CASE("scan json: EMH needs an action, known reason codes") {
  json body = valid_scan();
  body["code"] = "EMH";
  body.erase("recipient");
  body["reason"] = "Vắng nhà";
  auto e = std::get<dpost::FieldError>(dpost::parse_scan(body));
  CHECK_FALSE(e.malformed);  // 422: the body is well formed, a field is missing or has a value we do not know
  CHECK(e.field == "action");
  CHECK(e.code == "action_required");
  body["action"] = "come_back_later";
  e = std::get<dpost::FieldError>(dpost::parse_scan(body));
  CHECK_FALSE(e.malformed);
  CHECK(e.code == "unknown_action");
  body["action"] = "hold_at_post_office";
  body["reason_code"] = "not_home";
  e = std::get<dpost::FieldError>(dpost::parse_scan(body));
  CHECK_FALSE(e.malformed);
  CHECK(e.code == "unknown_reason_code");
  body["reason_code"] = "absent";
  CHECK(std::holds_alternative<dpost::ScanRequest>(dpost::parse_scan(body)));
}

TEST_CASE("scan json: EMH needs a reason") {
  json body = valid_scan();
  body["code"] = "EMH";
  body.erase("recipient");
  body["action"] = "redeliver";
  check_invalid(parse_scan, body, "reason", "reason_required");
  body["reason_code"] = "other";  // "other" must be explained in the free text
  check_invalid(parse_scan, body, "reason", "reason_required");
  body.erase("reason_code");
  body["reason"] = "   ";
  check_invalid(parse_scan, body, "reason", "reason_required");
  body["reason"] = nullptr;
  check_invalid(parse_scan, body, "reason", "reason_required");
}
