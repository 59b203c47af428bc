#pragma once

#include "api_helpers.hpp"
#include "http_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Shared by the integration test files (doctest macros, so it lives beside them, not in the support library).
namespace dpost::test {

// One demo server for the tests of this process that need nothing special; tests that restart, kill, crash
// or configure the server start their own. ctest runs each test case in its own process anyway.
inline TestServer& shared_demo_server() {
  static TestServer server({"--demo"});
  return server;
}

// Context for failure messages: the request's answer.
inline std::string describe(const HttpResult& result) {
  return "HTTP " + std::to_string(result.status) + " " + result.body.substr(0, 1500);
}

// The error envelope {"error": {"code", "message"}} with `status` and, unless empty, `code`.
inline void check_error(const HttpResult& result, int status, std::string_view code = "") {
  INFO(describe(result));
  CHECK(result.status == status);
  nlohmann::json body;
  try {
    body = result.json();
  } catch (const std::exception& e) {
    FAIL_CHECK("error body is not JSON: " << e.what());
    return;
  }
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  const auto& error = body["error"];
  REQUIRE(error.is_object());
  CHECK(error.contains("code"));
  CHECK(error.contains("message"));
  if (error.contains("code")) {
    CHECK(error["code"].is_string());
    if (!code.empty() && error["code"].is_string()) CHECK(error["code"].get<std::string>() == code);
  }
  if (error.contains("message")) {
    CHECK(error["message"].is_string());
    if (error["message"].is_string()) CHECK_FALSE(error["message"].get<std::string>().empty());
  }
}

// Creates a dossier as `user` and returns its first item's id (service send or both).
inline std::string create_dossier_item(ApiSession& session, const std::string& user, const TestApplicant& applicant,
                                       std::string_view office = kOffice1, std::string_view service = "both") {
  auto created = session.create_dossier(user, dossier_body(applicant, office, service));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  auto json = created.json();
  REQUIRE(json["items"].size() == 1);
  return json["items"][0]["item_id"].get<std::string>();
}

// A dossier registered by office staff (`body` as dossier_body makes it, e.g. service "receive" at the counter)
// and its result item created at once; returns the result's item id.
inline std::string counter_result_item(ApiSession& session, const nlohmann::json& body,
                                       const std::string& staff = "staff1") {
  auto created = session.create_dossier(staff, body);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  auto made =
      session.client.post("/api/v1/dossiers/" + std::to_string(created.json()["id"].get<long long>()) + "/result",
                          nlohmann::json::object(), session.token(staff));
  INFO(describe(made));
  REQUIRE(made.status == 201);
  return made.json()["item_id"].get<std::string>();
}

// Records one scan that must be accepted as new (201); returns the answer's JSON.
inline nlohmann::json record(ApiSession& session, const std::string& user, const nlohmann::json& scan,
                             std::string_view expected_state = "") {
  auto answer = session.scan(user, scan);
  INFO("scan " << scan.dump() << " as " << user << " -> " << describe(answer));
  REQUIRE(answer.status == 201);
  auto json = answer.json();
  CHECK(json["status"] == "recorded");
  if (!expected_state.empty()) CHECK(json["item"]["state"] == expected_state);
  return json;
}

// Adds a post office to an item's route (POST /api/v1/items/{id}/route) as `user`, who must be on it: items
// are scanned only at the post offices they are routed through.
inline void route_through(ApiSession& session, const std::string& user, std::string_view item_id,
                          std::string_view site) {
  auto answer = session.client.post("/api/v1/items/" + std::string(item_id) + "/route", nlohmann::json{{"site", site}},
                                    session.token(user));
  INFO("route " << item_id << " through " << site << " as " << user << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
}

// Brings a new dossier item to "accepted" with an EMA by clerk1 at BC-HN01.
inline std::string accepted_dossier_item(ApiSession& session, Timeline& timeline) {
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()), "accepted");
  return item_id;
}

// What `dossier-server routes` prints: "METHOD PATTERN" lines (the log also holds a header line of the
// support library; only route lines are taken).
inline std::vector<std::pair<std::string, std::string>> server_routes(const TestServer& server) {
  const auto out = (server.dir() / "routes.txt").string();
  const int rc = run_server_tool({"routes"}, out);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  INFO("dossier-server routes:\n" << text.str());
  REQUIRE(rc == 0);
  static const std::regex route_line(R"(^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/\S*)$)");
  std::vector<std::pair<std::string, std::string>> routes;
  std::string line;
  while (std::getline(text, line)) {
    std::smatch m;
    if (std::regex_match(line, m, route_line)) routes.emplace_back(m[1].str(), m[2].str());
  }
  REQUIRE(routes.size() > 10);
  return routes;
}

}  // namespace dpost::test
