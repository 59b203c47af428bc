// The route table `dossier-server routes` prints (and tests/integration/test_openapi.cpp holds the OpenAPI
// description to): the real registration, with no two routes a request could not tell apart.
#include "route_table.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <utility>

using namespace dpost::server;

namespace {

// "/api/v1/items/{item_id}" -> "/api/v1/items/{}": two routes of one method and one shape would be ambiguous.
std::string shape_of(const std::string& pattern) {
  std::string out;
  bool in_param = false;
  for (char c : pattern) {
    if (c == '{') {
      in_param = true;
      out += "{}";
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("route table: the API's real routes, each method and shape once, printed one per line") {
  const auto routes = api_route_table();
  REQUIRE(routes.size() > 60);
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : routes) {
    INFO(r.method << " " << r.pattern);
    CHECK(seen.emplace(r.method, shape_of(r.pattern)).second);
    CHECK(r.pattern.front() == '/');
    CHECK((r.method == "GET" || r.method == "POST" || r.method == "PUT" || r.method == "DELETE"));
  }
  auto has = [&](const char* method, const char* pattern) {
    return std::any_of(routes.begin(), routes.end(),
                       [&](const Router::RouteInfo& r) { return r.method == method && r.pattern == pattern; });
  };
  CHECK(has("GET", "/healthz"));
  CHECK(has("GET", "/api/v1/openapi.json"));
  CHECK(has("POST", "/api/v1/scans/batch"));
  CHECK(has("GET", "/api/v1/items/{item_id}"));

  std::ostringstream out;
  std::ostringstream err;
  REQUIRE(print_route_table(out, err) == 0);
  CHECK(err.str().empty());
  std::istringstream lines(out.str());
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    REQUIRE(count < routes.size());
    CHECK(line == routes[count].method + " " + routes[count].pattern);
  }
  CHECK(count == routes.size());
}
