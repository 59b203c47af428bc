// HTTP glue for the ledger (signed checkpoints, inclusion and consistency proofs, the full check) and the
// security audit log.

#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "merkle.hpp"
#include "route_util.hpp"
#include "signing.hpp"
#include "text.hpp"
#include "views.hpp"

#include <charconv>

namespace dpost::server {
namespace {

// A whole number query parameter; `code` and `what` name it in the refusal (a ledger tree size by default).
std::uint64_t parse_size(const HttpRequest& req, const char* name, bool required, const char* code = "bad_tree_size",
                         const char* what = "a tree size (a whole number)") {
  const auto text = req.query_param(name);
  if (text.empty()) {
    if (required) throw unprocessable("missing_field", std::string("The parameter \"") + name + "\" is required.");
    return 0;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw unprocessable(code, std::string(name) + " must be " + what + ".");
  }
  return value;
}

json audit_json(const AuditEntry& a) {
  json j = {{"id", a.id},
            {"at", format_rfc3339(a.at)},
            {"username", a.username},
            {"role", a.role},
            {"site", a.site},
            {"address", a.address},
            {"action", a.action},
            {"target", a.target},
            {"target_site", a.target_site},
            {"outcome", a.outcome},
            {"detail", a.detail}};
  j["device_id"] = a.device_id ? json(*a.device_id) : json(nullptr);
  return j;
}

}  // namespace

void add_ledger_routes(Router& router, RouteContext& context) {
  RouteContext* ctx = &context;

  // Public: the latest signed tree head and the key that signs them. They hold no personal data, and anyone
  // may keep copies to hold the server to its history later.
  router.add("GET", "/api/v1/ledger/checkpoint", [ctx](HttpRequest& req, Reply reply) {
    ctx->check_public_rate(req);
    auto cp = ctx->storage.latest_checkpoint();
    if (!cp) throw not_found("The ledger has no checkpoint yet.", "empty_ledger");
    auto j = checkpoint_json(*cp);
    j["public_key"] = signing::base64_encode(ctx->storage.ledger_public_key());
    reply(json_response(200, j));
  });

  router.add("GET", "/api/v1/ledger/key", [ctx](HttpRequest& req, Reply reply) {
    ctx->check_public_rate(req);
    const auto key = ctx->storage.ledger_public_key();
    reply(json_response(200, {{"algorithm", "Ed25519"},
                              {"public_key", signing::base64_encode(key)},
                              {"key_id", signing::key_id(key)},
                              {"origin", "dossier-post/ledger"}}));
  });

  router.add("GET", "/api/v1/ledger/checkpoints", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    ctx->require(a, AccessRequest{Action::verify_ledger}, "ledger");
    json out = json::array();
    for (const auto& cp : ctx->storage.list_checkpoints(100)) out.push_back(checkpoint_json(cp));
    reply(json_response(200, {{"checkpoints", std::move(out)}}));
  });

  // Public: that one signed tree extends another (nothing was removed or rewritten in between).
  router.add("GET", "/api/v1/ledger/proof/consistency", [ctx](HttpRequest& req, Reply reply) {
    ctx->check_public_rate(req);
    const auto first = parse_size(req, "first", true);
    const auto second = parse_size(req, "second", true);
    auto proof = ctx->storage.consistency_proof(first, second);
    if (!proof) {
      throw unprocessable("bad_tree_size", "Tree sizes must satisfy first <= second <= the ledger's size (" +
                                               std::to_string(ctx->storage.ledger_size()) + ").");
    }
    json path = json::array();
    for (const auto& h : *proof) path.push_back(merkle::to_hex(h));
    auto first_root = ctx->storage.ledger_root(first);
    auto second_root = ctx->storage.ledger_root(second);
    reply(json_response(200, {{"first", first},
                              {"second", second},
                              {"first_root", first_root ? json(merkle::to_hex(*first_root)) : json(nullptr)},
                              {"second_root", second_root ? json(merkle::to_hex(*second_root)) : json(nullptr)},
                              {"proof", std::move(path)}}));
  });

  // Staff who may read the event's item: the proof that the event is in the tree of `tree_size` leaves
  // (default: the latest checkpoint), with what its leaf commits to.
  router.add("GET", "/api/v1/ledger/proof/inclusion", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    auto event_id = normalize_uuid(req.query_param("event_id"));
    if (!event_id) throw unprocessable("bad_event_id", "event_id must be a UUID.");
    const auto tree_size = parse_size(req, "tree_size", false);
    auto proof = ctx->storage.inclusion_proof(*event_id, tree_size);
    if (!proof) throw not_found("No such event in a tree of that size.", "unknown_event");
    auto id = ItemId::parse(proof->item_id);
    auto item = id ? ctx->storage.find_item(*id) : std::nullopt;
    if (!item) throw not_found("No such event in a tree of that size.", "unknown_event");
    const auto facts = facts_of(*item);
    ctx->require(a, AccessRequest{Action::read_item, &facts}, proof->item_id);
    reply(json_response(200, inclusion_json(*proof)));
  });

  // The whole check, as `dossier-server verify` runs it, on the live database.
  router.add("GET", "/api/v1/ledger/verify", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    ctx->require(a, AccessRequest{Action::verify_ledger}, "ledger");
    const auto problems = ctx->storage.verify();
    auto cp = ctx->storage.latest_checkpoint();
    reply(json_response(200, {{"intact", problems.empty()},
                              {"problems", problems},
                              {"ledger_size", ctx->storage.ledger_size()},
                              {"checkpoint", cp ? checkpoint_json(*cp) : json(nullptr)}}));
  });

  // The security audit log: admins see all of it, supervisors what happened at or to their sites.
  router.add("GET", "/api/v1/audit", [ctx](HttpRequest& req, Reply reply) {
    const auto a = ctx->authenticate(req);
    const auto site = req.query_param("site");
    ctx->require(a, AccessRequest{Action::read_audit, nullptr, site}, "audit log");
    AuditQuery q;
    if (!site.empty()) {
      q.sites = {site};
    } else if (a.role == Role::supervisor) {
      q.sites = a.scope;
      q.sites.push_back(a.site);
    }
    q.action = req.query_param("action");
    q.username = req.query_param("username");
    if (const auto before = req.query_param("before_id"); !before.empty()) {
      std::int64_t id = 0;
      const auto [end, ec] = std::from_chars(before.data(), before.data() + before.size(), id);
      if (ec != std::errc() || end != before.data() + before.size()) {
        throw unprocessable("bad_before_id", "before_id must be a number.");
      }
      q.before_id = id;
    }
    if (const auto limit = parse_size(req, "limit", false, "bad_limit", "a whole number from 1 to 1000"); limit > 0)
      q.limit = std::min<std::uint64_t>(limit, 1000);
    json out = json::array();
    for (const auto& e : ctx->storage.list_audit(q)) out.push_back(audit_json(e));
    reply(json_response(200, {{"entries", std::move(out)}}));
  });
}

}  // namespace dpost::server
