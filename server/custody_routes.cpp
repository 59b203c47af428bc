// HTTP glue for custody (issue 5): two-party handoffs waiting for confirmation, problems found on receipt,
// re-routing, an item's custody with its ledger proofs, bags and their reconciliation, handover slips.

#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "label.hpp"
#include "merkle.hpp"
#include "route_util.hpp"
#include "signing.hpp"
#include "text.hpp"
#include "views.hpp"

#include <algorithm>
#include <memory>

namespace dpost::server {
namespace {

constexpr UnixMillis kDay = 24LL * 60 * 60 * 1000;

json bag_json(const BagView& b) {
  json items = json::array();
  int expected = 0, received = 0, damaged = 0, missing = 0, extra = 0, waiting = 0;
  for (const auto& i : b.items) {
    json j = {{"item_id", i.item_id},
              {"kind", to_string(i.kind)},
              {"state", to_string(i.state)},
              {"expected", i.expected},
              {"procedure_name", i.procedure_name}};
    j["outcome"] = i.outcome ? json(*i.outcome) : json(nullptr);
    j["scanned_at"] = i.scanned_at ? json(format_rfc3339(*i.scanned_at)) : json(nullptr);
    j["dossier_code"] = i.dossier_code ? json(*i.dossier_code) : json(nullptr);
    j["due_date"] = i.due_date ? json(*i.due_date) : json(nullptr);
    items.push_back(std::move(j));
    if (i.expected) ++expected;
    const auto outcome = i.outcome.value_or("");
    if (outcome == "received") ++received;
    if (outcome == "damaged") ++damaged;
    if (outcome == "missing") ++missing;
    if (outcome == "extra") ++extra;
    if (i.expected && outcome.empty()) ++waiting;
  }
  auto time_or_null = [](const std::optional<UnixMillis>& t) { return t ? json(format_rfc3339(*t)) : json(nullptr); };
  auto name_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"bag_id", b.bag_id},
          {"origin_site", b.origin_site},
          {"destination_site", b.destination_site},
          {"state", to_string(b.state)},
          {"created_at", format_rfc3339(b.created_at)},
          {"created_by", b.created_by},
          {"dispatch_event_id", b.dispatch_event_id ? json(*b.dispatch_event_id) : json(nullptr)},
          {"dispatched_at", time_or_null(b.dispatched_at)},
          {"dispatched_by", name_or_null(b.dispatched_by)},
          {"received_at", time_or_null(b.received_at)},
          {"received_by", name_or_null(b.received_by)},
          {"closed_at", time_or_null(b.closed_at)},
          {"closed_by", name_or_null(b.closed_by)},
          {"summary",
           {{"expected", expected},
            {"received", received},
            {"damaged", damaged},
            {"missing", missing},
            {"extra", extra},
            {"waiting", waiting}}},
          {"items", std::move(items)}};
}

ItemId parse_item(std::string_view text) {
  auto id = ItemId::parse(text);
  if (!id) throw unprocessable(std::string(to_code(id.error())), std::string(describe(id.error())));
  return *id;
}

std::string parse_bag(std::string_view text) {
  auto id = parse_bag_id(text);
  if (!id) throw not_found("There is no bag " + std::string(text) + ".", "unknown_bag");
  return *id;
}

std::string field_string(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) throw unprocessable("missing_field", std::string("The field \"") + name + "\" is required.");
    return {};
  }
  if (!it->is_string()) throw bad_request(std::string("The field \"") + name + "\" must be a string.", "wrong_type");
  return it->get<std::string>();
}

UnixMillis field_time(const json& body, const char* name) {
  const auto text = field_string(body, name, false);
  if (text.empty()) return now_millis();
  auto t = parse_rfc3339(text);
  if (!t) throw unprocessable("bad_time", std::string(name) + " must be an RFC 3339 time with an offset.");
  switch (check_recorded_time(*t, now_millis())) {
    case TimeCheck::in_future:
      throw unprocessable("occurred_at_in_future", std::string(name) + " is more than 10 minutes ahead of the server.");
    case TimeCheck::too_old:
      throw unprocessable("occurred_at_too_old",
                          std::string(name) + " is before 2020-01-01: check the device's clock.");
    case TimeCheck::ok:
      break;
  }
  return *t;
}

