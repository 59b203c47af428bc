#include "router.hpp"

#include <doctest/doctest.h>

#include <string>

using dpost::server::Exec;
using dpost::server::HttpRequest;
using dpost::server::Reply;
using dpost::server::Router;

namespace {

// Each handler leaves its name in the request body, so a test can tell which route matched.
dpost::server::Handler named(std::string name) {
  return [name](HttpRequest& request, const Reply&) { request.body = name; };
}

std::string run(const Router::Match& match) {
  REQUIRE(match.handler != nullptr);
  HttpRequest request;
  (*match.handler)(request, Reply{});
  return request.body;
}

}  // namespace

TEST_CASE("router: exact paths match literally") {
  Router router;
  router.add("GET", "/healthz", named("health"), Exec::inline_io);
  router.add("GET", "/api/v1/items", named("items"));

  auto match = router.match("GET", "/healthz");
  CHECK(run(match) == "health");
  CHECK(match.exec == Exec::inline_io);
  CHECK(match.params.empty());
  CHECK(run(router.match("GET", "/api/v1/items")) == "items");
  CHECK(router.match("GET", "/api/v1/item").handler == nullptr);
  CHECK(router.match("GET", "/api/v1/items/x").handler == nullptr);
  CHECK(router.match("GET", "/API/v1/items").handler == nullptr);
}

TEST_CASE("router: a trailing slash is a different path") {
  Router router;
  router.add("GET", "/api/v1/items", named("items"));
  CHECK(router.match("GET", "/api/v1/items/").handler == nullptr);
  CHECK_FALSE(router.match("GET", "/api/v1/items/").method_mismatch);
}

TEST_CASE("router: {name} segments capture one non-empty segment") {
  Router router;
  router.add("GET", "/api/v1/dossiers/{dossier_id}/items/{item_id}", named("item"));

  auto match = router.match("GET", "/api/v1/dossiers/D42/items/EE123456785VN");
  CHECK(run(match) == "item");
  CHECK(match.exec == Exec::worker);
  REQUIRE(match.params.size() == 2);
  CHECK(match.params[0] == std::pair<std::string, std::string>{"dossier_id", "D42"});
  CHECK(match.params[1] == std::pair<std::string, std::string>{"item_id", "EE123456785VN"});

  CHECK(router.match("GET", "/api/v1/dossiers//items/EE123456785VN").handler == nullptr);
  CHECK(router.match("GET", "/api/v1/dossiers/D42/items/").handler == nullptr);
  CHECK(router.match("GET", "/api/v1/dossiers/D42/items/A/B").handler == nullptr);
}

TEST_CASE("router: literal segments win over parameters whatever the registration order") {
  Router router;
  router.add("POST", "/api/v1/scans/{scan_id}", named("one"));
  router.add("POST", "/api/v1/scans/batch", named("batch"));
  CHECK(run(router.match("POST", "/api/v1/scans/batch")) == "batch");
  auto other = router.match("POST", "/api/v1/scans/S1");
  CHECK(run(other) == "one");
  CHECK(other.params.at(0).second == "S1");
}

TEST_CASE("router: a known path with another method is a 405 with Allow") {
  Router router;
  router.add("GET", "/api/v1/items/{item_id}", named("get"));
  router.add("DELETE", "/api/v1/items/{item_id}", named("delete"));
  router.add("GET", "/api/v1/items/{item_id}/label", named("label"));

  auto match = router.match("POST", "/api/v1/items/EE123456785VN");
  CHECK(match.handler == nullptr);
  CHECK(match.method_mismatch);
  CHECK(match.allow == "GET, DELETE");

  auto unknown = router.match("POST", "/nowhere");
  CHECK(unknown.handler == nullptr);
  CHECK_FALSE(unknown.method_mismatch);
  CHECK(unknown.allow.empty());
}

TEST_CASE("router: methods are case-sensitive") {
  Router router;
  router.add("GET", "/a", named("a"));
  CHECK(router.match("get", "/a").handler == nullptr);
  CHECK(router.match("get", "/a").method_mismatch);
}

TEST_CASE("router: routes() lists the table in registration order") {
  Router router;
  router.add("GET", "/healthz", named("h"));
  router.add("POST", "/api/v1/login", named("l"));
  auto routes = router.routes();
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].method == "GET");
  CHECK(routes[0].pattern == "/healthz");
  CHECK(routes[1].method == "POST");
  CHECK(routes[1].pattern == "/api/v1/login");
}
