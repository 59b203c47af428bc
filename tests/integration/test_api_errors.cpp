// Every error status of design.md section 6 over the real HTTP API, each with the error envelope
// {"error": {"code", "message"}}, and no 5xx for any bad input.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

const std::string kDossiers = "/api/v1/dossiers";
const std::string kScans = "/api/v1/scans";
const std::string kBatch = "/api/v1/scans/batch";

std::string result_path(long long dossier_id) {
  return kDossiers + "/" + std::to_string(dossier_id) + "/result";
}

long long create_dossier_id(ApiSession& session, const std::string& user, std::string_view office = kOffice1) {
  auto created = session.create_dossier(user, dossier_body(unique_applicant(), office, "both"));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  return created.json()["id"].get<long long>();
}

}  // namespace

TEST_CASE("400 for a body that is not JSON or has wrong types") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const auto& clerk = session.token("clerk1");
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());

  SUBCASE("malformed JSON") {
    for (const std::string& target : {kDossiers, kScans, kBatch}) {
      CAPTURE(target);
      check_error(session.client.post(target, std::string("{\"procedure\": {"), clerk), 400);
      check_error(session.client.post(target, std::string("not json at all"), clerk), 400);
      check_error(session.client.post(target, std::string("{\"a\": 1,}"), clerk), 400);
    }
  }
  SUBCASE("not an object") {
    for (const std::string& target : {kDossiers, kScans, kBatch}) {
      CAPTURE(target);
      check_error(session.client.post(target, std::string("[1, 2]"), clerk), 400);
      check_error(session.client.post(target, std::string("\"text\""), clerk), 400);
      check_error(session.client.post(target, std::string("null"), clerk), 400);
    }
  }
  SUBCASE("dossier fields of the wrong JSON type") {
    auto base = dossier_body(unique_applicant());
    std::vector<std::pair<json::json_pointer, json>> wrong{
        {json::json_pointer("/applicant/name"), 42},
        {json::json_pointer("/applicant"), "Nguyễn Văn A"},
        {json::json_pointer("/procedure"), "1.005129"},
        {json::json_pointer("/procedure/code"), 1.005129},
        {json::json_pointer("/office"), json::array({"MC-HN-BD"})},
        {json::json_pointer("/service"), true},
    };
    for (const auto& [pointer, value] : wrong) {
      auto body = base;
      body[pointer] = value;
      CAPTURE(body.dump());
      check_error(session.client.post(kDossiers, body, clerk), 400);
    }
  }
  SUBCASE("scan fields of the wrong JSON type") {
    auto base = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
    for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{{"event_id", 12345},
                                                                              {"item_id", 123456785},
                                                                              {"code", json::array({"EMA"})},
                                                                              {"site", json::object()},
                                                                              {"occurred_at", 1700000000},
                                                                              {"recipient", "Nguyễn Văn A"}}) {
      auto body = base;
      body[key] = value;
      body["event_id"] = key == "event_id" ? value : json(new_uuid());
      CAPTURE(body.dump());
      check_error(session.client.post(kScans, body, clerk), 400);
    }
  }
  SUBCASE("batch whose events are not an array") {
    check_error(session.client.post(kBatch, json{{"events", "EMA"}}, clerk), 400);
    check_error(session.client.post(kBatch, json{{"events", json::object()}}, clerk), 400);
    // A missing field is an invalid value (422), like a dossier's.
    check_error(session.client.post(kBatch, json{{"scans", json::array()}}, clerk), 422);
  }
  // Nothing was recorded by any of these.
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "created");
  CHECK(view.json()["events"].empty());
}

