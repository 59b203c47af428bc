#pragma once

#include "http_types.hpp"
#include "storage.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace dpost::server {

// Helpers every route file shares, so that bodies are read and answers written the same way everywhere.

// A JSON answer with `status`.
HttpResponse json_response(unsigned status, const nlohmann::json& body);

// The request body as JSON, whatever its Content-Type (curl -d sends form encoding). Malformed JSON is 400
// malformed_json, nesting deeper than 32 levels 400 json_too_deep, an empty body 400.
nlohmann::json parse_json_body(const HttpRequest& request);

// What a citizen holding the QR token sees beyond the public view: masked names and the due date. Never a
// phone, an address or an ID number.
struct CitizenDetails {
  std::string applicant;  // masked: "Ng*** V** A"
  std::optional<std::string> due_date;
  std::unordered_map<std::string, std::string> recipients;  // event_id -> masked recipient
};
CitizenDetails citizen_details(Storage& storage, const std::string& item_id);

// A path id such as /dossiers/{id}: a positive decimal number, else 404 naming `what` ("dossier").
std::int64_t parse_path_id(std::string_view text, std::string_view what);

}  // namespace dpost::server
