// Scanner device tokens (issued, used, revoked), device clock offsets, and the papers and fees recorded at
// pickup for the citizen's receipt.
#include "itest_common.hpp"
#include "signing.hpp"

#include <doctest/doctest.h>

using namespace dpost::test;
using nlohmann::json;

TEST_CASE("a device token records scans as its user until it is revoked") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto signer = enroll_device(session, "clerk1", "Máy quét quầy 1");
  const auto device = signer.enrolment;
  const auto token = device["token"].get<std::string>();
  CHECK(device["device"]["username"] == "clerk1");
  CHECK(device["device"]["site"] == std::string(kPostOffice1));
  CHECK(device["device"]["revoked_at"].is_null());

  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  auto scan = signer.sign(scan_body(item_id, "EMA", kPostOffice1, timeline.next()));
  auto answer = session.client.post("/api/v1/scans", scan, token);
  INFO(describe(answer));
  REQUIRE(answer.status == 201);
  CHECK(answer.json()["event"]["recorded_by"] == "clerk1");
  CHECK(answer.json()["event"]["signed_by_device"] == device["id"]);
  CHECK(answer.json()["event"]["device"] == "device-" + std::to_string(device["id"].get<long long>()));

  // A device token cannot enrol more devices.
  check_error(session.client.post("/api/v1/devices", json{{"name", "x"}}, token), 403, "forbidden");
  // Another clerk cannot revoke it; its owner can.
  const auto revoke = "/api/v1/devices/" + std::to_string(device["id"].get<long long>()) + "/revoke";
  check_error(session.client.post(revoke, json::object(), session.token("clerk2")), 403, "forbidden");
  auto revoked = session.client.post(revoke, json::object(), session.token("clerk1"));
  INFO(describe(revoked));
  REQUIRE(revoked.status == 200);
  CHECK_FALSE(revoked.json()["device"]["revoked_at"].is_null());

  // Revoked: refused with its own code, and nothing is recorded.
  auto next = signer.sign(scan_body(item_id, "EDD", kPostOffice1, timeline.next()));
  check_error(session.client.post("/api/v1/scans", next, token), 401, "device_revoked");
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  CHECK(view.json()["events"].size() == 1);
  check_error(session.client.post("/api/v1/devices/999999/revoke", json::object(), session.token("clerk1")), 404);
}

TEST_CASE("devices are for clerks and office staff — bad enrolment input is refused") {
  ApiSession session(shared_demo_server());
  check_error(session.client.post("/api/v1/devices", json{{"name", "x"}}, session.token("supervisor1")), 403);
  check_error(session.client.post("/api/v1/devices", json::object(), session.token("clerk1")), 422, "missing_field");
  check_error(session.client.post("/api/v1/devices", json{{"name", 5}}, session.token("clerk1")), 400);
  check_error(session.client.post("/api/v1/devices", json{{"name", "x"}}), 401);
  // An admin enrols one for a clerk.
  check_error(session.client.post("/api/v1/devices", json{{"name", "x"}, {"public_key", "bm90IGEga2V5"}},
                                  session.token("clerk1")),
              422, "bad_public_key");
  // 32 zero bytes decode fine but are a small-order point: any signature "by" it could be forged.
  check_error(session.client.post("/api/v1/devices",
                                  json{{"name", "x"}, {"public_key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}},
                                  session.token("clerk1")),
              422, "bad_public_key");
  check_error(session.client.post("/api/v1/devices", json{{"name", "x"}, {"username", 7}}, session.token("admin")),
              400);
  const auto key = dpost::signing::base64_encode(dpost::signing::generate_key_pair().public_key);
  auto answer =
      session.client.post("/api/v1/devices", json{{"name", "Máy quét 2"}, {"username", "clerk2"}, {"public_key", key}},
                          session.token("admin"));
  INFO(describe(answer));
  REQUIRE(answer.status == 201);
  CHECK(answer.json()["device"]["site"] == std::string(kPostOffice2));
  auto list = session.client.get("/api/v1/devices", session.token("admin"));
  REQUIRE(list.status == 200);
  CHECK(list.json()["devices"].size() >= 1);
}

TEST_CASE("a batch's sent_at records the device clock offset with each event") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  // The device clock runs one hour behind the server.
  const auto device_now = rfc3339_at(std::chrono::system_clock::now() - std::chrono::hours(1));
  json batch = {{"events", json::array({scan_body(item_id, "EMA", kPostOffice1, timeline.next())})},
                {"sent_at", device_now}};
  auto answer = session.client.post("/api/v1/scans/batch", batch, session.token("clerk1"));
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  REQUIRE(answer.json()["results"][0]["status"] == 201);
  auto view = session.item("clerk1", item_id).json();
  const auto offset = view["events"][0]["clock_offset_ms"].get<long long>();
  CHECK(offset > 59LL * 60 * 1000);
  CHECK(offset < 61LL * 60 * 1000);
  check_error(session.client.post("/api/v1/scans/batch", json{{"events", json::array()}, {"sent_at", "yesterday"}},
                                  session.token("clerk1")),
              422, "bad_time");
}

TEST_CASE("the papers and fee counted at pickup are stored with the dossier") {
  ApiSession session(shared_demo_server());
  auto body = dossier_body(unique_applicant());
  body["documents"] = json::array({{{"name", "Tờ khai cấp phiếu lý lịch tư pháp"}, {"kind", "original"}, {"count", 1}},
                                   {{"name", "Căn cước công dân"}, {"kind", "certified_copy"}, {"count", 2}}});
  body["fee_vnd"] = 200000;
  auto created = session.create_dossier("clerk1", body);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto id = created.json()["id"].get<long long>();
  auto dossier = session.client.get("/api/v1/dossiers/" + std::to_string(id), session.token("staff1"));
  INFO(describe(dossier));
  REQUIRE(dossier.status == 200);
  auto d = dossier.json();
  REQUIRE(d["documents"].size() == 2);
  CHECK(d["documents"][1]["name"] == "Căn cước công dân");
  CHECK(d["documents"][1]["kind"] == "certified_copy");
  CHECK(d["documents"][1]["count"] == 2);
  CHECK(d["fee_vnd"] == 200000);
  CHECK(d["created_by"] == "clerk1");

  auto bad = dossier_body(unique_applicant());
  bad["documents"] = json::array({{{"name", "x"}, {"kind", "photocopy"}}});
  check_error(session.create_dossier("clerk1", bad), 422, "unknown_copy_kind");
  bad["documents"] = json::array({{{"name", "x"}, {"count", 0}}});
  check_error(session.create_dossier("clerk1", bad), 422, "bad_count");
  bad["documents"] = "papers";
  check_error(session.create_dossier("clerk1", bad), 400);
  bad = dossier_body(unique_applicant());
  bad["fee_vnd"] = -1;
  check_error(session.create_dossier("clerk1", bad), 422, "bad_fee");
}
