#pragma once

#include "http_types.hpp"

#include <stdexcept>
#include <string>

namespace dpost::server {

// A request that cannot be served: status, stable snake_case code, human sentence (English; the web pages
// translate by code). Thrown anywhere below a handler; error_response() is the one place that turns it into
// {"error": {"code", "message"}}.
class ApiError : public std::runtime_error {
 public:
  ApiError(unsigned status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  unsigned status() const { return status_; }
  const std::string& code() const { return code_; }
  // Optional extra JSON object members merged into "error" (e.g. "state", "allowed").
  std::string details_json;                                  // serialized JSON object or empty
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After

 private:
  unsigned status_;
  std::string code_;
};

// Shorthands for the statuses of design.md section 6.
ApiError bad_request(const std::string& message, std::string code = "malformed_request");              // 400
ApiError unauthorized(const std::string& message = "Log in first: this needs a valid bearer token.");  // 401
ApiError forbidden(const std::string& message);                                                        // 403
ApiError not_found(const std::string& message, std::string code = "not_found");                        // 404
ApiError conflict(std::string code, const std::string& message);                                       // 409
ApiError unprocessable(std::string code, const std::string& message);                                  // 422
ApiError unavailable(const std::string& message);                                                      // 503

HttpResponse error_response(const ApiError& error);
HttpResponse error_response(unsigned status, std::string_view code, std::string_view message);

// Runs `body`; any exception becomes the matching error response passed to `reply`:
// ApiError as is, JSON type errors 400, SQLite busy/locked/IO 503, anything else 500 (logged).
void guarded(const Reply& reply, const std::function<void()>& body);
// Maps the current exception (inside a catch block) to a response.
HttpResponse response_for_current_exception();

}  // namespace dpost::server
