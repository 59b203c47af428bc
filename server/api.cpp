#include "api.hpp"

#include "access_log.hpp"
#include "api_error.hpp"
#include "auth.hpp"
#include "authorize.hpp"
#include "deadlines.hpp"
#include "json_writer.hpp"
#include "metrics.hpp"
#include "route_util.hpp"
#include "text.hpp"
#include "views.hpp"
#include "worker_pool.hpp"

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_map>

namespace dpost::server {
namespace {

constexpr std::size_t kMaxUsernameLength = 64;

// ---------------------------------------------------------------- rate limiting

// Token bucket per client address for public look-ups (S10 serials are easy to guess: enumeration must be slow).
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}

  // 0 when allowed, otherwise the seconds to wait.
  int check(const std::string& address) {
    if (per_minute_ <= 0) return 0;
    const double now = seconds_now();
    const double capacity = per_minute_;
    const double refill = per_minute_ / 60.0;  // tokens per second
    std::lock_guard lock(mutex_);
    if (buckets_.size() > 100000) purge(now, capacity, refill);
    auto [it, fresh] = buckets_.try_emplace(address, Bucket{capacity, now});
    auto& b = it->second;
    if (!fresh) {
      b.tokens = std::min(capacity, b.tokens + (now - b.at) * refill);
      b.at = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return 0;
    }
    return std::max(1, static_cast<int>((1.0 - b.tokens) / refill + 0.999));
  }

 private:
  struct Bucket {
    double tokens;
    double at;
  };
  static double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void purge(double now, double capacity, double refill) {
    std::erase_if(buckets_,
                  [&](const auto& kv) { return kv.second.tokens + (now - kv.second.at) * refill >= capacity; });
  }
  int per_minute_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// ---------------------------------------------------------------- login throttling

// Slows password guessing: after kMaxFailures failed logins within kWindow for one account (or kMaxAddressFailures
// from one address), further attempts are refused with 429 until the window has passed, whatever the password.
// Kept in memory: a restart forgets it, which only ever helps a legitimate user.
class LoginThrottle {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr int kMaxAddressFailures = 20;
  static constexpr double kWindowSeconds = 15 * 60;

  // 0 when the attempt may go on, otherwise the seconds to wait.
  int check(const std::string& username, const std::string& address) {
    const double now = seconds_now();
    std::lock_guard lock(mutex_);
    return std::max(wait(accounts_, username, kMaxFailures, now), wait(addresses_, address, kMaxAddressFailures, now));
  }
  void failed(const std::string& username, const std::string& address) {
    const double now = seconds_now();
    std::lock_guard lock(mutex_);
    if (accounts_.size() + addresses_.size() > 100000) {
      prune(accounts_, now);
      prune(addresses_, now);
    }
    bump(accounts_[username], now);
    bump(addresses_[address], now);
  }
  void succeeded(const std::string& username) {
    std::lock_guard lock(mutex_);
    accounts_.erase(username);
  }

 private:
  struct Window {
    int failures = 0;
    double started = 0;
  };
  using Table = std::unordered_map<std::string, Window>;

  static double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static void bump(Window& w, double now) {
    if (w.failures == 0 || now - w.started > kWindowSeconds) w = Window{0, now};
    ++w.failures;
  }
  static int wait(const Table& table, const std::string& key, int limit, double now) {
    auto it = table.find(key);
    if (it == table.end() || it->second.failures < limit) return 0;
    const double left = kWindowSeconds - (now - it->second.started);
    return left > 0 ? static_cast<int>(left) + 1 : 0;
  }
  static void prune(Table& table, double now) {
    std::erase_if(table, [now](const auto& kv) { return now - kv.second.started > kWindowSeconds; });
  }

  std::mutex mutex_;
  Table accounts_;
  Table addresses_;
};

// ---------------------------------------------------------------- second factor

// The 6-digit code on the receipt opens the citizen's view of one item. Guessing is slowed twice: by the
// per-address rate limit, and here per item: after kMaxFailures wrong codes within kWindow the item accepts
// no code at all until the window has passed (and answers exactly as for a wrong code).
class LookupCodeGuard {
 public:
  static constexpr int kMaxFailures = 10;
  static constexpr double kWindowSeconds = 60 * 60;

  bool accept(const std::string& item_id, const std::string& code, Storage& storage) {
    const double now = seconds_now();
    {
      std::lock_guard lock(mutex_);
      auto it = failures_.find(item_id);
      if (it != failures_.end() && now - it->second.started > kWindowSeconds) failures_.erase(it);
      it = failures_.find(item_id);
      if (it != failures_.end() && it->second.count >= kMaxFailures) return false;
    }
    bool ok = false;
    if (auto parsed = ItemId::parse(item_id)) {
      if (auto item = storage.find_item(*parsed)) {
        const auto& expected = item->lookup_code;
        ok = !expected.empty() && expected.size() == code.size() &&
             sodium_memcmp(expected.data(), code.data(), code.size()) == 0;
      }
    }
    if (!ok) {
      std::lock_guard lock(mutex_);
      if (failures_.size() > 100000) failures_.clear();
      auto& f = failures_[item_id];
      if (f.count == 0) f.started = now;
      ++f.count;
    }
    return ok;
  }