TEST_CASE("401 without a valid bearer token — invalid_credentials for a bad login") {
  ApiSession session(shared_demo_server());
  auto body = dossier_body(unique_applicant());
  check_error(session.client.post(kDossiers, body), 401, "unauthorized");
  check_error(session.client.post(kDossiers, body, "not-a-token"), 401, "unauthorized");
  check_error(session.client.request("POST", kDossiers, body.dump(), {{"Authorization", "Basic Y2xlcmsxOmRlbW8="}}),
              401, "unauthorized");
  check_error(session.client.request("POST", kDossiers, body.dump(), {{"Authorization", "Bearer"}}), 401,
              "unauthorized");
  check_error(session.client.post(kScans, scan_body(unknown_item_id(), "EMA", kPostOffice1, rfc3339())), 401,
              "unauthorized");
  check_error(session.client.post(kBatch, json{{"events", json::array()}}), 401, "unauthorized");
  check_error(session.client.get("/api/v1/items/EE123456785VN"), 401, "unauthorized");

  check_error(session.client.post("/api/v1/login", json{{"username", "clerk1"}, {"password", "wrong"}}), 401,
              "invalid_credentials");
  check_error(session.client.post("/api/v1/login", json{{"username", "nobody-here"}, {"password", "demo"}}), 401,
              "invalid_credentials");
  check_error(session.client.post("/api/v1/login", json{{"username", "clerk1"}, {"password", ""}}), 401,
              "invalid_credentials");
}

TEST_CASE("403 for an action on another site's object") {
  ApiSession session(shared_demo_server());
  Timeline timeline;

  SUBCASE("a clerk records events only at their own post office") {
    auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice2, timeline.next())), 403, "forbidden");
    check_error(session.scan("clerk2", scan_body(item_id, "EMA", kPostOffice1, timeline.next())), 403, "forbidden");
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kOffice1, timeline.next())), 403, "forbidden");
    auto view = session.item("clerk1", item_id);
    REQUIRE(view.status == 200);
    CHECK(view.json()["events"].empty());
  }
  SUBCASE("receipt is confirmed only by staff of the destination office") {
    auto item_id = accepted_dossier_item(session, timeline);
    for (const char* code : {"EMG", "EDG", "EMI"})
      record(session, "clerk1", scan_body(item_id, code, kPostOffice1, timeline.next()));
    check_error(session.scan("staff2", scan_body(item_id, "RCV", kOffice2, timeline.next())), 403, "forbidden");
    check_error(session.scan("staff2", scan_body(item_id, "RCV", kOffice1, timeline.next())), 403, "forbidden");
    check_error(session.scan("clerk1", scan_body(item_id, "RCV", kPostOffice1, timeline.next())), 403, "forbidden");
    check_error(session.scan("clerk1", scan_body(item_id, "RCV", kOffice1, timeline.next())), 403, "forbidden");
    // Office staff do not record postal events.
    check_error(session.scan("staff1", scan_body(item_id, "EDD", kOffice1, timeline.next())), 403, "forbidden");
    record(session, "staff1", scan_body(item_id, "RCV", kOffice1, timeline.next()), "received");
  }
  SUBCASE("another office's staff cannot create the result") {
    auto id = create_dossier_id(session, "clerk1");
    check_error(session.client.post(result_path(id), json::object(), session.token("staff2")), 403, "forbidden");
  }
  SUBCASE("another office's staff cannot read its items") {
    auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
    check_error(session.item("staff2", item_id), 403, "forbidden");
  }
  SUBCASE("supervisors and admins do not record scans") {
    auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
    check_error(session.scan("supervisor1", scan_body(item_id, "EMA", kPostOffice1, timeline.next())), 403,
                "forbidden");
    check_error(session.scan("admin", scan_body(item_id, "EMA", kPostOffice1, timeline.next())), 403, "forbidden");
  }
}

