#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace dpost::test {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased

  // The body parsed as JSON; throws std::runtime_error quoting the body when it is not JSON.
  nlohmann::json json() const;
  // A header's value ("" when absent); `name` in any case.
  std::string header(std::string_view name) const;
};

// Small blocking HTTP/1.1 client over a real TCP socket. Keeps the connection alive between requests and
// reconnects when the server closed it. Network failures (refused, reset before any answer, timeout) throw
// std::system_error; any HTTP status is a normal result.
class HttpClient {
 public:
  HttpClient(std::string host, unsigned short port);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  HttpResult get(std::string_view target, std::string_view token = "");
  HttpResult post(std::string_view target, const nlohmann::json& body, std::string_view token = "");
  HttpResult post(std::string_view target, const std::string& body, std::string_view token = "");
  HttpResult post(std::string_view target, const char* body, std::string_view token = "");
  // Any method; `headers` are added as given (e.g. {"Authorization", "Bearer ..."}). A non-empty body gets
  // Content-Type: application/json unless `headers` names one.
  HttpResult request(std::string_view method, std::string_view target, std::string_view body = "",
                     const std::map<std::string, std::string>& headers = {});

  // Per request (connect + write + read). Default 30 s.
  void set_timeout(std::chrono::milliseconds timeout);
  // Drops the kept-alive connection; the next request connects again.
  void disconnect();

  const std::string& host() const { return host_; }
  unsigned short port() const { return port_; }

 private:
  struct Impl;
  std::string host_;
  unsigned short port_;
  std::unique_ptr<Impl> impl_;
};

// POST /api/v1/login; returns the bearer token. Throws std::runtime_error (with the answer) unless 200.
std::string login(HttpClient& client, std::string_view username, std::string_view password = "demo");

// A random version-4 UUID, lower case.
std::string new_uuid();

// RFC 3339 UTC with milliseconds ("2026-11-23T02:15:00.000Z") of now + offset.
std::string rfc3339(std::chrono::milliseconds offset = std::chrono::milliseconds{0});
std::string rfc3339_at(std::chrono::system_clock::time_point when);

}  // namespace dpost::test
