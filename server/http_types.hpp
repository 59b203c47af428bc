#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dpost::server {

// A request as handlers see it: plain strings, no Beast types (Beast stays in http_server.cpp).
struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as received, "/api/v1/items/EE123456785VN?x=1"
  std::string path;                                          // percent-decoded path without the query
  std::string query;                                         // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // peer IP as text
  // Path parameters filled by the router: {"item_id", "EE123456785VN"}.
  std::vector<std::pair<std::string, std::string>> params;

  std::string_view header(std::string_view lower_name) const;  // "" when absent
  std::string_view param(std::string_view name) const;         // "" when absent
  std::string query_param(std::string_view name) const;        // percent-decoded, "" when absent
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Retry-After, Cache-Control, ...)
  bool close = false;                                        // ask the server to close the connection after it
};

// Completes a request. Call exactly once, from any thread; the server writes the response on the
// connection's own strand.
using Reply = std::function<void(HttpResponse)>;

// Entry point the HTTP server calls for every well-formed request.
using Dispatch = std::function<void(HttpRequest&&, Reply)>;

std::string percent_decode(std::string_view text);  // '+' is kept; bad escapes kept verbatim

}  // namespace dpost::server
