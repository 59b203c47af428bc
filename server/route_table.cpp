#include "route_table.hpp"

#include "api.hpp"
#include "sqlite_storage.hpp"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace dpost::server {

namespace {

// A fresh private directory for the scratch database, removed again when the table is built.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dpost-routes-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "cannot create a scratch directory");
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::vector<Router::RouteInfo> api_route_table() {
  // Route registration needs an Api, and an Api needs a Storage; the table does not depend on any data, so an
  // empty scratch database stands in (a user's database is never opened, let alone migrated).
  ScratchDir dir;
  auto storage = open_sqlite_storage({(dir.path() / "routes.db").string(), default_scan_policy()});
  std::vector<Router::RouteInfo> routes;
  {
    ApiOptions options;
    options.workers = 1;
    options.log_requests = false;
    Api api(*storage, options);
    routes = api.router().routes();
  }
  storage->close();
  return routes;
}

int print_route_table(std::ostream& out, std::ostream& err) {
  try {
    for (const auto& route : api_route_table()) out << route.method << ' ' << route.pattern << '\n';
    out.flush();
    return 0;
  } catch (const std::exception& e) {
    err << "dossier-server: routes: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace dpost::server