 private:
  struct Failures {
    int count = 0;
    double started = 0;
  };
  static double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> failures_;
};

// ---------------------------------------------------------------- JSON helpers

const json& require_object(const json& body) {
  if (!body.is_object()) throw bad_request("The JSON body must be an object.", "malformed_request");
  return body;
}

std::string require_string(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    throw unprocessable("missing_field", std::string("The field \"") + field + "\" is required.");
  }
  if (!it->is_string()) {
    throw bad_request(std::string("The field \"") + field + "\" must be a string.", "wrong_type");
  }
  return it->get<std::string>();
}

std::string optional_string(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw bad_request(std::string("The field \"") + field + "\" must be a string.", "wrong_type");
  }
  return it->get<std::string>();
}

ApiError field_error(const FieldError& e) {
  if (e.malformed) return bad_request(e.message, e.code.empty() ? "malformed_request" : e.code);
  return unprocessable(e.code, e.message);
}

std::string format_time(UnixMillis t) {
  return format_rfc3339(t);
}

// The public answer: state, timeline, places and dates; no personal data unless `details` (token) is given.
// Written straight into a string: this is the hottest endpoint.
HttpResponse public_response(const PublicItemView& v, const CitizenDetails* details) {
  JsonWriter w;
  w.begin_object()
      .member("item_id", v.item_id)
      .member("kind", to_string(v.kind))
      .member("state", to_string(v.state))
      .member("state_text", describe_vi(v.kind, v.state))
      .member("state_text_en", describe_en(v.kind, v.state))
      .member("procedure_category", v.procedure_category);
  if (!v.destination_name.empty()) w.member("destination", v.destination_name);
  if (details) {
    // The citizen's own view (QR token or the code on the receipt): the procedure itself and masked names.
    w.member("procedure_name", v.procedure_name);
    w.member("applicant", details->applicant);
    w.key("due_date");
    if (details->due_date) {
      w.value(*details->due_date);
    } else {
      w.null();
    }
  }
  w.key("events").begin_array();
  for (const auto& e : v.events) {
    w.begin_object()
        .member("event_id", e.event_id)
        .member("code", to_string(e.code))
        .member("site", e.site)
        .member("site_name", e.site_name)
        .member("occurred_at", format_time(e.occurred_at))
        .member("received_at", format_time(e.received_at))
        .member("text", describe_vi(e.code))
        .member("text_en", describe_en(e.code));
    if (e.action) {
      w.member("action", to_string(*e.action))
          .member("action_text", describe_vi(*e.action))
          .member("action_text_en", describe_en(*e.action));
    }
    if (details) {
      if (auto it = details->recipients.find(e.event_id); it != details->recipients.end()) {
        w.member("recipient", it->second);
      }
      if (e.reason_code) {
        w.member("reason_code", to_string(*e.reason_code))
            .member("reason_code_text", describe_vi(*e.reason_code))
            .member("reason_code_text_en", describe_en(*e.reason_code));
      }
    }
    w.end_object();
  }
  w.end_array().end_object();
  HttpResponse r;
  r.body = w.take();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

unsigned scan_http_status(ScanStatus s) {
  switch (s) {
    case ScanStatus::recorded:
      return 201;
    case ScanStatus::duplicate:
      return 200;
    case ScanStatus::illegal_transition:
    case ScanStatus::event_id_conflict:
      return 409;
    case ScanStatus::unknown_item:
      return 404;
    case ScanStatus::forbidden:
      return 403;
    case ScanStatus::invalid:
      return 422;
  }
  return 500;
}

std::string_view scan_outcome_name(ScanStatus s) {
  switch (s) {
    case ScanStatus::recorded:
      return "recorded";
    case ScanStatus::duplicate:
      return "duplicate";
    case ScanStatus::illegal_transition:
      return "illegal_transition";
    case ScanStatus::event_id_conflict:
      return "event_id_conflict";
    case ScanStatus::unknown_item:
      return "unknown_item";
    case ScanStatus::forbidden:
      return "forbidden";
    case ScanStatus::invalid:
      return "invalid";
  }
  return "invalid";
}

json scan_error_json(const ScanOutcome& o) {
  json e = {{"code", o.error_code}, {"message", o.message}};
  if (o.status == ScanStatus::illegal_transition && o.item) {
    e["state"] = to_string(o.item->state);
    json allowed = json::array();
    for (auto c : o.allowed) allowed.push_back(to_string(c));
    e["allowed"] = std::move(allowed);
  }
  return e;
}

json scan_result_json(const ScanOutcome& o) {
  json j = {{"event_id", o.event_id}, {"status", scan_http_status(o.status)}, {"outcome", scan_outcome_name(o.status)}};
  if (o.item) j["item"] = item_summary_json(*o.item);
  if (o.event) j["event"] = event_json(*o.event);
  if (o.status != ScanStatus::recorded && o.status != ScanStatus::duplicate) j["error"] = scan_error_json(o);
  return j;
}

// A device says what its clock read when it sent the request ("sent_at"); the difference to the server's clock
// is recorded with each event, so late or wrong device times can be judged later.
std::optional<UnixMillis> clock_offset(const json& body) {
  if (!body.is_object()) return std::nullopt;
  auto it = body.find("sent_at");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw bad_request("The field \"sent_at\" must be an RFC 3339 time string.", "wrong_type");
  auto sent = parse_rfc3339(it->get<std::string>());
  if (!sent) throw unprocessable("bad_time", "sent_at must be an RFC 3339 time with an offset.");
  return now_millis() - *sent;
}

template <class T>
T unwrap(Outcome<T>& outcome) {
  if (outcome.has_error()) std::rethrow_exception(outcome.error());
  return std::move(*outcome);
}

ItemId parse_item_path(std::string_view text) {
  auto id = ItemId::parse(text);
  if (!id) throw unprocessable(std::string(to_code(id.error())), std::string(describe(id.error())));
  return *id;
}

}  // namespace

