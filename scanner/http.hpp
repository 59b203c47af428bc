#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dpost::scanner {

// "http://host:port[/base]": the scanner talks plain HTTP to the server or to a TLS-terminating proxy on the
// local network. nullopt for anything else.
struct ServerUrl {
  std::string host;
  std::string port;
  std::string base;  // path prefix without trailing slash, usually ""
};
std::optional<ServerUrl> parse_server_url(std::string_view text);

// One HTTP exchange. A transport failure (refused, reset, timeout, DNS) is a value (`transport_error` set,
// status 0), not an exception: it is the normal life of a device that goes offline.
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, when any
  std::string transport_error;
  bool ok() const { return transport_error.empty(); }
};

HttpAnswer http_request(const ServerUrl& server, std::string_view method, std::string_view path, std::string_view body,
                        std::string_view bearer_token, std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace dpost::scanner
