#include "api.hpp"
#include "api_error.hpp"
#include "authorize.hpp"
#include "route_util.hpp"
#include "signing.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

namespace dpost::server {
namespace {

using nlohmann::json;

json device_json(const Device& d) {
  json j = {{"id", d.id},
            {"name", d.name},
            {"username", d.username},
            {"site", d.site},
            {"created_at", format_rfc3339(d.created_at)}};
  j["revoked_at"] = d.revoked_at ? json(format_rfc3339(*d.revoked_at)) : json(nullptr);
  j["public_key"] = d.public_key ? json(signing::base64_encode(*d.public_key)) : json(nullptr);
  return j;
}

}  // namespace

// Scanner devices: a clerk or office staff member enrolls a device for themselves (an admin may enrol one for
// them); its token then authenticates scans as that user until someone revokes it.
void add_device_routes(Router& router, RouteContext& ctx) {
  router.add("POST", "/api/v1/devices", [&ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx.authenticate(req);
    if (actor.device_id) throw forbidden("A device token cannot enrol other devices: log in as a person.");
    const auto body = parse_json_body(req);
    if (!body.is_object()) throw bad_request("The JSON body must be an object.", "malformed_request");
    // Who first, then what: a caller who may not enrol learns nothing from the body's checks.
    std::string for_user;
    if (auto u = body.find("username"); u != body.end() && !u->is_null()) {
      if (!u->is_string()) throw bad_request("The field \"username\" must be a string.", "wrong_type");
      if (u->get<std::string>() != actor.username) for_user = u->get<std::string>();
    }
    std::int64_t user_id = actor.user_id;
    if (!for_user.empty()) {
      ctx.require(actor, AccessRequest{Action::manage_devices}, "device for " + for_user);
    } else if (actor.role != Role::clerk && actor.role != Role::office_staff) {
      ctx.audit(
          audit_entry(actor, "denied", "device", "denied", "enrol_device: devices are for clerks and office staff"));
      throw forbidden("Devices are for clerks and office staff.");
    }
    auto name_it = body.find("name");
    if (name_it == body.end() || name_it->is_null()) {
      throw unprocessable("missing_field", "The field \"name\" is required (e.g. \"Máy quét quầy 1\").");
    }
    if (!name_it->is_string()) throw bad_request("The field \"name\" must be a string.", "wrong_type");
    const auto name = name_it->get<std::string>();
    if (name.empty() || name.size() > 100 || !is_clean_text(name)) {
      throw unprocessable("invalid_text", "name must be 1 to 100 characters of text.");
    }
    // The device's Ed25519 public key: every scan it sends is signed with the matching private key, which
    // never leaves the device.
    auto key_it = body.find("public_key");
    if (key_it == body.end() || key_it->is_null()) {
      throw unprocessable("missing_field",
                          "The field \"public_key\" is required: the device's Ed25519 public key, base64 (32 bytes).");
    }
    if (!key_it->is_string()) throw bad_request("The field \"public_key\" must be a string.", "wrong_type");
    const auto public_key = signing::base64_decode_fixed<32>(key_it->get<std::string>());
    if (!public_key) throw unprocessable("bad_public_key", "public_key must be 32 bytes in base64.");
    if (!signing::is_valid_public_key(*public_key)) {
      throw unprocessable("bad_public_key",
                          "public_key is not a valid Ed25519 public key (not a point of the curve's "
                          "main subgroup, or of small order).");
    }
    if (!for_user.empty()) {
      auto login = ctx.storage.find_login(for_user);
      if (!login) throw unprocessable("unknown_user", "There is no user " + for_user + ".");
      if (login->user.role != Role::clerk && login->user.role != Role::office_staff) {
        throw unprocessable("wrong_role", "Devices are for clerks and office staff.");
      }
      user_id = login->user.id;
    }
    ctx.audit(audit_entry(actor, "device_enrolled", name, "ok", ""));
    ctx.storage.create_device(user_id, name, public_key, [reply](Outcome<DeviceIssued> r) {
      guarded(reply, [&] {
        if (r.has_error()) std::rethrow_exception(r.error());
        reply(json_response(201, {{"id", r->device.id}, {"token", r->token}, {"device", device_json(r->device)}}));
      });
    });
  });

  router.add("GET", "/api/v1/devices", [&ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx.authenticate(req);
    json out = json::array();
    for (const auto& d : ctx.storage.list_devices()) {
      if (actor.role == Role::admin || d.username == actor.username) out.push_back(device_json(d));
    }
    reply(json_response(200, {{"devices", std::move(out)}}));
  });

  router.add("POST", "/api/v1/devices/{id}/revoke", [&ctx](HttpRequest& req, Reply reply) {
    const auto actor = ctx.authenticate(req);
    const auto id = parse_path_id(req.param("id"), "device");
    std::optional<Device> device;
    for (auto& d : ctx.storage.list_devices()) {
      if (d.id == id) device = std::move(d);
    }
    if (!device) throw not_found("There is no device " + std::to_string(id) + ".");
    if (actor.role != Role::admin && device->username != actor.username) {
      ctx.audit(audit_entry(actor, "denied", "device " + std::to_string(id), "denied", "revoke another's device"));
      throw forbidden("Only the device's owner or an admin may revoke it.");
    }
    ctx.audit(audit_entry(actor, "device_revoked", "device " + std::to_string(id), "ok", ""));
    ctx.storage.revoke_device(id, [reply, device = *device](Outcome<bool> r) mutable {
      guarded(reply, [&] {
        if (r.has_error()) std::rethrow_exception(r.error());
        if (!device.revoked_at) device.revoked_at = now_millis();
        reply(json_response(200, {{"device", device_json(device)}}));
      });
    });
  });
}

}  // namespace dpost::server