AuditEntry audit_entry(const Actor& actor, std::string action, std::string target, std::string outcome,
                       std::string detail) {
  AuditEntry a;
  a.at = now_millis();
  a.user_id = actor.user_id;
  a.username = actor.username;
  a.role = std::string(to_string(actor.role));
  a.site = actor.site;
  a.device_id = actor.device_id;
  a.address = actor.address;
  a.action = std::move(action);
  a.target = std::move(target);
  a.outcome = std::move(outcome);
  a.detail = std::move(detail);
  return a;
}

// ---------------------------------------------------------------- authorization of scans

ScanPolicy default_scan_policy() {
  return [](const Actor& a, const ScanRequest& s, const ScanTarget& t) -> std::optional<std::string> {
    ItemFacts facts;
    facts.kind = t.kind;
    facts.state = t.state;
    facts.origin_site = t.origin_site;
    facts.destination_site = t.destination_site;
    facts.office = t.office;
    facts.route = t.route;
    const auto decision = authorize(a, AccessRequest{Action::record_event, &facts, s.site, {}, s.code});
    if (decision.allowed) return std::nullopt;
    return decision.reason;
  };
}

// ---------------------------------------------------------------- the API

// Metrics, the access log and the route pattern of every handler. Shared by pointer with every wrapped Reply:
// a storage callback may complete a request after a hard stop, when the Api itself is gone.
struct Instruments {
  Metrics metrics;
  AccessLog access_log;
  bool log_requests = true;
  // Filled once after every route was added, read without a lock afterwards.
  std::unordered_map<const Handler*, std::string> route_patterns;

  std::string_view route_of(const Handler* handler) const {
    auto it = route_patterns.find(handler);
    return it == route_patterns.end() ? std::string_view("-") : std::string_view(it->second);
  }
};

struct Api::Impl {
  Impl(Storage& s, ApiOptions o)
      : storage(s),
        options(std::move(o)),
        pool(options.workers, "dpost-work"),
        limiter(options.public_rate_per_minute),
        context{storage, options, [this](const HttpRequest& r) { return authenticate(r); },
                [this](const HttpRequest& r) { check_public_rate(r); },
                [this](const Actor& a, const AccessRequest& r, const std::string& target) { require(a, r, target); },
                // Route files audit denials and device changes: rare, and on record before the answer.
                [this](AuditEntry e) { audit_durably(std::move(e)); },
                [this](const Actor& a, std::string target, std::string site, Reply reply,
                       std::function<HttpResponse()> make) {
                  disclose(a, std::move(target), std::move(site), std::move(reply), std::move(make));
                },
                [this](const std::string& item_id, const std::string& code) {
                  return lookup_codes.accept(item_id, code, storage);
                },
                deadlines} {
    add_routes();
    add_custody_routes(router, context);
    add_ledger_routes(router, context);
    add_report_routes(router, context);
    add_deadline_routes(router, context);
    add_label_routes(router, context);
    add_device_routes(router, context);
    add_page_routes(router, context);
    instruments->log_requests = options.log_requests;
    for (auto status :
         {ScanStatus::recorded, ScanStatus::duplicate, ScanStatus::illegal_transition, ScanStatus::event_id_conflict,
          ScanStatus::unknown_item, ScanStatus::forbidden, ScanStatus::invalid}) {
      instruments->metrics.declare_scan_outcome(scan_outcome_name(status));
    }
    // The Router's Match gives the handler, not the pattern; a pattern matched as a path ("{item_id}" is a valid
    // segment) finds its own route, since literal segments win over parameters.
    for (const auto& info : router.routes()) {
      auto match = router.match(info.method, info.pattern);
      if (match.handler) instruments->route_patterns.emplace(match.handler, info.pattern);
    }
  }

  Storage& storage;
  ApiOptions options;
  Router router;
  WorkerPool pool;  // blocking work (password hashing, storage reads), never on the I/O threads
  RateLimiter limiter;
  LoginThrottle login_throttle;
  LookupCodeGuard lookup_codes;
  DeadlineBook deadlines{storage};
  RouteContext context;
  std::shared_ptr<Instruments> instruments = std::make_shared<Instruments>();

  // --- auth

  // Whether authenticate(req) would find its token without a read. It can still miss if the cache is emptied
  // in between (a logout or a revocation): that one request then reads, and a revoked device's refusal writes
  // its audit row, on the I/O thread.
  bool token_is_cached(const HttpRequest& req) {
    const auto token = bearer_token(req);
    return token && storage.cached_session(*token, now_millis()).has_value();
  }

