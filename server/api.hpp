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
  UnixMillis confirm_within_ms = 4LL * 60 * 60 * 1000;    // a handoff unconfirmed for longer is overdue
  bool log_requests = true;                               // one JSON line per request on stderr
  int calendar_last_year = 0;  // the last year the working calendar lists days off for (dpost_calendar_last_year)
};

// What route files other than api.cpp get: storage, options, authentication, the worker-pool dispatch is
// implicit (routes registered with Exec::worker run there).
struct AccessRequest;
class DeadlineBook;
struct RouteContext {
  Storage& storage;
  const ApiOptions& options;
  std::function<Actor(const HttpRequest&)> authenticate;      // throws ApiError 401
  std::function<void(const HttpRequest&)> check_public_rate;  // throws ApiError 429 with Retry-After
  // The one gate (authorize.hpp): refuses with 403 and writes the refusal to the audit log, naming `target`.
  std::function<void(const Actor&, const AccessRequest&, const std::string& target)> require;
  // Appends to the security audit log and waits until it is written (refusals, device changes).
  std::function<void(AuditEntry)> audit;
  // A staff read of a citizen's personal data: logged first, and only once the log line is durable is the
  // answer made and sent (no log, no data: 503 when the log cannot be written).
  std::function<void(const Actor&, std::string target, std::string target_site, Reply reply,
                     std::function<HttpResponse()> make)>
      disclose;
  // The second factor printed on the receipt (6 digits) for one item; false for a wrong code, and for every code
  // while the item is locked after too many wrong ones.
  std::function<bool(const std::string& item_id, const std::string& code)> accept_lookup_code;
  // Due dates and verdicts under each dossier's frozen rules (deadlines.hpp).
  DeadlineBook& deadlines;
};
AuditEntry audit_entry(const Actor& actor, std::string action, std::string target, std::string outcome,
                       std::string detail);

// The sites a request looks at: ?site=X (which must be the caller's, else 403 and logged), or all of the
// caller's sites (a supervisor's scope included). Defined in custody_routes.cpp.
std::vector<std::string> requested_sites(RouteContext& ctx, const Actor& a, const HttpRequest& req);

// Route files: each adds its routes to the table (called once by Api).
void add_label_routes(Router& router, RouteContext& context);     // label_routes.cpp
void add_device_routes(Router& router, RouteContext& context);    // device_routes.cpp
void add_page_routes(Router& router, RouteContext& context);      // page_routes.cpp: citizen pages
void add_custody_routes(Router& router, RouteContext& context);   // custody_routes.cpp: handoffs, bags, slips
void add_ledger_routes(Router& router, RouteContext& context);    // ledger_routes.cpp: ledger, audit log
void add_report_routes(Router& router, RouteContext& context);    // report_routes.cpp: supervisor reports
void add_deadline_routes(Router& router, RouteContext& context);  // deadline_routes.cpp: due dates, pauses

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
