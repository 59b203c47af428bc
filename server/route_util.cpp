#include "route_util.hpp"

#include "api_error.hpp"
#include "text.hpp"

#include <charconv>

namespace dpost::server {
namespace {

constexpr int kMaxJsonDepth = 32;

}  // namespace

HttpResponse json_response(unsigned status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

nlohmann::json parse_json_body(const HttpRequest& request) {
  if (request.body.empty()) throw bad_request("The request needs a JSON body.", "malformed_json");
  // Depth is bounded while parsing, before anything deep is built.
  nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw bad_request("The JSON body is nested too deeply.", "json_too_deep");
    return true;
  };
  try {
    return nlohmann::json::parse(request.body, limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    throw bad_request("The body is not valid JSON (at byte " + std::to_string(e.byte) + ").", "malformed_json");
  } catch (const nlohmann::json::out_of_range&) {
    throw bad_request("The JSON body holds a number too large to read.", "malformed_json");
  }
}

CitizenDetails citizen_details(Storage& storage, const std::string& item_id) {
  CitizenDetails details;
  const auto id = ItemId::parse(item_id);
  if (!id) return details;
  if (auto item = storage.find_item(*id)) {
    details.applicant = mask_name(item->dossier.applicant.name);
    details.due_date = item->dossier.due_date;
    for (const auto& e : item->events) {
      if (e.recipient) details.recipients.emplace(e.event_id, mask_name(e.recipient->name));
    }
  }
  return details;
}

std::int64_t parse_path_id(std::string_view text, std::string_view what) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    throw not_found("There is no " + std::string(what) + " " + std::string(text) + ".");
  }
  return id;
}

}  // namespace dpost::server
