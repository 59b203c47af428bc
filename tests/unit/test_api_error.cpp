#include "api_error.hpp"

#include <SQLiteCpp/Exception.h>
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <new>
#include <optional>
#include <stdexcept>

using namespace dpost::server;
using nlohmann::json;

namespace {

// Runs `body` through guarded() and returns the single reply it produced.
HttpResponse reply_of(const std::function<void()>& body) {
  std::optional<HttpResponse> got;
  int calls = 0;
  guarded(
      [&](HttpResponse response) {
        ++calls;
        got = std::move(response);
      },
      body);
  REQUIRE(calls == 1);
  return *got;
}

json error_of(const HttpResponse& response) {
  CHECK(response.content_type == "application/json");
  auto body = json::parse(response.body);
  REQUIRE(body.contains("error"));
  return body["error"];
}

}  // namespace

TEST_CASE("api_error: shorthands carry the statuses of design section 6") {
  CHECK(bad_request("x").status() == 400);
  CHECK(bad_request("x").code() == "malformed_request");
  CHECK(bad_request("x", "bad_item_id").code() == "bad_item_id");
  CHECK(unauthorized().status() == 401);
  CHECK(forbidden("x").status() == 403);
  CHECK(not_found("x").status() == 404);
  CHECK(not_found("x").code() == "not_found");
  CHECK(conflict("illegal_transition", "x").status() == 409);
  CHECK(unprocessable("invalid_field", "x").status() == 422);
  CHECK(unavailable("x").status() == 503);
  CHECK(std::string(unavailable("down").what()) == "down");
}

TEST_CASE("api_error: error_response writes {error: {code, message}}") {
  auto response = error_response(404, "not_found", "No such item.");
  CHECK(response.status == 404);
  auto error = error_of(response);
  CHECK(error == json{{"code", "not_found"}, {"message", "No such item."}});
}

TEST_CASE("api_error: details are merged into error and headers copied") {
  ApiError error = conflict("illegal_transition", "An item cannot be delivered twice.");
  error.details_json = R"({"state":"delivered","allowed":["EMI"],"code":"must_not_win"})";
  error.headers = {{"Retry-After", "3"}};
  auto response = error_response(error);
  CHECK(response.status == 409);
  CHECK(response.headers == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "3"}});
  auto body = error_of(response);
  CHECK(body["code"] == "illegal_transition");
  CHECK(body["message"] == "An item cannot be delivered twice.");
  CHECK(body["state"] == "delivered");
  CHECK(body["allowed"] == json::array({"EMI"}));
}

TEST_CASE("api_error: broken details are ignored, not fatal") {
  ApiError error = bad_request("Bad.");
  error.details_json = "{not json";
  auto body = error_of(error_response(error));
  CHECK(body == json{{"code", "malformed_request"}, {"message", "Bad."}});
}

TEST_CASE("api_error: guarded passes a normal reply through untouched") {
  int calls = 0;
  guarded([&](HttpResponse) { ++calls; }, [] {});
  CHECK(calls == 0);
}

TEST_CASE("api_error: guarded maps exceptions to statuses") {
  SUBCASE("ApiError keeps its status and code") {
    auto response = reply_of([] { throw not_found("No item EE123456785VN.", "item_not_found"); });
    CHECK(response.status == 404);
    CHECK(error_of(response)["code"] == "item_not_found");
  }
  SUBCASE("JSON parse error is a 400") {
    auto response = reply_of([] { auto parsed = json::parse("{\"a\":"); });
    CHECK(response.status == 400);
    CHECK(error_of(response)["code"] == "malformed_json");
  }
  SUBCASE("JSON type error is a 400") {
    auto response = reply_of([] { auto text = json::parse(R"({"a":1})")["a"].get<std::string>(); });
    CHECK(response.status == 400);
    CHECK(error_of(response)["code"] == "malformed_json");
  }
  SUBCASE("SQLite busy, locked, I/O, full, read-only and cannot-open are 503") {
    for (int code : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_IOERR_FSYNC, SQLITE_FULL, SQLITE_READONLY,
                     SQLITE_CANTOPEN}) {
      CAPTURE(code);
      auto response = reply_of([code] { throw SQLite::Exception("database is locked", code); });
      CHECK(response.status == 503);
      CHECK(error_of(response)["code"] == "storage_unavailable");
    }
  }
  SUBCASE("SQLite constraint is a 409") {
    auto response = reply_of([] { throw SQLite::Exception("UNIQUE constraint failed", SQLITE_CONSTRAINT_UNIQUE); });
    CHECK(response.status == 409);
    CHECK(error_of(response)["code"] == "conflict");
  }
  SUBCASE("other SQLite errors are a generic 500") {
    auto response = reply_of([] { throw SQLite::Exception("no such table: secret_table", SQLITE_ERROR); });
    CHECK(response.status == 500);
    CHECK(response.body.find("secret_table") == std::string::npos);
  }
  SUBCASE("out of memory is a 503") {
    auto response = reply_of([] { throw std::bad_alloc(); });
    CHECK(response.status == 503);
  }
  SUBCASE("anything else is a 500 that does not leak what()") {
    auto response = reply_of([] { throw std::runtime_error("/var/lib/dossier/secret.db: oops"); });
    CHECK(response.status == 500);
    CHECK(error_of(response)["code"] == "internal_error");
    CHECK(response.body.find("secret") == std::string::npos);
  }
  SUBCASE("a non-standard exception is a 500") {
    auto response = reply_of([] { throw 42; });
    CHECK(response.status == 500);
  }
}

TEST_CASE("api_error: response_for_current_exception works inside a catch block") {
  try {
    throw unprocessable("invalid_field", "phone must have 10 digits");
  } catch (...) {
    auto response = response_for_current_exception();
    CHECK(response.status == 422);
    CHECK(error_of(response)["message"] == "phone must have 10 digits");
  }
}