  static std::optional<std::string_view> bearer_token(const HttpRequest& req) {
    const auto header = req.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) return std::nullopt;
    return header.substr(kBearer.size());
  }

  Actor authenticate(const HttpRequest& req) {
    const auto bearer = bearer_token(req);
    if (!bearer) throw unauthorized();
    const auto token = *bearer;
    auto actor = storage.find_session(token, now_millis());
    if (!actor) {
      if (auto device = storage.revoked_device(token)) {
        AuditEntry e;
        e.at = now_millis();
        e.address = req.remote_address;
        e.username = device->username;
        e.site = device->site;
        e.device_id = device->id;
        e.action = "device_revoked";
        e.target = "device " + std::to_string(device->id);
        e.target_site = device->site;
        e.outcome = "denied";
        e.detail = "a revoked device token was used";
        audit_durably(std::move(e));
        throw ApiError(401, "device_revoked",
                       "This device's token was revoked: queued scans stay on the device; ask for a new token.");
      }
      throw unauthorized("The session is unknown or expired: log in again.");
    }
    actor->address = req.remote_address;
    return *actor;
  }

  void audit(AuditEntry entry) {
    storage.append_audit(std::move(entry), [](Outcome<bool> r) {
      if (!r.has_error()) return;
      try {
        std::rethrow_exception(r.error());
      } catch (const std::exception& e) {
        log_event(LogLevel::error, "audit_write_failed", {{"error", e.what()}});
      } catch (...) {
        log_event(LogLevel::error, "audit_write_failed", {{"error", "non-standard exception"}});
      }
    });
  }

  // Refusals are on record before the caller hears of them: handlers run on the worker pool, and the writer
  // thread that commits the entry needs nothing from it, so waiting here is safe (and denials are rare).
  void audit_durably(AuditEntry entry) {
    try {
      await_write<bool>([&](Done<bool> done) { storage.append_audit(std::move(entry), std::move(done)); });
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "audit_write_failed", {{"error", e.what()}});
    }
  }

  void require(const Actor& a, const AccessRequest& r, const std::string& target) {
    const auto decision = authorize(a, r);
    if (decision.allowed) return;
    auto entry = audit_entry(a, "denied", target, "denied", std::string(to_string(r.action)) + ": " + decision.reason);
    entry.target_site = r.item ? r.item->office : r.site;
    audit_durably(std::move(entry));
    throw forbidden(decision.reason);
  }

  void disclose(const Actor& a, std::string target, std::string site, Reply reply, std::function<HttpResponse()> make) {
    auto entry = audit_entry(a, "read_personal", std::move(target), "ok", "");
    entry.target_site = std::move(site);
    storage.append_audit(std::move(entry), [reply = std::move(reply), make = std::move(make)](Outcome<bool> r) {
      guarded(reply, [&] {
        if (r.has_error()) throw unavailable("The access log cannot be written, so the record is not shown.");
        reply(make());
      });
    });
  }

  static void require_role(const Actor& a, std::initializer_list<Role> roles, std::string_view what) {
    if (std::find(roles.begin(), roles.end(), a.role) == roles.end()) {
      throw forbidden("Your role (" + std::string(to_string(a.role)) + ") may not " + std::string(what) + ".");
    }
  }

  void check_public_rate(const HttpRequest& req) {
    if (int wait = limiter.check(req.remote_address); wait > 0) {
      auto e = ApiError(429, "rate_limited",
                        "Too many look-ups from your address: try again in " + std::to_string(wait) + " seconds.");
      e.headers.emplace_back("Retry-After", std::to_string(wait));
      throw e;
    }
  }

  // --- routes

  void add_routes() {
    router.add(
        "GET", "/healthz", [this](HttpRequest&, Reply reply) { healthz(reply); }, Exec::inline_io);
    // While draining, HttpServer answers /readyz itself (503 draining) before it reaches this handler.
    router.add(
        "GET", "/readyz", [this](HttpRequest&, Reply reply) { readyz(reply); }, Exec::inline_io);
    // On the worker pool: the storage figures include a (short, indexed) query of the notification queue.
    router.add("GET", "/metrics", [this](HttpRequest&, Reply reply) { metrics(reply); });
    router.add("POST", "/api/v1/login", [this](HttpRequest& r, Reply reply) { login(r, std::move(reply)); });
    router.add("POST", "/api/v1/logout", [this](HttpRequest& r, Reply reply) { logout(r, std::move(reply)); });
    router.add("GET", "/api/v1/me", [this](HttpRequest& r, Reply reply) { me(r, reply); });
    router.add("GET", "/api/v1/sites", [this](HttpRequest& r, Reply reply) { list_sites(r, reply); });
    router.add("POST", "/api/v1/sites", [this](HttpRequest& r, Reply reply) { create_site(r, std::move(reply)); });
    router.add("GET", "/api/v1/users", [this](HttpRequest& r, Reply reply) { list_users(r, reply); });
    router.add("POST", "/api/v1/users", [this](HttpRequest& r, Reply reply) { create_user(r, std::move(reply)); });
    router.add("PUT", "/api/v1/users/{username}/scope",
               [this](HttpRequest& r, Reply reply) { set_scope(r, std::move(reply)); });
    router.add("POST", "/api/v1/dossiers",
               [this](HttpRequest& r, Reply reply) { create_dossier(r, std::move(reply)); });
    router.add("GET", "/api/v1/dossiers/{id}", [this](HttpRequest& r, Reply reply) { get_dossier(r, reply); });
    router.add("POST", "/api/v1/dossiers/{id}/result",
               [this](HttpRequest& r, Reply reply) { create_result(r, std::move(reply)); });
    // Scans only parse and queue for the writer: inline once their token is known (Exec says why).
    router.add(
        "POST", "/api/v1/scans", [this](HttpRequest& r, Reply reply) { scan(r, std::move(reply)); },
        Exec::inline_if_authenticated);
    router.add(
        "POST", "/api/v1/scans/batch", [this](HttpRequest& r, Reply reply) { scan_batch(r, std::move(reply)); },
        Exec::inline_if_authenticated);
    router.add("GET", "/api/v1/items/{item_id}", [this](HttpRequest& r, Reply reply) { get_item(r, reply); });
    // Public look-ups are short indexed reads: served on the I/O thread, no hop through the pool.
    router.add(
        "GET", "/api/v1/track/{item_id}", [this](HttpRequest& r, Reply reply) { track(r, reply); }, Exec::inline_io);
    router.add(
        "GET", "/api/v1/track/token/{token}", [this](HttpRequest& r, Reply reply) { track_token(r, reply); },
        Exec::inline_io);
  }

  void healthz(const Reply& reply) {
    if (storage.healthy()) {
      reply(json_response(200, {{"status", "ok"}}));
    } else {
      reply(error_response(503, "storage_unavailable", "The database does not answer."));
    }
  }

  void readyz(const Reply& reply) {
    if (storage.healthy()) {
      reply(json_response(200, {{"status", "ready"}}));
    } else {
      reply(error_response(503, "storage_unavailable", "The database does not answer."));
    }
  }

  void metrics(const Reply& reply) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = instruments->metrics.render() + render_storage_metrics(storage.stats()) +
             render_calendar_metrics(options.calendar_last_year);
    r.headers.emplace_back("Cache-Control", "no-store");
    reply(std::move(r));
  }

  void login(HttpRequest& req, Reply reply) {
    const auto body = parse_json_body(req);
    require_object(body);
    const auto username = require_string(body, "username");
    const auto password = require_string(body, "password");
    if (username.size() > kMaxUsernameLength || password.size() > 1024) {
      throw ApiError(401, "invalid_credentials", "Wrong username or password.");
    }
    if (int wait = login_throttle.check(username, req.remote_address); wait > 0) {
      AuditEntry entry;
      entry.at = now_millis();
      entry.username = username;
      entry.address = req.remote_address;
      entry.action = "login_throttled";
      entry.outcome = "denied";
      entry.detail = "too many failed logins";
      audit(std::move(entry));
      ApiError e(429, "too_many_attempts",
                 "Too many failed logins: try again in " + std::to_string((wait + 59) / 60) + " minutes.");
      e.headers.emplace_back("Retry-After", std::to_string(wait));
      throw e;
    }
    auto login = storage.find_login(username);
    bool ok = false;
    if (login && login->user.active) {
      ok = verify_password(login->password_hash, password);
    } else {
      verify_password_dummy(password);
    }
    if (!ok) {
      login_throttle.failed(username, req.remote_address);
      AuditEntry e;
      e.at = now_millis();
      e.username = username.size() <= kMaxUsernameLength ? username : std::string();
      e.address = req.remote_address;
      e.action = "login_failed";
      e.outcome = "failed";
      e.detail = login ? "wrong password" : "unknown or inactive account";
      audit(std::move(e));
      throw ApiError(401, "invalid_credentials", "Wrong username or password.");
    }
    login_throttle.succeeded(username);
    auto user = login->user;
    {
      Actor who{user.id, user.username, user.role, user.site, std::nullopt, {}, req.remote_address};
      audit(audit_entry(who, "login", user.username, "ok", ""));
    }
    storage.create_session(user.id, options.session_ttl_ms, [reply, user](Outcome<SessionInfo> r) {
      guarded(reply, [&] {
        auto session = unwrap(r);
        json u = {{"username", user.username}, {"role", to_string(user.role)}};
        u["site"] = user.site.empty() ? json(nullptr) : json(user.site);
        reply(json_response(
            200, {{"token", session.token}, {"expires_at", format_time(session.expires_at)}, {"user", std::move(u)}}));
      });
    });
  }

  void logout(HttpRequest& req, Reply reply) {
    authenticate(req);
    std::string token(req.header("authorization").substr(7));
    storage.delete_session(std::move(token), [reply](Outcome<bool> r) {
      guarded(reply, [&] {
        unwrap(r);
        reply(json_response(200, {{"status", "logged_out"}}));
      });
    });
  }

  void me(HttpRequest& req, const Reply& reply) {
    const auto a = authenticate(req);
    json u = {{"username", a.username}, {"role", to_string(a.role)}, {"scope", a.scope}};
    u["site"] = a.site.empty() ? json(nullptr) : json(a.site);
    if (a.device_id) u["device_id"] = *a.device_id;
    reply(json_response(200, {{"user", std::move(u)}}));
  }

  void list_sites(HttpRequest& req, const Reply& reply) {
    authenticate(req);
    json out = json::array();
    for (const auto& s : storage.list_sites()) out.push_back(site_json(s));
    reply(json_response(200, {{"sites", std::move(out)}}));
  }

  void create_site(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    require(a, AccessRequest{Action::manage_sites}, "sites");
    const auto body = parse_json_body(req);
    require_object(body);
    Site s;
    s.serving_post_office = optional_string(body, "serving_post_office");
    s.code = require_string(body, "code");
    const auto kind = parse_site_kind(require_string(body, "kind"));
    s.name = require_string(body, "name");
    s.agency_id = optional_string(body, "agency_id");
    s.address = optional_string(body, "address");
    s.province_code = optional_string(body, "province_code");
    if (const auto area = optional_string(body, "area"); !area.empty()) {
      s.area = parse_area(area);
      if (!s.area) throw unprocessable("unknown_area", "area must be \"urban\", \"rural\" or \"remote\".");
    }
    if (s.province_code.size() > 10 || !std::all_of(s.province_code.begin(), s.province_code.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch));
        })) {
      throw unprocessable("bad_province_code", "province_code is up to 10 letters or digits (e.g. \"01\").");
    }
    if (!is_valid_site_code(s.code)) {
      throw unprocessable("bad_site_code", "A site code has 1 to 40 characters: letters, digits, '.', '_' or '-'.");
    }
    if (!kind) throw unprocessable("unknown_site_kind", "kind must be \"post_office\" or \"office\".");
    s.kind = *kind;
    for (const auto* text : {&s.name, &s.agency_id, &s.address}) {
      if (!is_clean_text(*text) || text->size() > 500) throw unprocessable("invalid_text", "A text field is invalid.");
    }
    if (s.name.empty()) throw unprocessable("missing_field", "The field \"name\" is required.");
    storage.create_site(std::move(s), [reply](Outcome<Site> r) {
      guarded(reply, [&] { reply(json_response(201, site_json(unwrap(r)))); });
    });
  }

  void list_users(HttpRequest& req, const Reply& reply) {
    const auto a = authenticate(req);
    require(a, AccessRequest{Action::manage_users}, "users");
    json out = json::array();
    for (const auto& u : storage.list_users()) out.push_back(user_json(u));
    reply(json_response(200, {{"users", std::move(out)}}));
  }

  void create_user(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    require(a, AccessRequest{Action::manage_users}, "users");
    const auto body = parse_json_body(req);
    require_object(body);
    User u;
    u.username = require_string(body, "username");
    const auto password = require_string(body, "password");
    const auto role = parse_role(require_string(body, "role"));
    u.site = optional_string(body, "site");
    u.full_name = optional_string(body, "full_name");
    if (u.username.empty() || u.username.size() > kMaxUsernameLength ||
        !std::all_of(u.username.begin(), u.username.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        })) {
      throw unprocessable("bad_username", "A username has 1 to 64 characters: letters, digits, '.', '_' or '-'.");
    }
    if (!role) throw unprocessable("unknown_role", "role must be clerk, office_staff, supervisor or admin.");
    u.role = *role;
    if (!is_acceptable_password(password)) {
      throw unprocessable("weak_password", "A password needs 10 to 128 characters.");
    }
    if (u.role != Role::admin && u.site.empty()) {
      throw unprocessable("missing_field", "Clerks, office staff and supervisors are bound to a site: give \"site\".");
    }
    if (!u.site.empty()) {
      auto site = storage.find_site(u.site);
      if (!site) throw unprocessable("unknown_site", "There is no site with code " + u.site + ".");
      if (u.role == Role::clerk && site->kind != SiteKind::post_office) {
        throw unprocessable("wrong_site_kind", "A clerk is bound to a post office.");
      }
      if (u.role == Role::office_staff && site->kind != SiteKind::office) {
        throw unprocessable("wrong_site_kind", "Office staff are bound to a one-stop office.");
      }
    }
    if (!is_clean_text(u.full_name) || u.full_name.size() > 200) {
      throw unprocessable("invalid_text", "full_name is not valid text.");
    }
    storage.create_user(std::move(u), hash_password(password), [reply](Outcome<User> r) {
      guarded(reply, [&] { reply(json_response(201, user_json(unwrap(r)))); });
    });
  }

  // A supervisor's further sites (a district, a province): {"sites": ["BC-HN01", ...]}.
  void set_scope(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    require(a, AccessRequest{Action::manage_users}, "users");
    const auto body = parse_json_body(req);
    require_object(body);
    auto sites = body.find("sites");
    if (sites == body.end() || !sites->is_array()) {
      throw bad_request("The body must be {\"sites\": [\"SITE\", ...]}.", "wrong_type");
    }
    std::vector<std::string> codes;
    for (const auto& s : *sites) {
      if (!s.is_string() || !is_valid_site_code(s.get<std::string>())) {
        throw unprocessable("bad_site_code", "Each site is a site code.");
      }
      codes.push_back(s.get<std::string>());
    }
    if (codes.size() > 1000) throw ApiError(413, "too_many_sites", "At most 1000 sites.");
    auto username = std::string(req.param("username"));
    audit(audit_entry(a, "set_scope", username, "ok", std::to_string(codes.size()) + " site(s)"));
    storage.set_user_scope(std::move(username), std::move(codes), [reply](Outcome<User> r) {
      guarded(reply, [&] { reply(json_response(200, user_json(unwrap(r)))); });
    });
  }

  void create_dossier(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    const auto body = parse_json_body(req);
    auto parsed = parse_new_dossier(body);
    if (auto* e = std::get_if<FieldError>(&parsed)) throw field_error(*e);
    auto request = std::get<NewDossierRequest>(std::move(parsed));
    require(a, AccessRequest{Action::create_dossier, nullptr, request.office}, "new dossier");
    storage.create_dossier(a, std::move(request), [reply](Outcome<DossierCreated> r) {
      guarded(reply, [&] {
        auto created = unwrap(r);
        json items = json::array();
        for (const auto& i : created.items) items.push_back(item_summary_json(i));
        reply(json_response(201, {{"id", created.id}, {"items", std::move(items)}}));
      });
    });
  }

  void get_dossier(HttpRequest& req, const Reply& reply) {
    const auto a = authenticate(req);
    auto d = storage.find_dossier(parse_path_id(req.param("id"), "dossier"));
    if (!d) throw not_found("There is no dossier " + std::string(req.param("id")) + ".");
    const auto facts = facts_of(*d, storage.dossier_routes(d->id));
    const auto target = "dossier " + std::to_string(d->id);
    require(a, AccessRequest{Action::read_item, &facts}, target);
    auto site = d->office;  // before the lambda moves the dossier (argument order is unspecified)
    auto verdict = deadlines.judge(d->id, now_millis());
    disclose(a, target, std::move(site), reply, [d = std::move(*d), a, verdict = std::move(verdict)] {
      auto j = dossier_json(d, a);
      if (verdict) j["deadline"] = verdict_json(*verdict);
      return json_response(200, j);
    });
  }

  void create_result(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    const auto id = parse_path_id(req.param("id"), "dossier");
    auto d = storage.find_dossier(id);
    if (!d) throw not_found("There is no dossier " + std::string(req.param("id")) + ".");
    require(a, AccessRequest{Action::create_result, nullptr, d->office}, "dossier " + std::to_string(id));
    std::optional<std::string> delivery;
    if (!req.body.empty()) {
      const auto body = parse_json_body(req);
      require_object(body);
      if (auto v = optional_string(body, "delivery_post_office"); !v.empty()) delivery = v;
    }
    storage.create_result(a, id, delivery, [reply](Outcome<ItemSummary> r) {
      guarded(reply, [&] { reply(json_response(201, item_summary_json(unwrap(r)))); });
    });
  }

  void scan(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    const auto body = parse_json_body(req);
    auto parsed = parse_scan(body);
    if (auto* e = std::get_if<FieldError>(&parsed)) {
      instruments->metrics.count_scan(scan_outcome_name(ScanStatus::invalid));
      throw field_error(*e);
    }
    std::vector<ScanRequest> scans;
    scans.push_back(std::get<ScanRequest>(std::move(parsed)));
    auto on_done = [reply, instruments = instruments](Outcome<std::vector<ScanOutcome>> r) {
      guarded(reply, [&] {
        auto outcomes = unwrap(r);
        const auto& o = outcomes.at(0);
        instruments->metrics.count_scan(scan_outcome_name(o.status));
        const auto status = scan_http_status(o.status);
        if (status >= 400) {
          auto err = scan_error_json(o);
          const auto code = err["code"].get<std::string>();
          const auto message = err["message"].get<std::string>();
          err.erase("code");
          err.erase("message");
          ApiError e(status, code, message);
          if (!err.empty()) e.details_json = err.dump();
          throw e;
        }
        json out = {{"status", scan_outcome_name(o.status)}};
        if (o.event) out["event"] = event_json(*o.event);
        if (o.item) out["item"] = item_summary_json(*o.item);
        reply(json_response(status, out));
      });
    };
    storage.record_scans(a, std::move(scans), clock_offset(body), std::move(on_done));
  }

  void scan_batch(HttpRequest& req, Reply reply) {
    const auto a = authenticate(req);
    const auto body = parse_json_body(req);
    require_object(body);
    auto events = body.find("events");
    if (events == body.end()) throw unprocessable("missing_field", "The field \"events\" is required.");
    if (!events->is_array()) throw bad_request("The field \"events\" must be an array.", "wrong_type");
    if (events->size() > options.max_batch_events) {
      throw ApiError(413, "batch_too_large",
                     "A batch holds at most " + std::to_string(options.max_batch_events) + " events: split it.");
    }
    // Parse every event; the valid ones are applied in order of occurrence (an offline device may send them
    // in any order), and the answers go back in the order sent.
    auto results = std::make_shared<std::vector<json>>(events->size());
    std::vector<std::pair<std::size_t, ScanRequest>> valid;
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto& ev = (*events)[i];
      auto parsed = parse_scan(ev);
      if (auto* e = std::get_if<FieldError>(&parsed)) {
        json r = {{"status", e->malformed ? 400 : 422},
                  {"outcome", "invalid"},
                  {"error", {{"code", e->code}, {"message", e->message}}}};
        if (ev.is_object() && ev.contains("event_id") && ev["event_id"].is_string()) r["event_id"] = ev["event_id"];
        (*results)[i] = std::move(r);
        instruments->metrics.count_scan(scan_outcome_name(ScanStatus::invalid));
      } else {
        valid.emplace_back(i, std::get<ScanRequest>(std::move(parsed)));
      }
    }
    std::stable_sort(valid.begin(), valid.end(),
                     [](const auto& x, const auto& y) { return x.second.occurred_at < y.second.occurred_at; });
    std::vector<std::size_t> positions;
    std::vector<ScanRequest> scans;
    for (auto& [i, s] : valid) {
      positions.push_back(i);
      scans.push_back(std::move(s));
    }
    storage.record_scans(a, std::move(scans), clock_offset(body),
                         [reply, results, positions = std::move(positions),
                          instruments = instruments](Outcome<std::vector<ScanOutcome>> r) {
                           guarded(reply, [&] {
                             auto outcomes = unwrap(r);
                             for (std::size_t k = 0; k < outcomes.size(); ++k) {
                               instruments->metrics.count_scan(scan_outcome_name(outcomes[k].status));
                               (*results)[positions[k]] = scan_result_json(outcomes[k]);
                             }
                             reply(json_response(200, {{"results", std::move(*results)}}));
                           });
                         });
  }

  void get_item(HttpRequest& req, const Reply& reply) {
    const auto a = authenticate(req);
    const auto id = parse_item_path(req.param("item_id"));
    auto v = storage.find_item(id);
    if (!v) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    const auto facts = facts_of(*v);
    require(a, AccessRequest{Action::read_item, &facts}, id.str());
    // The site is copied first: the lambda below moves the view, and argument order is unspecified.
    auto site = v->dossier.office;
    auto requests = storage.citizen_requests(id);
    auto verdict = deadlines.judge(v->dossier.id, now_millis());
    disclose(a, id.str(), std::move(site), reply,
             [v = std::move(*v), a, base = options.public_base_url, requests = std::move(requests),
              verdict = std::move(verdict)] {
               auto j = item_json(v, a, base);
               // Whether this leg and the dossier are early, on time or late (deadlines.hpp).
               if (verdict) {
                 const auto* leg = leg_of(*verdict, v.item_id);
                 j["timeliness"] = leg ? timeliness_json(leg->timeliness) : json(nullptr);
                 j["dossier"]["deadline"] = verdict_json(*verdict);
               }
               // What the citizen asked from the tracking page: a new delivery attempt, a rating.
               json asked = json::array();
               for (const auto& r : requests) {
                 json one = {{"kind", r.kind}, {"after_event", r.after_event}, {"at", format_rfc3339(r.created_at)}};
                 one["rating"] = r.rating ? json(*r.rating) : json(nullptr);
                 one["comment"] = r.comment ? json(*r.comment) : json(nullptr);
                 one["preferred_date"] = r.preferred_date ? json(*r.preferred_date) : json(nullptr);
                 asked.push_back(std::move(one));
               }
               j["citizen_requests"] = std::move(asked);
               return json_response(200, j);
             });
  }

  void track(HttpRequest& req, const Reply& reply) {
    check_public_rate(req);
    const auto id = parse_item_path(req.param("item_id"));
    const auto code = req.query_param("code");
    if (!code.empty()) {
      // The second factor printed on the receipt. A wrong code and an unknown item get the same answer, and an
      // item whose code was guessed wrong too often answers as if it did not exist for a while.
      auto v = lookup_codes.accept(id.str(), code, storage) ? storage.track_item(id) : std::nullopt;
      if (!v) throw not_found("There is no item for this number and code.", "unknown_item");
      const auto details = citizen_details(storage, v->item_id);
      reply(public_response(*v, &details));
      return;
    }
    auto v = storage.track_item(id);
    if (!v) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    reply(public_response(*v, nullptr));
  }

  void track_token(HttpRequest& req, const Reply& reply) {
    check_public_rate(req);
    auto v = storage.track_token(req.param("token"));
    // Same answer for a wrong token as for an unknown one: the token is the secret.
    if (!v) throw not_found("There is no item for this link.", "unknown_item");
    const auto details = citizen_details(storage, v->item_id);
    reply(public_response(*v, &details));
  }

  // Wraps `reply` so that the answer is counted, timed and logged under the route pattern (never the raw path,
  // which carries QR tokens and item ids) when it is produced, on whichever thread produces it.
  Reply instrument(std::string_view route, const HttpRequest& request, Reply reply) const {
    return [instruments = instruments, route, method = method_label(request.method), remote = request.remote_address,
            start = std::chrono::steady_clock::now(), reply = std::move(reply)](HttpResponse response) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      instruments->metrics.observe_request(route, method, response.status, seconds);
      if (instruments->log_requests) {
        instruments->access_log.write({method, route, response.status, seconds * 1000, response.body.size(), remote});
      }
      reply(std::move(response));
    };
  }

  void dispatch(HttpRequest&& request, Reply original_reply) {
    auto match = router.match(request.method, request.path);
    Reply reply =
        instrument(match.handler ? instruments->route_of(match.handler) : "-", request, std::move(original_reply));
    if (!match.handler) {
      if (match.method_mismatch) {
        auto r = error_response(405, "method_not_allowed", request.method + " is not allowed here.");
        r.headers.emplace_back("Allow", match.allow);
        reply(std::move(r));
      } else {
        reply(error_response(404, "not_found", "There is nothing at " + request.path + "."));
      }
      return;
    }
    request.params = std::move(match.params);
    const Handler* handler = match.handler;
    if (match.exec == Exec::inline_io || (match.exec == Exec::inline_if_authenticated && token_is_cached(request))) {
      guarded(reply, [&] { (*handler)(request, reply); });
      return;
    }
    pool.post([handler, request = std::move(request), reply = std::move(reply)]() mutable {
      guarded(reply, [&] { (*handler)(request, reply); });
    });
  }
};

Api::Api(Storage& storage, ApiOptions options) : impl_(std::make_unique<Impl>(storage, std::move(options))) {}
Api::~Api() = default;
void Api::dispatch(HttpRequest&& request, Reply reply) {
  impl_->dispatch(std::move(request), std::move(reply));
}
const Router& Api::router() const {
  return impl_->router;
}

}  // namespace dpost::server
