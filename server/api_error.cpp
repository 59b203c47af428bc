#include "api_error.hpp"
#include "access_log.hpp"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <exception>
#include <iostream>
#include <new>

namespace dpost::server {

ApiError bad_request(const std::string& message, std::string code) {
  return {400, std::move(code), message};
}
ApiError unauthorized(const std::string& message) {
  return {401, "unauthorized", message};
}
ApiError forbidden(const std::string& message) {
  return {403, "forbidden", message};
}
ApiError not_found(const std::string& message, std::string code) {
  return {404, std::move(code), message};
}
ApiError conflict(std::string code, const std::string& message) {
  return {409, std::move(code), message};
}
ApiError unprocessable(std::string code, const std::string& message) {
  return {422, std::move(code), message};
}
ApiError unavailable(const std::string& message) {
  return {503, "storage_unavailable", message};
}

namespace {

HttpResponse build_error(unsigned status, std::string_view code, std::string_view message,
                         const std::string& details_json) {
  nlohmann::json error = nlohmann::json::object();
  if (!details_json.empty()) {
    // Details are written by our own code; a broken string is a bug, but must not turn an error into a crash.
    auto details = nlohmann::json::parse(details_json, nullptr, /*allow_exceptions=*/false);
    if (details.is_object()) error = std::move(details);
  }
  // code and message are the contract: details never overwrite them.
  error["code"] = code;
  error["message"] = message;
  HttpResponse response;
  response.status = status;
  // Invalid UTF-8 in a message (e.g. echoing client input) is replaced rather than throwing from dump().
  response.body =
      nlohmann::json{{"error", std::move(error)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace

HttpResponse error_response(const ApiError& error) {
  HttpResponse response = build_error(error.status(), error.code(), error.what(), error.details_json);
  response.headers = error.headers;
  return response;
}

HttpResponse error_response(unsigned status, std::string_view code, std::string_view message) {
  return build_error(status, code, message, {});
}

HttpResponse response_for_current_exception() {
  try {
    throw;
  } catch (const ApiError& error) {
    return error_response(error);
  } catch (const nlohmann::json::exception& error) {
    // Parse errors and wrong member types both come from the client's body: a 400, never a 500.
    // Without the library's "[json.exception.type_error.302] " prefix: the client needs the reason, not our parser.
    std::string_view what = error.what();
    if (const auto end = what.find("] "); what.starts_with("[json.exception.") && end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
    return error_response(400, "malformed_json",
                          std::string("The request body is not valid JSON: ") + std::string(what));
  } catch (const SQLite::Exception& error) {
    const int primary = error.getErrorCode() & 0xff;
    switch (primary) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_READONLY:
      case SQLITE_CANTOPEN:
        log_event(LogLevel::error, "storage_unavailable",
                  {{"error", error.what()}, {"sqlite_code", error.getExtendedErrorCode()}});
        return error_response(503, "storage_unavailable", "Storage is temporarily unavailable; retry later.");
      case SQLITE_CONSTRAINT:
        return error_response(409, "conflict", "The request conflicts with stored data.");
      default:
        log_event(LogLevel::error, "storage_error",
                  {{"error", error.what()}, {"sqlite_code", error.getExtendedErrorCode()}});
        return error_response(500, "internal_error", "Internal server error.");
    }
  } catch (const std::bad_alloc&) {
    return error_response(503, "server_overloaded", "The server is out of memory; retry later.");
  } catch (const std::exception& error) {
    // Logged, never sent: what() may carry paths, SQL or other internals.
    log_event(LogLevel::error, "unhandled_exception", {{"error", error.what()}});
    return error_response(500, "internal_error", "Internal server error.");
  } catch (...) {
    log_event(LogLevel::error, "unhandled_exception", {{"error", "non-standard exception"}});
    return error_response(500, "internal_error", "Internal server error.");
  }
}

void guarded(const Reply& reply, const std::function<void()>& body) {
  HttpResponse response;
  try {
    body();
    return;
  } catch (...) {
    response = response_for_current_exception();
  }
  // Replying outside the catch block: a Reply that throws must not be swallowed as the handler's error.
  reply(std::move(response));
}

}  // namespace dpost::server