TEST_CASE("404 for unknown paths, items and dossiers") {
  ApiSession session(shared_demo_server());
  check_error(session.client.get("/api/v1/no-such-thing", session.token("clerk1")), 404, "not_found");
  check_error(session.client.get("/no-such-page"), 404, "not_found");
  check_error(session.client.get("/api/v2/items/EE123456785VN", session.token("clerk1")), 404, "not_found");
  const auto unknown = unknown_item_id();
  check_error(session.item("clerk1", unknown), 404);
  check_error(session.track(unknown), 404);
  check_error(session.scan("clerk1", scan_body(unknown, "EMA", kPostOffice1, rfc3339(std::chrono::minutes(-5)))), 404,
              "unknown_item");
  check_error(session.client.post(result_path(987654321), json::object(), session.token("staff1")), 404);
}

TEST_CASE("405 for a known path with the wrong method") {
  ApiSession session(shared_demo_server());
  const auto& token = session.token("clerk1");
  std::map<std::string, std::string> auth{{"Authorization", "Bearer " + token}};
  check_error(session.client.request("DELETE", kScans, "", auth), 405);
  check_error(session.client.request("PUT", kDossiers, "{}", auth), 405);
  check_error(session.client.request("GET", "/api/v1/login"), 405);
  check_error(session.client.request("POST", "/healthz", "{}"), 405);
  check_error(session.client.request("DELETE", "/api/v1/track/EE123456785VN"), 405);
}

TEST_CASE("409 for an illegal transition names the state and the events allowed") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());

  auto refused = session.scan("clerk1", scan_body(item_id, "EDG", kPostOffice1, timeline.next()));
  check_error(refused, 409, "illegal_transition");
  auto error = refused.json()["error"];
  CHECK(error["state"] == "created");
  REQUIRE(error["allowed"].is_array());
  CHECK(error["allowed"] == json::array({"EMA"}));
  auto message = error["message"].get<std::string>();
  CHECK(contains(message, "created"));
  CHECK(contains(message, "EMA"));
  CHECK(contains(message, "EDG"));

  record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()), "accepted");
  refused = session.scan("clerk1", scan_body(item_id, "EMI", kPostOffice1, timeline.next()));
  check_error(refused, 409, "illegal_transition");
  error = refused.json()["error"];
  CHECK(error["state"] == "accepted");
  auto allowed = error["allowed"].get<std::vector<std::string>>();
  std::sort(allowed.begin(), allowed.end());
  CHECK(allowed == std::vector<std::string>{"EDD", "EMG"});
  CHECK(contains(error["message"].get<std::string>(), "accepted"));

  // Refusals record nothing.
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "accepted");
  CHECK(view.json()["events"].size() == 1);
}

TEST_CASE("409 when an event_id is reused for a different scan") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  auto other_item = create_dossier_item(session, "clerk1", unique_applicant());
  auto first = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
  record(session, "clerk1", first, "accepted");

  auto different_code = scan_body(item_id, "EDD", kPostOffice1, timeline.next(), first["event_id"]);
  check_error(session.scan("clerk1", different_code), 409, "event_id_conflict");
  auto different_item =
      scan_body(other_item, "EMA", kPostOffice1, first["occurred_at"].get<std::string>(), first["event_id"]);
  check_error(session.scan("clerk1", different_item), 409, "event_id_conflict");

  auto other = session.item("clerk1", other_item);
  REQUIRE(other.status == 200);
  CHECK(other.json()["events"].empty());
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  CHECK(event_ids(view.json()) == std::vector<std::string>{first["event_id"]});
}

TEST_CASE("413 for a body over 1 MiB") {
  ApiSession session(shared_demo_server());
  const auto& token = session.token("clerk1");
  auto scan = scan_body(unknown_item_id(), "EMA", kPostOffice1, rfc3339());
  scan["device"] = std::string(1024 * 1024 + 100, 'x');
  auto answer = session.client.post(kScans, scan, token);
  INFO(describe(answer));
  CHECK(answer.status == 413);
  if (!answer.body.empty()) check_error(answer, 413);

  auto dossier = dossier_body(unique_applicant());
  dossier["padding"] = std::string(2 * 1024 * 1024, ' ');
  answer = session.client.post(kDossiers, dossier, token);
  CHECK(answer.status == 413);

  // The server still serves after refusing a large body (the client reconnects if it closed).
  auto health = session.client.get("/healthz");
  CHECK(health.status == 200);
}

