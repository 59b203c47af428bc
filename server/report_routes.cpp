// HTTP glue for supervisor reports (report.hpp): the overview as JSON, and its lists as CSV for spreadsheets.
// Reports hold item ids, dossier codes, states, site names and counts: no personal data.

#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "deadlines.hpp"
#include "report.hpp"
#include "route_util.hpp"
#include "views.hpp"

#include <nlohmann/json.hpp>

namespace dpost::server {
namespace {

using nlohmann::json;

constexpr UnixMillis kDay = 24LL * 60 * 60 * 1000;

struct Period {
  UnixMillis from = 0;
  UnixMillis to = 0;
  std::string from_date;
  std::string to_date;  // inclusive
};

// ?from=YYYY-MM-DD&to=YYYY-MM-DD, days in Vietnam time, `to` inclusive; default the last 30 days to today.
Period requested_period(const HttpRequest& req) {
  Period p;
  p.to_date = req.query_param("to");
  if (p.to_date.empty()) p.to_date = format_date_vn(now_millis());
  p.from_date = req.query_param("from");
  const auto to_start = parse_rfc3339(p.to_date + "T00:00:00+07:00");
  if (p.to_date.size() != 10 || !to_start) throw unprocessable("bad_date", "to must be a date as YYYY-MM-DD.");
  p.to = *to_start + kDay;
  if (p.from_date.empty()) p.from_date = format_date_vn(p.to - 30 * kDay);
  const auto from_start = parse_rfc3339(p.from_date + "T00:00:00+07:00");
  if (p.from_date.size() != 10 || !from_start) throw unprocessable("bad_date", "from must be a date as YYYY-MM-DD.");
  p.from = *from_start;
  if (p.from >= p.to) throw unprocessable("bad_period", "from must not be after to.");
  if (p.to - p.from > 366 * kDay) throw unprocessable("bad_period", "A report covers at most 366 days.");
  return p;
}

// A dossier with a late part, for "which dossiers are late and why".
struct LateDossier {
  std::int64_t dossier_id = 0;
  std::optional<std::string> dossier_code;
  std::string office;
  DossierVerdict verdict;
};

struct Computed {
  std::vector<std::string> sites;
  Period period;
  Report report;
  std::vector<LateDossier> late;  // most overdue first
  std::vector<ReportItem> items;  // what the report was built from (with deadlines), for the series
  std::map<std::string, std::string> site_names;
};

Computed compute(RouteContext& ctx, HttpRequest& req) {
  const auto a = ctx.authenticate(req);
  Computed c;
  c.sites = requested_sites(ctx, a, req);
  c.period = requested_period(req);
  auto items = ctx.storage.report_items(c.sites, c.period.from);
  // Each dossier judged once, under the rules it was received under; their calendar also counts the working
  // days between an item's failed attempts.
  struct Judged {
    std::optional<DossierVerdict> verdict;
    std::shared_ptr<const RuleSet> rules;
  };
  std::map<std::int64_t, Judged> verdicts;
  const auto now = now_millis();
  for (auto& item : items) {
    auto [it, fresh] = verdicts.try_emplace(item.dossier_id);
    auto& [verdict, rules] = it->second;
    if (fresh) verdict = ctx.deadlines.judge(item.dossier_id, now, &rules);
    if (!verdict) continue;
    if (const auto* leg = leg_of(*verdict, item.item_id)) item.leg_due_at = leg->timeliness.due_at;
    item.calendar = std::shared_ptr<const WorkingCalendar>(rules, &rules->calendar);  // shares the cached set
    item.dossier_due_at = verdict->timeliness.due_at;
    item.late_parts = verdict->late_parts;
    if (fresh && !verdict->late_parts.empty()) {
      c.late.push_back({item.dossier_id, item.dossier_code, item.office, *verdict});
    }
  }
  auto overdue_since = [](const LateDossier& l) {
    UnixMillis since = l.verdict.timeliness.status == "late" ? l.verdict.timeliness.since : 0;
    for (const auto& leg : l.verdict.legs) {
      if (leg.timeliness.status == "late" && (since == 0 || leg.timeliness.since < since)) since = leg.timeliness.since;
    }
    return since;
  };
  std::stable_sort(c.late.begin(), c.late.end(),
                   [&](const LateDossier& a, const LateDossier& b) { return overdue_since(a) < overdue_since(b); });
  const auto limits = ReportLimits::defaults(static_cast<int>(ctx.options.confirm_within_ms / 60000));
  c.report = build_report(items, c.period.from, c.period.to, now_millis(), limits);
  c.items = std::move(items);
  for (const auto& s : ctx.storage.list_sites()) c.site_names.emplace(s.code, s.name);
  return c;
}

std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "+") + p;
  return out;
}

json late_json(const LateDossier& l) {
  json j = verdict_json(l.verdict);
  j["dossier_id"] = l.dossier_id;
  j["dossier_code"] = l.dossier_code ? json(*l.dossier_code) : json(nullptr);
  j["office"] = l.office;
  j["due_at"] = j["timeliness"]["due_at"];
  return j;
}

