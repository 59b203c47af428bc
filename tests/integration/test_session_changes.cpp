// A bearer token stands for what the database says now: a change to a user's sites, a logout and a device's
// revocation apply to the very next request made with a token already in use (the server keeps checked
// tokens in memory: server/session_cache.hpp).
#include "itest_common.hpp"

#include <doctest/doctest.h>

using namespace dpost::test;
using nlohmann::json;

namespace {

json scope_of(ApiSession& s, const std::string& token) {
  auto r = s.client.get("/api/v1/me", token);
  INFO(describe(r));
  REQUIRE(r.status == 200);
  return r.json()["user"]["scope"];
}

void set_scope(ApiSession& s, const std::string& user, const json& sites) {
  auto r = s.client.request("PUT", "/api/v1/users/" + user + "/scope", json{{"sites", sites}}.dump(),
                            {{"Authorization", "Bearer " + s.token("admin")}});
  INFO(describe(r));
  REQUIRE(r.status == 200);
}

}  // namespace

TEST_CASE("session changes: a token in use follows a change of sites, a logout and a revocation at once") {
  TestServer server({"--demo", "--log-requests", "off"});
  ApiSession s(server);

  SUBCASE("a supervisor's further sites") {
    const auto token = s.token("supervisor1");
    const auto report = "/api/v1/reports/overview?site=BC-HN02";
    set_scope(s, "supervisor1", json::array());
    check_error(s.client.get(report, token), 403);
    CHECK(scope_of(s, token) == json::array());
    set_scope(s, "supervisor1", json{"BC-HN02"});
    CHECK(scope_of(s, token) == json{"BC-HN02"});
    CHECK(s.client.get(report, token).status == 200);
    set_scope(s, "supervisor1", json::array());
    CHECK(scope_of(s, token) == json::array());
    check_error(s.client.get(report, token), 403);
  }

  SUBCASE("a logout, after the token was used several times") {
    const auto token = s.token("clerk1");
    for (int i = 0; i < 3; ++i) CHECK(s.client.get("/api/v1/me", token).status == 200);
    REQUIRE(s.client.post("/api/v1/logout", json::object(), token).status < 300);
    check_error(s.client.get("/api/v1/me", token), 401);
    // Another session of the same user is not touched by it.
    ApiSession other(server);
    CHECK(other.client.get("/api/v1/me", other.token("clerk1")).status == 200);
  }

  SUBCASE("a device's revocation") {
    auto device = enroll_device(s, "clerk1", "Máy quét");
    for (int i = 0; i < 3; ++i) CHECK(s.client.get("/api/v1/me", device.token).status == 200);
    const auto revoke = "/api/v1/devices/" + std::to_string(device.id) + "/revoke";
    REQUIRE(s.client.post(revoke, json::object(), s.token("clerk1")).status == 200);
    check_error(s.client.get("/api/v1/me", device.token), 401, "device_revoked");
    CHECK(s.client.get("/api/v1/me", s.token("clerk1")).status == 200);
  }
}