TEST_CASE("422 for invalid values") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const auto& clerk = session.token("clerk1");

  SUBCASE("unknown office") {
    check_error(session.client.post(kDossiers, dossier_body(unique_applicant(), "MC-NOWHERE"), clerk), 422,
                "unknown_office");
    // A post office is not a one-stop office.
    check_error(session.client.post(kDossiers, dossier_body(unique_applicant(), kPostOffice2), clerk), 422,
                "unknown_office");
  }
  SUBCASE("invalid dossier values") {
    auto base = dossier_body(unique_applicant());
    std::vector<std::pair<json::json_pointer, json>> invalid{
        {json::json_pointer("/service"), "teleport"},
        {json::json_pointer("/applicant/name"), ""},
        {json::json_pointer("/applicant/name"), std::string(201, 'a')},
        {json::json_pointer("/applicant/name"), "Nguyễn\u0001Văn"},
        {json::json_pointer("/applicant/phone"), "call me maybe"},
        {json::json_pointer("/applicant/id_number"), std::string(21, '1')},
        {json::json_pointer("/procedure/code"), "abc"},
        {json::json_pointer("/dossier_code"), "not a code"},
    };
    for (const auto& [pointer, value] : invalid) {
      auto body = base;
      body[pointer] = value;
      CAPTURE(body.dump());
      check_error(session.client.post(kDossiers, body, clerk), 422);
    }
    auto missing = base;
    missing["applicant"].erase("name");
    CAPTURE(missing.dump());
    check_error(session.client.post(kDossiers, missing, clerk), 422);
    auto invalid_utf8 = base.dump();
    auto at = invalid_utf8.find("Nguy");
    invalid_utf8.replace(at, 4, "\xC3\x28uy");
    auto answer = session.client.post(kDossiers, invalid_utf8, clerk);
    INFO(describe(answer));
    CHECK((answer.status == 400 || answer.status == 422));
  }
  SUBCASE("scans") {
    auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
    auto bad = with_bad_check_digit(item_id);
    check_error(session.scan("clerk1", scan_body(bad, "EMA", kPostOffice1, timeline.next())), 422, "bad_check_digit");
    check_error(session.scan("clerk1", scan_body("RR287043774IN", "EMA", kPostOffice1, timeline.next())), 422,
                "bad_check_digit");
    check_error(session.scan("clerk1", scan_body(item_id, "XYZ", kPostOffice1, timeline.next())), 422);
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next(), "not-a-uuid")), 422);
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, "yesterday at noon")), 422);
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, "2026-13-45T99:00:00Z")), 422);
    // A device whose clock was never set sends 1970: refused, nothing stored, and the real scan still fits.
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, "1970-01-01T00:00:00Z")), 422,
                "occurred_at_too_old");
    check_error(session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, "2019-12-31T23:59:59Z")), 422,
                "occurred_at_too_old");
    check_error(session.scan("clerk1", scan_body("EE12345", "EMA", kPostOffice1, timeline.next())), 422);
    auto no_event_id = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
    no_event_id.erase("event_id");
    check_error(session.scan("clerk1", no_event_id), 422);

    record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()), "accepted");
    for (const char* code : {"EMG", "EDG"})
      record(session, "clerk1", scan_body(item_id, code, kPostOffice1, timeline.next()));
    auto no_reason = scan_body(item_id, "EMH", kPostOffice1, timeline.next());
    no_reason["action"] = "redeliver";
    check_error(session.scan("clerk1", no_reason), 422, "reason_required");
    auto empty_reason = scan_body(item_id, "EMH", kPostOffice1, timeline.next());
    empty_reason["reason"] = "";
    empty_reason["action"] = "redeliver";
    check_error(session.scan("clerk1", empty_reason), 422);
    auto view = session.item("clerk1", item_id);
    REQUIRE(view.status == 200);
    CHECK(view.json()["state"] == "out_for_delivery");
  }
  SUBCASE("a result is delivered only with a recipient") {
    auto created = session.create_dossier("staff1", dossier_body(unique_applicant(), kOffice1, "receive"));
    REQUIRE(created.status == 201);
    auto made = session.client.post(result_path(created.json()["id"].get<long long>()), json::object(),
                                    session.token("staff1"));
    INFO(describe(made));
    REQUIRE(made.status == 201);
    std::string result_item = made.json()["item_id"];
    record(session, "staff1", scan_body(result_item, "RES", kOffice1, timeline.next()), "handed_to_post");
    for (const char* code : {"EMA", "EMG", "EDG"}) {
      record(session, "clerk1", scan_body(result_item, code, kPostOffice1, timeline.next()));
    }
    check_error(session.scan("clerk1", scan_body(result_item, "EMI", kPostOffice1, timeline.next())), 422,
                "recipient_required");
    auto nameless = scan_body(result_item, "EMI", kPostOffice1, timeline.next());
    nameless["recipient"] = json{{"name", ""}, {"id_checked", true}};
    check_error(session.scan("clerk1", nameless), 422);
    auto done = scan_body(result_item, "EMI", kPostOffice1, timeline.next());
    done["recipient"] = json{
        {"name", "Lê Văn Nhận"}, {"id_checked", true}, {"id_document", {{"type", "cccd"}, {"number", "001090001234"}}}};
    record(session, "clerk1", done, "delivered");
  }
}