std::string name_of(const Computed& c, const std::string& code) {
  auto it = c.site_names.find(code);
  return it == c.site_names.end() ? code : it->second;
}

json waiting_json(const Computed& c, const WaitingItem& w) {
  json j = {{"item_id", w.item_id},
            {"kind", to_string(w.kind)},
            {"state", to_string(w.state)},
            {"state_text", describe_vi(w.kind, w.state)},
            {"state_text_en", describe_en(w.kind, w.state)},
            {"site", w.site},
            {"site_name", name_of(c, w.site)},
            {"since", format_rfc3339(w.since)},
            {"waiting_hours", w.waiting_hours},
            {"limit_hours", w.limit_hours},
            {"past_due", w.past_due}};
  j["dossier_code"] = w.dossier_code ? json(*w.dossier_code) : json(nullptr);
  j["due_date"] = w.due_date ? json(*w.due_date) : json(nullptr);
  j["due_at"] = w.due_at ? json(format_rfc3339(*w.due_at)) : json(nullptr);
  j["late_parts"] = w.late_parts;  // why: dossier_leg (post to the office), processing (office), result_leg
  // After a failed attempt: its coded reason and action, and what is due next (attempt_again, return_to_office).
  if (w.next_step) {
    json failure = {{"next_step", to_string(*w.next_step)}};
    put_failure_codes(failure, w.failure_reason, w.failure_action);
    j["failure"] = std::move(failure);
  } else {
    j["failure"] = nullptr;
  }
  return j;
}

json on_time_json(const Computed& c, const Report& report) {
  json on_time = json::array();
  for (const auto& o : report.on_time) {
    on_time.push_back({{"site", o.site},
                       {"site_name", name_of(c, o.site)},
                       {"leg", o.leg},
                       {"completed", o.completed},
                       {"on_time", o.on_time},
                       {"late", o.late},
                       {"rate", o.completed ? static_cast<double>(o.on_time) / o.completed : 0.0}});
  }
  return on_time;
}

json transit_json(const Report& report) {
  json transit = json::object();
  for (const auto& [kind, p] : report.transit_hours) {
    transit[kind] = {{"count", p.count}, {"p50", p.p50}, {"p90", p.p90}, {"max", p.max}};
  }
  return transit;
}

json failed_json(const Report& report) {
  json failed = json::array();
  for (const auto& f : report.failed_attempts) {
    json row = {{"reason", f.reason}, {"count", f.count}};
    row["reason_code"] = f.reason_code ? json(to_string(*f.reason_code)) : json(nullptr);
    if (f.reason_code) row["reason_text_en"] = describe_en(*f.reason_code);
    failed.push_back(std::move(row));
  }
  return failed;
}

json states_json(const std::map<std::string, std::map<std::string, int>>& by) {
  json out = json::object();
  for (const auto& [kind, states] : by) {
    for (const auto& [state, count] : states) out[kind][state] = count;
  }
  return out;
}

// The period cut into ?group=day|week|month buckets, each with the overview's period figures and the counts by
// state at its end.
struct Series {
  std::string group;
  std::vector<std::pair<Bucket, Report>> buckets;
};
Series series_of(RouteContext& ctx, const HttpRequest& req, const Computed& c) {
  Series s;
  s.group = req.query_param("group");
  if (s.group.empty()) s.group = "week";
  const auto grouping = parse_grouping(s.group);
  if (!grouping) throw unprocessable("bad_group", "group must be day, week or month.");
  const auto limits = ReportLimits::defaults(static_cast<int>(ctx.options.confirm_within_ms / 60000));
  const auto now = now_millis();
  for (const auto& b : split_period(c.period.from, c.period.to, *grouping)) {
    s.buckets.emplace_back(b, build_report(c.items, b.from, b.to, now, limits));
  }
  return s;
}

HttpResponse csv_response(std::string body, const std::string& filename) {
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  // A byte order mark, so that spreadsheet programs read the Vietnamese text as UTF-8.
  r.body = "\xEF\xBB\xBF" + std::move(body);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string csv_row(std::initializer_list<std::string> fields) {
  std::string line;
  bool first = true;
  for (const auto& f : fields) {
    if (!first) line += ',';
    first = false;
    line += csv_field(f);
  }
  return line + "\r\n";
}

}  // namespace

