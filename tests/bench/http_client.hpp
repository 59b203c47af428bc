#pragma once

#include <memory>
#include <string>

namespace dpost::bench {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// A blocking keep-alive HTTP/1.1 client for the setup steps (login, creating the items the load uses).
// Not for measuring: the load itself is in scan_load.cpp.
class HttpClient {
 public:
  HttpClient(const std::string& host, unsigned short port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `token` empty: no Authorization header. Throws on network errors.
  HttpAnswer request(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& token = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// POST /api/v1/login; returns the bearer token or throws std::runtime_error with the answer.
std::string login(HttpClient& client, const std::string& username, const std::string& password);

}  // namespace dpost::bench
