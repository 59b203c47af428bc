#pragma once

#include "http_types.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace dpost::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see HttpServer::port())
  std::size_t io_threads = 2;
  std::size_t body_limit = 1024 * 1024;     // 413 above
  std::size_t header_limit = 16 * 1024;     // 431 above
  std::chrono::seconds header_timeout{10};  // whole header must arrive within
  std::chrono::seconds body_timeout{30};    // body must arrive within
  std::chrono::seconds idle_timeout{60};    // keep-alive connection with no request
  std::chrono::seconds write_timeout{30};
  std::size_t max_connections_per_address = 256;
  std::size_t max_connections = 10000;
  bool handle_signals = true;  // SIGINT/SIGTERM start a graceful shutdown
};

// The Boost.Beast HTTP/1.1 server. Pimpl: Beast and Asio stay inside http_server.cpp.
// Every request gets `Server: dossier-post`, keep-alive as the client asks, and errors as JSON bodies.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Dispatch dispatch);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; throws std::runtime_error with a clear message when the address is unusable.
  void listen();
  unsigned short port() const;  // the bound port (after listen())
  // Serves on io_threads threads until stop() or a signal, then drains: no new connections, requests in
  // flight finish and are answered with Connection: close, idle connections close. Returns when all are done.
  void run();
  void stop();  // thread-safe, idempotent

  // True once a graceful shutdown began (stop() or a signal). From then on the server answers GET /readyz
  // itself with 503 "draining" without calling the dispatcher, so a load balancer stops sending traffic to
  // it; until then /readyz goes to the dispatcher like any request. Note that a drain also closes the
  // listener, so only requests already arriving on open connections see that 503.
  bool draining() const;
  // Requests being read, served or written right now (for tests and diagnostics).
  std::size_t requests_in_progress() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpost::server