// Bags are handed over from a person's session (desk or clerk page): their events are not device-signed.
void require_person(const Actor& a) {
  if (a.device_id) {
    throw forbidden(
        "Bags are made up and handed over from a person's session (desk or clerk page), not with a "
        "device token.");
  }
}

BagView load_bag_for(RouteContext& ctx, const Actor& a, const std::string& bag_id) {
  auto bag = ctx.storage.find_bag(bag_id);
  if (!bag) throw not_found("There is no bag " + bag_id + ".", "unknown_bag");
  ctx.require(a, AccessRequest{Action::read_bag, nullptr, bag->origin_site, bag->destination_site}, bag_id);
  return *bag;
}

template <class T>
T unwrap(Outcome<T>& r) {
  if (r.has_error()) std::rethrow_exception(r.error());
  return std::move(*r);
}

std::string site_name(Storage& storage, const std::string& code) {
  if (auto s = storage.find_site(code)) return s->name;
  return code;
}

// Trước hạn / đúng hạn / quá hạn for a handoff against the dossier's due date (hẹn trả), the way the one-stop
// control slip judges each step: before the due day, on it, or after it.
std::string on_time_text(UnixMillis at, const std::optional<std::string>& due_date) {
  if (!due_date || due_date->size() != 10) return "";
  const auto day = format_date_vn(at);
  if (day < *due_date) return "Trước hạn";
  if (day == *due_date) return "Đúng hạn";
  return "Quá hạn";
}

HandoverSlipRow slip_row(const EventRecord& e, ItemKind kind, const std::optional<std::string>& dossier_code,
                         const std::string& procedure, const std::optional<std::string>& due_date,
                         const std::string& giver, const std::string& receiver) {
  HandoverSlipRow row;
  row.time = format_time_vn(e.occurred_at);
  row.item_id = e.item_id;
  row.dossier_code = dossier_code.value_or("");
  row.what = std::string(label_kind_vi(kind)) + " — " + procedure;
  row.event = std::string(to_string(e.code)) + " " + std::string(describe_vi(e.code));
  row.giver = giver;
  row.receiver = receiver;
  row.recorded_by = e.recorded_by;
  row.result = on_time_text(e.occurred_at, due_date);
  if (e.issue) row.note = std::string(describe_vi(*e.issue));
  if (e.reason) row.note += (row.note.empty() ? "" : ": ") + *e.reason;
  return row;
}

}  // namespace

std::vector<std::string> requested_sites(RouteContext& ctx, const Actor& a, const HttpRequest& req) {
  const auto site = req.query_param("site");
  if (!site.empty()) {
    ctx.require(a, AccessRequest{Action::read_site, nullptr, site}, "site " + site);
    return {site};
  }
  std::vector<std::string> sites;
  if (!a.site.empty()) sites.push_back(a.site);
  if (a.role == Role::supervisor) {
    for (const auto& s : a.scope) {
      if (std::find(sites.begin(), sites.end(), s) == sites.end()) sites.push_back(s);
    }
  }
  if (sites.empty()) ctx.require(a, AccessRequest{Action::read_site, nullptr, ""}, "sites");
  return sites;
}

