#include "api.hpp"

namespace dpost::server {

void add_label_routes(Router&, RouteContext&) {}

}  // namespace dpost::server