TEST_CASE("no 5xx for odd input") {
  ApiSession session(shared_demo_server());
  const auto& clerk = session.token("clerk1");
  std::vector<std::string> bodies{
      "",
      "{}",
      "[]",
      "0",
      "-1e999999",
      "{\"events\": null}",
      "{\"events\": [null, 1, \"x\", {}]}",
      "{\"event_id\": null, \"item_id\": null}",
      "{\"procedure\": {}, \"applicant\": {}, \"office\": \"\", \"service\": \"\"}",
      "\xff\xfe\xfd",
      std::string("{\"a\":\"\0\"}", 9),
      "{\"item_id\": \"" + std::string(5000, '9') + "\"}",
      "{\"code\": \"EMA\", \"site\": \"" + std::string(10000, 'B') + "\"}",
      "{\"n\": 123456789012345678901234567890}",
  };
  for (const std::string& target : {kDossiers, kScans, kBatch, std::string("/api/v1/login")}) {
    for (const auto& body : bodies) {
      CAPTURE(target);
      CAPTURE(body.substr(0, 80));
      auto answer = session.client.post(target, body, clerk);
      INFO(describe(answer));
      // A batch may answer 200 with a refusal per element; everything else refuses the request.
      if (target != kBatch) CHECK(answer.status >= 400);
      CHECK(answer.status < 500);
    }
  }
  for (const std::string& target :
       {std::string("/api/v1/items/%00"), std::string("/api/v1/items/..%2F..%2Fetc%2Fpasswd"),
        std::string("/api/v1/track/") + std::string(3000, 'A'), std::string("/api/v1/track/ee%20123%20456%20785%20vn"),
        std::string("/api/v1/dossiers/-1/result"), std::string("/api/v1/dossiers/99999999999999999999999/result"),
        std::string("/api/v1/dossiers/abc/result")}) {
    CAPTURE(target);
    auto get = session.client.get(target, clerk);
    INFO(describe(get));
    CHECK(get.status < 500);
    auto post = session.client.post(target, json::object(), session.token("staff1"));
    INFO(describe(post));
    CHECK(post.status >= 400);
    CHECK(post.status < 500);
  }
  CHECK(session.client.get("/healthz").status == 200);
}

