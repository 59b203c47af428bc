#pragma once

#include "http_types.hpp"
#include "router.hpp"
#include "storage.hpp"

#include <functional>
#include <memory>
#include <string>

namespace dpost::server {

struct ApiOptions {
  std::string public_base_url = "http://127.0.0.1:8080";  // printed into QR links: {base}/t/{token}
  int public_rate_per_minute = 120;                       // public look-ups per address; 0 = unlimited
  UnixMillis session_ttl_ms = 12LL * 60 * 60 * 1000;      // a working day plus margin
  std::size_t workers = 4;                                // threads for blocking work (hashing, queries)
  std::size_t max_batch_events = 500;                     // scans per POST /scans/batch
  bool log_requests = true;                               // one JSON line per request on stderr
};

// What route files other than api.cpp get: storage, options, authentication, the worker-pool dispatch is
// implicit (routes registered with Exec::worker run there).
struct RouteContext {
  Storage& storage;
  const ApiOptions& options;
  std::function<Actor(const HttpRequest&)> authenticate;      // throws ApiError 401
  std::function<void(const HttpRequest&)> check_public_rate;  // throws ApiError 429 with Retry-After
};

// Route files: each adds its routes to the table (called once by Api).
void add_label_routes(Router& router, RouteContext& context);   // label_routes.cpp
void add_device_routes(Router& router, RouteContext& context);  // device_routes.cpp
void add_page_routes(Router& router, RouteContext& context);    // page_routes.cpp: citizen pages

// Who may record which scan (design.md section 5): clerks postal events at their own post office (RES at the
// office handing over the result); office staff RCV/RES at their own office, for items addressed to it.
ScanPolicy default_scan_policy();

// The HTTP API: the route table and its handlers, each HTTP glue around storage and domain functions.
class Api {
 public:
  Api(Storage& storage, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // The entry point for the HTTP server.
  void dispatch(HttpRequest&& request, Reply reply);
  const Router& router() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpost::server