void add_report_routes(Router& router, RouteContext& context) {
  RouteContext* ctx = &context;

  router.add("GET", "/api/v1/reports/overview", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    json by_state = json::object();
    for (const auto& [kind, states] : c.report.by_state) {
      for (const auto& [state, count] : states) by_state[kind][state] = count;
    }
    json waiting = json::array();
    for (const auto& w : c.report.waiting) waiting.push_back(waiting_json(c, w));
    auto on_time = on_time_json(c, c.report);
    auto transit = transit_json(c.report);
    auto failed = failed_json(c.report);
    reply(json_response(200, {{"sites", c.sites},
                              {"from", c.period.from_date},
                              {"to", c.period.to_date},
                              {"by_state", std::move(by_state)},
                              {"waiting", std::move(waiting)},
                              {"on_time", std::move(on_time)},
                              {"transit_hours", std::move(transit)},
                              {"failed_attempts", std::move(failed)},
                              {"returns", c.report.returns},
                              {"late_dossiers", [&] {
                                 json late = json::array();
                                 for (const auto& l : c.late) late.push_back(late_json(l));
                                 return late;
                               }()}}));
  });

  router.add("GET", "/api/v1/reports/waiting.csv", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    std::string body = csv_row({"item_id", "kind", "state", "state_text", "site", "site_name", "since", "waiting_hours",
                                "limit_hours", "past_due", "dossier_code", "due_date", "late_parts",
                                "failure_reason_code", "failure_action", "next_step"});
    for (const auto& w : c.report.waiting) {
      body += csv_row({w.item_id, std::string(to_string(w.kind)), std::string(to_string(w.state)),
                       std::string(describe_vi(w.kind, w.state)), w.site, name_of(c, w.site), format_rfc3339(w.since),
                       std::to_string(w.waiting_hours), std::to_string(w.limit_hours), w.past_due ? "yes" : "no",
                       w.dossier_code.value_or(""), w.due_date.value_or(""), join_parts(w.late_parts),
                       w.failure_reason ? std::string(to_string(*w.failure_reason)) : "",
                       w.failure_action ? std::string(to_string(*w.failure_action)) : "",
                       w.next_step ? std::string(to_string(*w.next_step)) : ""});
    }
    reply(csv_response(std::move(body), "waiting-" + c.period.to_date + ".csv"));
  });

  // Per day, week or month: the same figures for each bucket of the period.
  router.add("GET", "/api/v1/reports/series", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    const auto s = series_of(*ctx, req, c);
    json buckets = json::array();
    for (const auto& [b, r] : s.buckets) {
      buckets.push_back({{"from", format_date_vn(b.from)},
                         {"to", format_date_vn(b.to - 1)},
                         {"by_state", states_json(states_at(c.items, b.to))},
                         {"on_time", on_time_json(c, r)},
                         {"transit_hours", transit_json(r)},
                         {"failed_attempts", failed_json(r)},
                         {"returns", r.returns}});
    }
    reply(json_response(200, {{"sites", c.sites},
                              {"from", c.period.from_date},
                              {"to", c.period.to_date},
                              {"group", s.group},
                              {"buckets", std::move(buckets)}}));
  });

  router.add("GET", "/api/v1/reports/series.csv", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    const auto s = series_of(*ctx, req, c);
    std::string body = csv_row({"from", "to", "site", "site_name", "leg", "completed", "on_time", "late"});
    for (const auto& [b, r] : s.buckets) {
      for (const auto& o : r.on_time) {
        body += csv_row({format_date_vn(b.from), format_date_vn(b.to - 1), o.site, name_of(c, o.site), o.leg,
                         std::to_string(o.completed), std::to_string(o.on_time), std::to_string(o.late)});
      }
    }
    reply(csv_response(std::move(body), "series-" + s.group + "-" + c.period.to_date + ".csv"));
  });

  // Dossiers with a late part: the office's processing past hẹn trả, or a postal leg past its limit.
  router.add("GET", "/api/v1/reports/late.csv", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    std::string body = csv_row({"dossier_id", "dossier_code", "office", "office_name", "status", "due_at", "since",
                                "late_parts", "due_provisional"});
    for (const auto& l : c.late) {
      const auto& t = l.verdict.timeliness;
      body += csv_row({std::to_string(l.dossier_id), l.dossier_code.value_or(""), l.office, name_of(c, l.office),
                       t.status, t.due_at ? format_rfc3339(*t.due_at) : "", format_rfc3339(t.since),
                       join_parts(l.verdict.late_parts), t.provisional ? "1" : "0"});
    }
    reply(csv_response(std::move(body), "late-" + c.period.to_date + ".csv"));
  });

  router.add("GET", "/api/v1/reports/on-time.csv", [ctx](HttpRequest& req, Reply reply) {
    const auto c = compute(*ctx, req);
    std::string body = csv_row({"site", "site_name", "leg", "completed", "on_time", "late", "rate_percent"});
    for (const auto& o : c.report.on_time) {
      const auto rate = o.completed ? (o.on_time * 1000 / o.completed + 5) / 10 : 0;
      body += csv_row({o.site, name_of(c, o.site), o.leg, std::to_string(o.completed), std::to_string(o.on_time),
                       std::to_string(o.late), std::to_string(rate)});
    }
    reply(csv_response(std::move(body), "on-time-" + c.period.from_date + "-" + c.period.to_date + ".csv"));
  });
}

}  // namespace dpost::server
