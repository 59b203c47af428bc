#pragma once

#include "http_types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dpost::server {

using Handler = std::function<void(HttpRequest&, Reply)>;

// Where a handler runs: inline on the I/O thread (short, non-blocking reads such as public tracking and
// health checks) or on the worker pool (anything that may block: password hashing, larger queries).
// inline_if_authenticated: inline when the request's bearer token is already in the session cache, so the
// handler checks it without a read; otherwise on the pool. For handlers that then only parse and hand their
// work to the writer (scans): each hop between threads costs a wake-up, and a scan has three more.
enum class Exec { inline_io, worker, inline_if_authenticated };

// The route table: method + pattern with {name} segments, e.g. "/api/v1/items/{item_id}".
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler, Exec exec = Exec::worker);

  struct Match {
    const Handler* handler = nullptr;
    Exec exec = Exec::worker;
    std::vector<std::pair<std::string, std::string>> params;
    bool method_mismatch = false;  // path known, method not: 405 with Allow
    std::string allow;             // "GET, POST"
  };
  Match match(std::string_view method, std::string_view path) const;

  struct RouteInfo {
    std::string method;
    std::string pattern;
  };
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    Exec exec;
  };
  std::vector<Route> routes_;
};

}  // namespace dpost::server
