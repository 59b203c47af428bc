// Password guessing is slowed: five failed logins lock the account for the window (even with the right
// password), twenty lock the address; other accounts are not affected by one account's lock.
#include "itest_common.hpp"

#include <doctest/doctest.h>

using namespace dpost::test;
using nlohmann::json;

namespace {

HttpResult try_login(HttpClient& client, const std::string& user, const std::string& password) {
  return client.post("/api/v1/login", json{{"username", user}, {"password", password}});
}

}  // namespace

TEST_CASE("login: five failures lock the account with 429 and Retry-After — others can still log in") {
  TestServer server({"--demo"});
  HttpClient client(server.host(), server.port());
  for (int i = 0; i < 5; ++i) check_error(try_login(client, "clerk2", "wrong"), 401, "invalid_credentials");
  auto locked = try_login(client, "clerk2", "demo");  // the right password does not help now
  check_error(locked, 429, "too_many_attempts");
  CHECK_FALSE(locked.headers["retry-after"].empty());
  CHECK(try_login(client, "staff1", "demo").status == 200);
}

TEST_CASE("login: a success clears the account's failures") {
  TestServer server({"--demo"});
  HttpClient client(server.host(), server.port());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) check_error(try_login(client, "clerk1", "wrong"), 401);
    CHECK(try_login(client, "clerk1", "demo").status == 200);
  }
}

TEST_CASE("login: twenty failures from one address lock the address, whatever the usernames") {
  TestServer server({"--demo"});
  HttpClient client(server.host(), server.port());
  for (int i = 0; i < 20; ++i) {
    check_error(try_login(client, "nobody" + std::to_string(i), "wrong"), 401, "invalid_credentials");
  }
  check_error(try_login(client, "staff2", "demo"), 429, "too_many_attempts");
}
