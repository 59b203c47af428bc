// HTTP glue for deadlines (deadline.hpp): a dossier's due date and verdicts, and the pauses of its clock while
// the citizen supplements it (yêu cầu bổ sung hồ sơ). Verdicts hold dates and states only: no personal data.

#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "deadlines.hpp"
#include "route_util.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

namespace dpost::server {
namespace {

using nlohmann::json;

json pause_json(const DossierPause& p) {
  return {{"paused_at", format_rfc3339(p.paused_at)},
          {"reason", p.reason},
          {"paused_by", p.paused_by},
          {"resumed_at", p.resumed_at ? json(format_rfc3339(*p.resumed_at)) : json(nullptr)},
          {"resumed_by", p.resumed_by.empty() ? json(nullptr) : json(p.resumed_by)}};
}

json deadline_body(RouteContext& ctx, std::int64_t dossier_id) {
  json j = {{"dossier_id", dossier_id}};
  if (auto v = ctx.deadlines.judge(dossier_id, now_millis())) j.update(verdict_json(*v));
  json pauses = json::array();
  for (const auto& p : ctx.storage.dossier_pauses(dossier_id)) pauses.push_back(pause_json(p));
  j["pauses"] = std::move(pauses);
  if (const auto facts = ctx.storage.deadline_facts(dossier_id)) {
    if (const auto rules = ctx.storage.rule_set(facts->rule_set_id)) j["rule_set"] = rules->hash;
  }
  return j;
}

// The optional "at" of a pause or resume (when the office handed the request to the citizen, or got the
// supplement back): RFC 3339, not in the future; default now.
UnixMillis requested_time(const json& body) {
  auto it = body.find("at");
  if (it == body.end() || it->is_null()) return now_millis();
  if (!it->is_string()) throw bad_request("The field \"at\" must be an RFC 3339 time.", "wrong_type");
  const auto t = parse_rfc3339(it->get<std::string>());
  if (!t)
    throw unprocessable("bad_time", "at must be an RFC 3339 time with an offset, e.g. 2026-12-07T09:00:00+07:00.");
  switch (check_recorded_time(*t, now_millis())) {
    case TimeCheck::in_future:
      throw unprocessable("time_in_future", "at must not be in the future.");
    case TimeCheck::too_old:
      throw unprocessable("time_too_old", "at must not be before 2020-01-01.");
    case TimeCheck::ok:
      break;
  }
  return *t;
}

json object_body(const HttpRequest& req) {
  if (req.body.empty()) return json::object();
  auto body = parse_json_body(req);
  if (!body.is_object()) throw bad_request("The JSON body must be an object.", "malformed_request");
  return body;
}

// Pauses and resumes are the office's: staff of the dossier's one-stop office.
DossierInfo office_dossier(RouteContext& ctx, const HttpRequest& req, const Actor& a) {
  const auto id = parse_path_id(req.param("id"), "dossier");
  auto d = ctx.storage.find_dossier(id);
  if (!d) throw not_found("There is no dossier " + std::to_string(id) + ".");
  ctx.require(a, AccessRequest{Action::pause_clock, nullptr, d->office}, "dossier " + std::to_string(id));
  return std::move(*d);
}

}  // namespace

void add_deadline_routes(Router& router, RouteContext& ctx) {
  router.add("GET", "/api/v1/dossiers/{id}/deadline", [&ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx.authenticate(req);
    const auto id = parse_path_id(req.param("id"), "dossier");
    const auto d = ctx.storage.find_dossier(id);
    if (!d) throw not_found("There is no dossier " + std::to_string(id) + ".");
    const auto facts = facts_of(*d, ctx.storage.dossier_routes(id));
    ctx.require(a, AccessRequest{Action::read_item, &facts}, "dossier " + std::to_string(id));
    reply(json_response(200, deadline_body(ctx, id)));
  });

  router.add("POST", "/api/v1/dossiers/{id}/pause", [&ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx.authenticate(req);
    const auto d = office_dossier(ctx, req, a);
    const auto body = object_body(req);
    std::string reason;
    if (auto it = body.find("reason"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) throw bad_request("The field \"reason\" must be a string.", "wrong_type");
      reason = it->get<std::string>();
    }
    if (!is_clean_text(reason) || reason.size() > 500) {
      throw unprocessable("invalid_text", "reason is up to 500 characters of text.");
    }
    const auto at = requested_time(body);
    ctx.storage.pause_dossier(a, d.id, std::move(reason), at, [&ctx, reply, id = d.id](Outcome<DossierPause> r) {
      guarded(reply, [&] {
        if (r.has_error()) std::rethrow_exception(r.error());
        reply(json_response(200, deadline_body(ctx, id)));
      });
    });
  });

  router.add("POST", "/api/v1/dossiers/{id}/resume", [&ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx.authenticate(req);
    const auto d = office_dossier(ctx, req, a);
    const auto at = requested_time(object_body(req));
    ctx.storage.resume_dossier(a, d.id, at, [&ctx, reply, id = d.id](Outcome<DossierPause> r) {
      guarded(reply, [&] {
        if (r.has_error()) std::rethrow_exception(r.error());
        reply(json_response(200, deadline_body(ctx, id)));
      });
    });
  });
}

}  // namespace dpost::server