TEST_CASE("deeply nested JSON is refused without harm") {
  TestServer server({"--demo"});
  ApiSession session(server);
  const auto& clerk = session.token("clerk1");
  for (std::size_t depth : {1000u, 100000u}) {
    CAPTURE(depth);
    std::string body(depth, '[');
    body += std::string(depth, ']');
    auto answer = session.client.post(kScans, body, clerk);
    INFO(describe(answer));
    CHECK(answer.status >= 400);
    CHECK(answer.status < 500);
    std::string objects;
    for (std::size_t i = 0; i < depth / 5; ++i) objects += "{\"a\":";
    objects += '1';
    objects.append(depth / 5, '}');
    answer = session.client.post(kDossiers, objects, clerk);
    INFO(describe(answer));
    CHECK(answer.status >= 400);
    CHECK(answer.status < 500);
  }
  CHECK(session.client.get("/healthz").status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("refusals give the real reason in plain words") {
  ApiSession session(shared_demo_server());
  auto message = [](const HttpResult& r) { return r.json()["error"]["message"].get<std::string>(); };

  // A control character in the path names nothing: 400, not "There is no dossier 2" cut at the NUL.
  check_error(session.client.get("/api/v1/dossiers/2%00", session.token("staff1")), 400, "bad_path");
  check_error(session.client.get("/t/abc%0Adef"), 400, "bad_path");

  // A number too large for the parser: our words, not the JSON library's.
  auto huge = session.client.post("/api/v1/login", std::string(R"({"username":"x","password":"y","n":1e99999})"));
  check_error(huge, 400, "malformed_json");
  CHECK_FALSE(contains(huge.body, "json.exception"));
  auto wrong_type = session.client.post("/api/v1/login", std::string(R"({"username":1,"password":"y"})"));
  CHECK(wrong_type.status == 400);
  CHECK_FALSE(contains(wrong_type.body, "json.exception"));

  // A pause is not "creating a result item"; a limit is not a ledger tree size; admin actions in words.
  auto created = session.create_dossier("staff1", dossier_body(unique_applicant(), kOffice1, "receive"));
  REQUIRE(created.status == 201);
  const auto pause = "/api/v1/dossiers/" + std::to_string(created.json()["id"].get<long long>()) + "/pause";
  auto by_clerk = session.client.post(pause, json{{"reason", "x"}}, session.token("clerk1"));
  check_error(by_clerk, 403, "forbidden");
  CHECK(contains(message(by_clerk), "deadline clock"));
  CHECK_FALSE(contains(message(by_clerk), "result"));
  check_error(session.client.get("/api/v1/audit?limit=-1", session.token("admin")), 422, "bad_limit");
  auto out_of_scope = session.client.get("/api/v1/audit?site=BC-HN02", session.token("supervisor1"));
  check_error(out_of_scope, 403, "forbidden");
  CHECK(contains(message(out_of_scope), "not among the sites you supervise"));
  auto users = session.client.post("/api/v1/users", json{{"username", "x"}}, session.token("clerk1"));
  check_error(users, 403, "forbidden");
  CHECK(contains(message(users), "Only administrators manage user accounts"));
}

TEST_CASE("names that differ only in case are one name: no second user or site beside it") {
  ApiSession session(shared_demo_server());
  const auto& admin = session.token("admin");
  auto user = session.client.post(
      "/api/v1/users", json{{"username", "CLERK1"}, {"password", "a-long-password"}, {"role", "admin"}}, admin);
  check_error(user, 409, "user_exists");
  CHECK(contains(user.json()["error"]["message"].get<std::string>(), "clerk1"));
  auto site =
      session.client.post("/api/v1/sites", json{{"code", "bc-hn01"}, {"kind", "post_office"}, {"name", "X"}}, admin);
  check_error(site, 409, "site_exists");
  CHECK(contains(site.json()["error"]["message"].get<std::string>(), "BC-HN01"));
  // And the login that would have been shadowed still works as before.
  CHECK(session.client.post("/api/v1/login", json{{"username", "clerk1"}, {"password", "demo"}}).status == 200);
}