void add_custody_routes(Router& router, RouteContext& context) {
  RouteContext* ctx = &context;

  // --- two-party handoffs

  router.add("GET", "/api/v1/handoffs/pending", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto sites = requested_sites(*ctx, a, req);
    const auto now = now_millis();
    json out = json::array();
    int overdue = 0;
    for (const auto& p : ctx->storage.pending_handoffs(sites)) {
      const bool late = now - p.since > ctx->options.confirm_within_ms;
      overdue += late ? 1 : 0;
      json j = {{"item_id", p.item_id},
                {"kind", to_string(p.kind)},
                {"state", to_string(p.state)},
                {"state_text", describe_vi(p.kind, p.state)},
                {"from_site", p.from_site},
                {"to_site", p.to_site},
                {"since", format_rfc3339(p.since)},
                {"waiting_minutes", (now - p.since) / 60000},
                {"overdue", late}};
      j["dossier_code"] = p.dossier_code ? json(*p.dossier_code) : json(nullptr);
      out.push_back(std::move(j));
    }
    reply(json_response(200, {{"sites", sites},
                              {"confirm_within_minutes", ctx->options.confirm_within_ms / 60000},
                              {"overdue", overdue},
                              {"pending", std::move(out)}}));
  });

  router.add("GET", "/api/v1/handoffs/problems", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto sites = requested_sites(*ctx, a, req);
    UnixMillis since = now_millis() - 30 * kDay;
    if (const auto text = req.query_param("since"); !text.empty()) {
      auto t = parse_rfc3339(text);
      if (!t) throw unprocessable("bad_time", "since must be an RFC 3339 time with an offset.");
      since = *t;
    }
    json out = json::array();
    for (const auto& p : ctx->storage.handoff_problems(sites, since)) {
      json j = {{"item_id", p.item_id},
                {"site", p.site},
                {"at", format_rfc3339(p.at)},
                {"problem", p.problem},
                {"recorded_by", p.recorded_by}};
      if (auto issue = parse_handoff_issue(p.problem)) {
        j["problem_text"] = describe_vi(*issue);
        j["problem_text_en"] = describe_en(*issue);
      } else {
        j["problem_text"] = p.problem == "missing" ? "Thiếu trong túi so với bảng kê" : "Thừa trong túi";
        j["problem_text_en"] = p.problem == "missing" ? "Missing from the bag" : "In the bag without being listed";
      }
      j["event_id"] = p.event_id.empty() ? json(nullptr) : json(p.event_id);
      j["bag_id"] = p.bag_id.empty() ? json(nullptr) : json(p.bag_id);
      j["note"] = p.note ? json(*p.note) : json(nullptr);
      out.push_back(std::move(j));
    }
    reply(json_response(200, {{"sites", sites}, {"since", format_rfc3339(since)}, {"problems", std::move(out)}}));
  });

  // The day's handover slip of one site (phiếu kiểm soát bàn giao): every handoff between the post and the
  // offices at or to the site, with giver, receiver, time and on-time status, for signature and filing.
  router.add("GET", "/api/v1/handoffs/slip", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    auto site = req.query_param("site");
    if (site.empty()) site = a.site;
    ctx->require(a, AccessRequest{Action::read_site, nullptr, site}, "handover slip of " + site);
    auto date = req.query_param("date");
    if (date.empty()) date = format_date_vn(now_millis());
    const auto start = parse_rfc3339(date + "T00:00:00+07:00");
    if (date.size() != 10 || !start) throw unprocessable("bad_date", "date must be YYYY-MM-DD.");
    HandoverSlipData slip;
    slip.title_vi = "PHIẾU KIỂM SOÁT BÀN GIAO HỒ SƠ, KẾT QUẢ";
    slip.title_en = "Handover control slip — dossiers and results";
    slip.site_name = site_name(ctx->storage, site);
    slip.period = format_date_dmy(date);
    for (const auto& r : ctx->storage.handoff_records(site, *start, *start + kDay)) {
      const auto other = r.counterpart_site.empty() ? std::string() : site_name(ctx->storage, r.counterpart_site);
      const auto here = site_name(ctx->storage, r.event.site);
      // EMI and RES hand over (giver: the event's site); RCV and EMA receive (receiver: the event's site).
      const bool giving = r.event.code == EventCode::EMI || r.event.code == EventCode::RES;
      slip.rows.push_back(slip_row(r.event, r.kind, r.dossier_code, r.procedure_name, r.due_date, giving ? here : other,
                                   giving ? other : here));
    }
    ctx->disclose(a, "handover slip of " + site + " " + date, site, reply, [slip = std::move(slip), site, date] {
      HttpResponse r;
      r.content_type = "application/pdf";
      r.body = render_handover_slip(slip);
      r.headers.emplace_back("Content-Disposition", "inline; filename=\"handover-" + site + "-" + date + ".pdf\"");
      r.headers.emplace_back("Cache-Control", "no-store");
      return r;
    });
  });

  // --- routes and custody

  router.add("POST", "/api/v1/items/{item_id}/route", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto id = parse_item(req.param("item_id"));
    const auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.");
    const auto site = field_string(body, "site", true);
    auto item = ctx->storage.find_item(id);
    if (!item) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    const auto facts = facts_of(*item);
    ctx->require(a, AccessRequest{Action::reroute_item, &facts, site}, id.str());
    ctx->storage.add_route(a, id, site, [ctx, reply, id, a](Outcome<bool> r) {
      guarded(reply, [&] {
        unwrap(r);
        auto v = ctx->storage.find_item(id);
        if (!v) throw not_found("There is no item " + id.str() + ".", "unknown_item");
        json route = json::array();
        for (const auto& stop : v->route) route.push_back({{"site", stop.site}, {"role", stop.role}});
        reply(json_response(200, {{"item_id", v->item_id}, {"route", std::move(route)}}));
      });
    });
  });

  // Who held the item when, each step with its proof of inclusion in a signed checkpoint of the ledger.
  router.add("GET", "/api/v1/items/{item_id}/custody", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto id = parse_item(req.param("item_id"));
    auto item = ctx->storage.find_item(id);
    if (!item) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    const auto facts = facts_of(*item);
    ctx->require(a, AccessRequest{Action::read_item, &facts}, id.str());
    auto answer = [ctx, id, a, reply]() {
      auto v = ctx->storage.find_item(id);
      if (!v) throw not_found("There is no item " + id.str() + ".", "unknown_item");
      auto checkpoint = ctx->storage.latest_checkpoint();
      json periods = json::array();
      json events = json::array();
      std::vector<EventRecord> prefix;
      for (std::size_t i = 0; i < v->events.size(); ++i) {
        const auto& e = v->events[i];
        prefix.push_back(e);
        const auto c = custody_of(v->kind, e.state_after, prefix, v->origin_site, v->destination_site);
        json period = {{"holder", c.holder},           {"from", format_rfc3339(e.occurred_at)},
                       {"event_id", e.event_id},       {"code", to_string(e.code)},
                       {"recorded_by", e.recorded_by}, {"awaiting_confirmation", c.awaiting_confirmation}};
        period["site"] = c.site.empty() ? json(nullptr) : json(c.site);
        period["to"] = i + 1 < v->events.size() ? json(format_rfc3339(v->events[i + 1].occurred_at)) : json(nullptr);
        periods.push_back(std::move(period));
        json ev = event_json(e);
        if (auto proof = ctx->storage.inclusion_proof(e.event_id, checkpoint ? checkpoint->tree_size : 0)) {
          ev["proof"] = inclusion_json(*proof);
        }
        events.push_back(std::move(ev));
      }
      json out = {{"item_id", v->item_id},         {"kind", to_string(v->kind)},
                  {"state", to_string(v->state)},  {"custody", custody_json(v->custody)},
                  {"periods", std::move(periods)}, {"events", std::move(events)}};
      out["checkpoint"] = checkpoint ? checkpoint_json(*checkpoint) : json(nullptr);
      out["ledger_public_key"] = signing::base64_encode(ctx->storage.ledger_public_key());
      return json_response(200, out);
    };
    // The newest events may be younger than the last signed checkpoint: sign one first, so that every step
    // comes with a proof against a signed head.
    auto latest = ctx->storage.latest_checkpoint();
    std::int64_t newest = -1;
    for (const auto& e : item->events) newest = std::max<std::int64_t>(newest, e.ledger_index.value_or(-1));
    auto finish = [ctx, a, id, site = item->dossier.office, reply, answer]() {
      ctx->disclose(a, "custody of " + id.str(), site, reply, answer);
    };
    if (newest >= 0 && (!latest || static_cast<std::uint64_t>(newest) >= latest->tree_size)) {
      ctx->storage.checkpoint_now([reply, finish](Outcome<LedgerCheckpoint> r) {
        guarded(reply, [&] {
          unwrap(r);
          finish();
        });
      });
    } else {
      finish();
    }
  });

  // --- bags

  router.add("POST", "/api/v1/bags", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    ctx->require(a, AccessRequest{Action::manage_bag, nullptr, a.site}, "new bag");
    const auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.");
    const auto destination = field_string(body, "destination", true);
    if (!is_valid_site_code(destination)) throw unprocessable("bad_site_code", "destination must be a site code.");
    std::vector<ItemId> items;
    if (auto it = body.find("items"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) throw bad_request("The field \"items\" must be an array of item ids.", "wrong_type");
      if (it->size() > 500) throw ApiError(413, "batch_too_large", "A bag holds at most 500 items.");
      for (const auto& v : *it) {
        if (!v.is_string()) throw bad_request("Each item must be an item id string.", "wrong_type");
        items.push_back(parse_item(v.get<std::string>()));
      }
    }
    ctx->storage.create_bag(a, destination, std::move(items), [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(201, bag_json(unwrap(r)))); });
    });
  });

  router.add("GET", "/api/v1/bags", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto sites = requested_sites(*ctx, a, req);
    json out = json::array();
    for (const auto& b : ctx->storage.list_bags(sites, 200)) out.push_back(bag_json(b));
    reply(json_response(200, {{"bags", std::move(out)}}));
  });

  router.add("GET", "/api/v1/bags/{bag_id}", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    reply(json_response(200, bag_json(load_bag_for(*ctx, a, parse_bag(req.param("bag_id"))))));
  });

  router.add("POST", "/api/v1/bags/{bag_id}/items", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::manage_bag, nullptr, bag.origin_site}, bag.bag_id);
    const auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.");
    const auto item = parse_item(field_string(body, "item_id", true));
    ctx->storage.add_to_bag(a, bag.bag_id, item, [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(200, bag_json(unwrap(r)))); });
    });
  });

  router.add("DELETE", "/api/v1/bags/{bag_id}/items/{item_id}", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::manage_bag, nullptr, bag.origin_site}, bag.bag_id);
    ctx->storage.remove_from_bag(a, bag.bag_id, parse_item(req.param("item_id")), [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(200, bag_json(unwrap(r)))); });
    });
  });

  // One scan hands the whole bag over: every item gets its handoff event (all or none).
  router.add("POST", "/api/v1/bags/{bag_id}/dispatch", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::manage_bag, nullptr, bag.origin_site}, bag.bag_id);
    const auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.");
    auto event_id = normalize_uuid(field_string(body, "event_id", true));
    if (!event_id) throw unprocessable("bad_event_id", "event_id must be a UUID.");
    const auto at = field_time(body, "occurred_at");
    ctx->storage.dispatch_bag(a, bag.bag_id, *event_id, at, [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(200, bag_json(unwrap(r)))); });
    });
  });

  router.add("POST", "/api/v1/bags/{bag_id}/receive", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::receive_bag, nullptr, bag.destination_site}, bag.bag_id);
    UnixMillis at = now_millis();
    if (!req.body.empty()) {
      const auto body = parse_json_body(req);
      if (!body.is_object()) throw bad_request("The JSON body must be an object.");
      at = field_time(body, "occurred_at");
    }
    ctx->storage.receive_bag(a, bag.bag_id, at, [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(200, bag_json(unwrap(r)))); });
    });
  });

  // One item taken out of a received bag: {"event_id", "item_id", "occurred_at", "seal_intact"?, "issue"?,
  // "reason"?}. The code and site follow from the bag (RCV at an office, EMA or EMG/EDD at a post office).
  router.add("POST", "/api/v1/bags/{bag_id}/scan", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::receive_bag, nullptr, bag.destination_site}, bag.bag_id);
    auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.");
    // The receiving code is decided by the bag; parse the rest with the ordinary scan rules.
    body["code"] = "RCV";
    body["site"] = bag.destination_site;
    if (!body.contains("occurred_at")) body["occurred_at"] = format_rfc3339(now_millis());
    auto parsed = parse_scan(body);
    if (auto* e = std::get_if<FieldError>(&parsed)) {
      if (e->malformed) throw bad_request(e->message, e->code.empty() ? "malformed_request" : e->code);
      throw unprocessable(e->code, e->message);
    }
    ctx->storage.scan_bag_item(a, bag.bag_id, std::get<ScanRequest>(std::move(parsed)),
                               [reply](Outcome<BagScanOutcome> r) {
                                 guarded(reply, [&] {
                                   auto out = unwrap(r);
                                   json j = {{"outcome", out.outcome}, {"bag", bag_json(out.bag)}};
                                   j["event_id"] = out.scan.event_id;
                                   j["status"] = out.scan.status == ScanStatus::recorded    ? "recorded"
                                                 : out.scan.status == ScanStatus::duplicate ? "duplicate"
                                                                                            : "refused";
                                   if (out.scan.item) j["item"] = item_summary_json(*out.scan.item);
                                   if (out.scan.event) j["event"] = event_json(*out.scan.event);
                                   if (!out.scan.error_code.empty()) {
                                     j["error"] = {{"code", out.scan.error_code}, {"message", out.scan.message}};
                                   }
                                   reply(json_response(200, j));
                                 });
                               });
  });

  router.add("POST", "/api/v1/bags/{bag_id}/close", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    require_person(a);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    ctx->require(a, AccessRequest{Action::receive_bag, nullptr, bag.destination_site}, bag.bag_id);
    ctx->storage.close_bag(a, bag.bag_id, [reply](Outcome<BagView> r) {
      guarded(reply, [&] { reply(json_response(200, bag_json(unwrap(r)))); });
    });
  });

  // The bag's handover slip and manifest (bảng kê): what was sent, what arrived, signatures.
  router.add("GET", "/api/v1/bags/{bag_id}/slip", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    HandoverSlipData slip;
    slip.title_vi = "BẢNG KÊ VÀ BIÊN BẢN BÀN GIAO TÚI " + bag.bag_id;
    slip.title_en = "Bag manifest and handover record";
    slip.site_name = site_name(ctx->storage, bag.origin_site) + " → " + site_name(ctx->storage, bag.destination_site);
    slip.period = bag.dispatched_at ? format_time_vn(*bag.dispatched_at) : "chưa gửi / not dispatched";
    slip.bag_id = bag.bag_id;
    slip.giver = bag.dispatched_by.empty() ? bag.created_by : bag.dispatched_by;
    slip.receiver = bag.closed_by.empty() ? bag.received_by : bag.closed_by;
    for (const auto& i : bag.items) {
      HandoverSlipRow row;
      row.time = i.scanned_at ? format_time_vn(*i.scanned_at) : "";
      row.item_id = i.item_id;
      row.dossier_code = i.dossier_code.value_or("");
      row.what = std::string(label_kind_vi(i.kind)) + " — " + i.procedure_name;
      row.event = i.expected ? "Trong bảng kê" : "Ngoài bảng kê";
      row.giver = site_name(ctx->storage, bag.origin_site);
      row.receiver = site_name(ctx->storage, bag.destination_site);
      const auto outcome = i.outcome.value_or("");
      row.result = outcome == "received"  ? "Đã nhận"
                   : outcome == "damaged" ? "Hư hỏng"
                   : outcome == "missing" ? "THIẾU"
                   : outcome == "extra"   ? "THỪA"
                                          : "Chưa kiểm";
      if (i.scanned_at) row.note = on_time_text(*i.scanned_at, i.due_date);
      slip.rows.push_back(std::move(row));
    }
    ctx->disclose(a, "slip of bag " + bag.bag_id, bag.destination_site, reply,
                  [slip = std::move(slip), id = bag.bag_id] {
                    HttpResponse r;
                    r.content_type = "application/pdf";
                    r.body = render_handover_slip(slip);
                    r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + id + ".pdf\"");
                    r.headers.emplace_back("Cache-Control", "no-store");
                    return r;
                  });
  });

  // The label on the bag itself: its barcode (Code 128), where from and to, and how many items.
  router.add("GET", "/api/v1/bags/{bag_id}/label", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto bag = load_bag_for(*ctx, a, parse_bag(req.param("bag_id")));
    BagLabelData label;
    label.bag_id = bag.bag_id;
    label.origin = site_name(ctx->storage, bag.origin_site);
    label.destination = site_name(ctx->storage, bag.destination_site);
    label.items = static_cast<int>(
        std::count_if(bag.items.begin(), bag.items.end(), [](const BagItem& i) { return i.expected; }));
    label.date = format_date_dmy(format_date_vn(bag.created_at));
    HttpResponse r;
    r.content_type = "application/pdf";
    r.body = render_bag_label(label);
    r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + bag.bag_id + "-label.pdf\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    reply(std::move(r));
  });
}

}  // namespace dpost::server
