// Scans through a device token are signed with the device's Ed25519 key (issue 5): unsigned, wrongly signed,
// altered, replayed and revoked-device scans are refused, nothing of them is recorded, and each refusal is in
// the security audit log.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace dpost::test;
using nlohmann::json;

namespace {

int audit_count(ApiSession& s, const std::string& action, const std::string& needle) {
  auto answer = s.client.get("/api/v1/audit?limit=1000&action=" + action, s.token("admin"));
  REQUIRE(answer.status == 200);
  const auto entries = answer.json()["entries"];
  return static_cast<int>(std::count_if(entries.begin(), entries.end(), [&](const json& e) {
    return contains(e["detail"].get<std::string>(), needle) || contains(e["target"].get<std::string>(), needle);
  }));
}

}  // namespace

TEST_CASE("device signatures: forged, altered, replayed and revoked-device scans are refused and logged") {
  ApiSession s(shared_demo_server());
  Timeline t;
  auto device = enroll_device(s, "clerk1", "Máy quét quầy 3");
  auto other = enroll_device(s, "clerk1", "Máy quét quầy 4");
  const auto item = create_dossier_item(s, "clerk1", unique_applicant());
  const auto post = [&](const json& scan) { return s.client.post("/api/v1/scans", scan, device.token); };

  // Signed properly: recorded with the device's counter, and the same scan again is a harmless retry.
  const auto good = device.sign(scan_body(item, "EMA", kPostOffice1, t.next()));
  auto recorded = post(good);
  INFO(describe(recorded));
  REQUIRE(recorded.status == 201);
  CHECK(recorded.json()["event"]["device_seq"] == good["seq"]);
  CHECK(recorded.json()["event"]["signed_by_device"] == device.id);
  CHECK(post(good).status == 200);

  struct Attack {
    std::string what;
    json scan;
    std::string code;
  };
  std::vector<Attack> attacks;
  attacks.push_back({"unsigned", scan_body(item, "EDD", kPostOffice1, t.next()), "unsigned_scan"});
  {
    auto no_seq = device.sign(scan_body(item, "EDD", kPostOffice1, t.next()));
    no_seq.erase("seq");
    attacks.push_back({"signature without its counter", no_seq, "unsigned_scan"});
  }
  attacks.push_back(
      {"signed by another device", other.sign(scan_body(item, "EDD", kPostOffice1, t.next())), "bad_signature"});
  {
    auto altered = device.sign(scan_body(item, "EDD", kPostOffice1, t.next()));
    altered["occurred_at"] = t.next();
    attacks.push_back({"time altered after signing", altered, "bad_signature"});
  }
  {
    auto altered = device.sign(scan_body(item, "EMG", kPostOffice1, t.next()));
    altered["code"] = "EDD";
    attacks.push_back({"code altered after signing", altered, "bad_signature"});
  }
  {
    auto altered = device.sign(scan_body(item, "EDD", kPostOffice1, t.next()));
    altered["seq"] = altered["seq"].get<long long>() + 100;
    attacks.push_back({"counter altered after signing", altered, "bad_signature"});
  }
  {
    auto garbage = scan_body(item, "EDD", kPostOffice1, t.next());
    garbage["seq"] = 99;
    garbage["signature"] = "AAAA";
    attacks.push_back({"not a signature", garbage, "bad_signature"});
  }
  // A new event signed with a counter the device already used: a replay of its signature.
  attacks.push_back({"counter replayed for a new event",
                     device.sign(scan_body(item, "EDD", kPostOffice1, t.next()), good["seq"].get<long long>()),
                     "replayed_scan"});

  for (const auto& a : attacks) {
    CAPTURE(a.what);
    auto answer = post(a.scan);
    check_error(answer, 403, a.code);
    CHECK(audit_count(s, "device_signature", a.scan["event_id"].get<std::string>()) == 1);
  }
  // The same refusals in a batch, per event (a refused scan may be sent again: it is judged again).
  json batch = {{"events", json::array()}};
  for (const auto& a : attacks) batch["events"].push_back(a.scan);
  auto batched = s.client.post("/api/v1/scans/batch", batch, device.token);
  REQUIRE(batched.status == 200);
  for (const auto& r : batched.json()["results"]) CHECK(r["status"] == 403);

  // Nothing of them was recorded.
  CHECK(event_codes(s.item("clerk1", item).json()) == std::vector<std::string>{"EMA"});

  // A properly signed next scan still goes through.
  auto next = post(device.sign(scan_body(item, "EDD", kPostOffice1, t.next())));
  INFO(describe(next));
  CHECK(next.status == 201);

  // Revoked: refused before anything else, logged, and nothing recorded.
  const auto revoke = "/api/v1/devices/" + std::to_string(device.id) + "/revoke";
  REQUIRE(s.client.post(revoke, json::object(), s.token("clerk1")).status == 200);
  const auto before = audit_count(s, "device_revoked", "revoked device token");
  check_error(post(device.sign(scan_body(item, "EDE", kPostOffice1, t.next()))), 401, "device_revoked");
  CHECK(audit_count(s, "device_revoked", "revoked device token") == before + 1);
  CHECK(event_codes(s.item("clerk1", item).json()) == std::vector<std::string>{"EMA", "EDD"});
}
