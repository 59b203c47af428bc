#pragma once

#include "storage.hpp"

#include <string>
#include <vector>

namespace dpost::server {

// Fills an empty database with the demo set of design.md section 6: two post offices, two one-stop offices,
// the demo logins (password "demo": demo only) and a few dossiers mid-journey. Returns a line per dossier for
// the start-up message. Does nothing and returns {} when the database already has sites.
std::vector<std::string> load_demo_data(Storage& storage);

}  // namespace dpost::server
