#pragma once

#include "router.hpp"

#include <iosfwd>
#include <vector>

namespace dpost::server {

// The route table exactly as a running server registers it (method + pattern with {name} segments, in
// registration order), built without listening: for `dossier-server routes`, and for the test that holds the
// OpenAPI description (docs/openapi.json) to the routes the server really has.
std::vector<Router::RouteInfo> api_route_table();

// `dossier-server routes`: one "METHOD PATTERN" line per route on `out`; 0 on success, 2 with a message on
// `err` when the scratch database the table is built on cannot be made.
int print_route_table(std::ostream& out, std::ostream& err);

}  // namespace dpost::server
