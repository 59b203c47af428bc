// Two-party handoffs and bags (issue 5): the receiving side confirms, problems reach the supervisor, a bag
// goes with one scan and is reconciled item by item, and the slips come out of the recorded events.
#include "itest_common.hpp"
#include "pdf_text.hpp"

#include "clock.hpp"
#include "item_id.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace dpost::test;
using nlohmann::json;

namespace {

// A dossier item brought to "out for delivery" to office 1 by clerk1.
std::string out_for_delivery(ApiSession& s, Timeline& t) {
  auto id = create_dossier_item(s, "clerk1", unique_applicant());
  for (const char* code : {"EMA", "EMG", "EDG"}) record(s, "clerk1", scan_body(id, code, kPostOffice1, t.next()));
  return id;
}

json make_bag(ApiSession& s, const std::string& user, std::string_view destination,
              const std::vector<std::string>& items) {
  auto bag = s.client.post("/api/v1/bags", json{{"destination", destination}, {"items", items}}, s.token(user));
  INFO(describe(bag));
  REQUIRE(bag.status == 201);
  return bag.json();
}

json post_ok(ApiSession& s, const std::string& user, const std::string& target, const json& body) {
  auto answer = s.client.post(target, body, s.token(user));
  INFO(target << " as " << user << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
  return answer.json();
}

const json& bag_item(const json& bag, const std::string& item_id) {
  for (const auto& i : bag["items"]) {
    if (i["item_id"] == item_id) return i;
  }
  FAIL("item " << item_id << " is not in bag " << bag.dump());
  static const json none;
  return none;
}

std::string state_of(ApiSession& s, const std::string& user, const std::string& item_id) {
  auto view = s.item(user, item_id);
  REQUIRE(view.status == 200);
  return view.json()["state"].get<std::string>();
}

bool has_problem(const json& problems, const std::string& item_id, const std::string& problem) {
  return std::any_of(problems["problems"].begin(), problems["problems"].end(),
                     [&](const json& p) { return p["item_id"] == item_id && p["problem"] == problem; });
}

}  // namespace

TEST_CASE("bags: one scan hands a bag of dossiers to the office, and the office's scans reconcile it") {
  ApiSession s(shared_demo_server());
  Timeline t;
  std::vector<std::string> items;
  for (int i = 0; i < 4; ++i) items.push_back(out_for_delivery(s, t));
  const auto& fine = items[0];
  const auto& broken = items[1];
  const auto& lost = items[2];
  const auto& stray = items[3];  // travels in the bag without being on its manifest

  auto bag = make_bag(s, "clerk1", kOffice1, {fine, broken, lost});
  const std::string bag_id = bag["bag_id"];
  CHECK(dpost::parse_bag_id(bag_id) == bag_id);
  CHECK(bag["state"] == "open");
  CHECK(bag["origin_site"] == kPostOffice1);
  CHECK(bag["destination_site"] == kOffice1);
  CHECK(bag["summary"]["expected"] == 3);
  const auto base = "/api/v1/bags/" + bag_id;

  SUBCASE("an item is in one bag at a time, and only where it is addressed") {
    auto again = s.client.post("/api/v1/bags", json{{"destination", kOffice1}, {"items", {fine}}}, s.token("clerk1"));
    check_error(again, 409);
    auto wrong = s.client.post("/api/v1/bags", json{{"destination", kOffice2}, {"items", {stray}}}, s.token("clerk1"));
    check_error(wrong, 409, "wrong_bag");
    auto receive_early = s.client.post(base + "/receive", json::object(), s.token("staff1"));
    check_error(receive_early, 409, "bag_not_dispatched");
  }

  SUBCASE("the journey: dispatch once, scan, close") {
    const auto dispatch_id = new_uuid();
    auto sent = post_ok(s, "clerk1", base + "/dispatch", json{{"event_id", dispatch_id}, {"occurred_at", t.next()}});
    CHECK(sent["state"] == "dispatched");
    CHECK(sent["dispatch_event_id"] == dispatch_id);
    // One scan gave every item its handoff (EMI: delivered to the office), awaiting the office's confirmation.
    for (const auto& id : {fine, broken, lost}) {
      auto view = s.item("clerk1", id).json();
      CHECK(view["state"] == "delivered");
      CHECK(view["events"].back()["code"] == "EMI");
    }
    // A retry of the same dispatch (a lost answer) is answered the same and records nothing more.
    auto retry = post_ok(s, "clerk1", base + "/dispatch", json{{"event_id", dispatch_id}, {"occurred_at", t.next()}});
    CHECK(retry["dispatch_event_id"] == dispatch_id);
    CHECK(s.item("clerk1", fine).json()["events"].size() == 4);
    // Another dispatch of the same bag is refused.
    check_error(s.client.post(base + "/dispatch", json{{"event_id", new_uuid()}}, s.token("clerk1")), 409,
                "bag_not_open");
    // The stray item is handed over on its own, outside the bag's manifest.
    record(s, "clerk1", scan_body(stray, "EMI", kPostOffice1, t.next()), "delivered");

    auto pending = s.client.get("/api/v1/handoffs/pending?site=" + std::string(kOffice1), s.token("staff1")).json();
    for (const auto& id : {fine, broken, lost, stray}) {
      CAPTURE(id);
      CHECK(std::any_of(pending["pending"].begin(), pending["pending"].end(),
                        [&](const json& p) { return p["item_id"] == id && p["to_site"] == kOffice1; }));
    }

    // The office scans the bag open, then each item; a clock that was never set is refused first.
    check_error(s.client.post(base + "/receive", json{{"occurred_at", "1970-01-01T00:00:00Z"}}, s.token("staff1")), 422,
                "occurred_at_too_old");
    auto opened = post_ok(s, "staff1", base + "/receive", json{{"occurred_at", t.next()}});
    CHECK(opened["state"] == "receiving");
    CHECK(opened["received_by"] == "staff1");
    const json fine_scan{{"event_id", new_uuid()}, {"item_id", fine}, {"occurred_at", t.next()}};
    auto ok = post_ok(s, "staff1", base + "/scan", fine_scan);
    CHECK(ok["outcome"] == "received");
    CHECK(ok["status"] == "recorded");
    CHECK(ok["item"]["state"] == "received");
    CHECK(ok["event"]["code"] == "RCV");
    auto seal = post_ok(s, "staff1", base + "/scan",
                        json{{"event_id", new_uuid()},
                             {"item_id", broken},
                             {"occurred_at", t.next()},
                             {"seal_intact", false},
                             {"issue", "seal_broken"},
                             {"reason", "Niêm phong bị rách một góc"}});
    CHECK(seal["outcome"] == "damaged");
    CHECK(seal["event"]["seal_intact"] == false);
    CHECK(seal["event"]["issue"] == "seal_broken");
    auto extra = post_ok(s, "staff1", base + "/scan",
                         json{{"event_id", new_uuid()}, {"item_id", stray}, {"occurred_at", t.next()}});
    CHECK(extra["outcome"] == "extra");
    CHECK(extra["item"]["state"] == "received");
    // The same scan sent again (a lost answer, a page reloaded) is answered as already recorded.
    auto repeat = post_ok(s, "staff1", base + "/scan", fine_scan);
    CHECK(repeat["status"] == "duplicate");

    auto closed = post_ok(s, "staff1", base + "/close", json::object());
    CHECK(closed["state"] == "closed");
    CHECK(closed["summary"]["received"] == 1);
    CHECK(closed["summary"]["damaged"] == 1);
    CHECK(closed["summary"]["missing"] == 1);
    CHECK(closed["summary"]["extra"] == 1);
    CHECK(closed["summary"]["waiting"] == 0);
    CHECK(bag_item(closed, lost)["outcome"] == "missing");
    CHECK(bag_item(closed, stray)["expected"] == false);
    // The missing one is still handed over but not confirmed: it stays on the office's pending list.
    CHECK(state_of(s, "staff1", lost) == "delivered");
    pending = s.client.get("/api/v1/handoffs/pending?site=" + std::string(kOffice1), s.token("staff1")).json();
    CHECK(std::any_of(pending["pending"].begin(), pending["pending"].end(),
                      [&](const json& p) { return p["item_id"] == lost; }));
    CHECK_FALSE(std::any_of(pending["pending"].begin(), pending["pending"].end(),
                            [&](const json& p) { return p["item_id"] == fine; }));
    // A closed bag takes no more scans.
    check_error(s.client.post(base + "/scan", json{{"event_id", new_uuid()}, {"item_id", lost}}, s.token("staff1")),
                409, "bag_closed");

    // The supervisor of the district sees the broken seal, the missing item and the extra one.
    auto problems = s.client.get("/api/v1/handoffs/problems?site=" + std::string(kOffice1), s.token("supervisor1"));
    INFO(describe(problems));
    REQUIRE(problems.status == 200);
    CHECK(has_problem(problems.json(), broken, "seal_broken"));
    CHECK(has_problem(problems.json(), lost, "missing"));
    CHECK(has_problem(problems.json(), stray, "extra"));

    // The slip for signature and filing comes from what was recorded.
    auto slip = s.client.get(base + "/slip", s.token("staff1"));
    REQUIRE(slip.status == 200);
    CHECK(slip.header("Content-Type") == "application/pdf");
    const auto text = pdf_to_text(slip.body);
    REQUIRE_FALSE(text.empty());
    for (const auto& id : items) CHECK(contains(text, id));
    CHECK(contains(text, "THIẾU"));
    CHECK(contains(text, "THỪA"));
    CHECK(contains(text, "Hư hỏng"));
    CHECK(contains(text, "clerk1"));
    CHECK(contains(text, "staff1"));
    // The day the receipts were recorded on, in Vietnam: not always today (a suite run just after midnight).
    auto day =
        s.client.get("/api/v1/handoffs/slip?site=" + std::string(kOffice1) + "&date=" + t.vn_date(), s.token("staff1"));
    REQUIRE(day.status == 200);
    const auto day_text = pdf_to_text(day.body);
    CHECK(contains(day_text, "PHIẾU KIỂM SOÁT BÀN GIAO"));
    CHECK(contains(day_text, fine));
    CHECK(contains(day_text, broken));
    CHECK(contains(day_text, "Niêm phong"));  // the broken seal's note
    CHECK(contains(day.header("Content-Disposition"), t.vn_date()));
    // Without a date it is today's, in Vietnam (either side of a midnight that falls during the request).
    const auto before = dpost::format_date_vn(dpost::now_millis());
    auto today = s.client.get("/api/v1/handoffs/slip?site=" + std::string(kOffice1), s.token("staff1"));
    const auto after = dpost::format_date_vn(dpost::now_millis());
    REQUIRE(today.status == 200);
    const auto named = today.header("Content-Disposition");
    CHECK((contains(named, "-" + before + ".pdf") || contains(named, "-" + after + ".pdf")));

    auto label = s.client.get(base + "/label", s.token("clerk1"));
    REQUIRE(label.status == 200);
    CHECK(label.body.starts_with("%PDF-"));
    CHECK(contains(pdf_to_text(label.body), bag_id));
  }
}

TEST_CASE("bags: a dispatch is all or none") {
  ApiSession s(shared_demo_server());
  Timeline t;
  const auto a = out_for_delivery(s, t);
  const auto b = out_for_delivery(s, t);
  auto bag = make_bag(s, "clerk1", kOffice1, {a, b});
  const auto base = "/api/v1/bags/" + bag["bag_id"].get<std::string>();
  // b is handed over on its own before the bag goes: the bag can no longer hand it over.
  record(s, "clerk1", scan_body(b, "EMI", kPostOffice1, t.next()), "delivered");
  record(s, "staff1", scan_body(b, "RCV", kOffice1, t.next()), "received");
  auto refused = s.client.post(base + "/dispatch", json{{"event_id", new_uuid()}}, s.token("clerk1"));
  check_error(refused, 409, "bag_item_refused");
  CHECK(contains(refused.body, b));
  // Nothing was recorded for a either, and the bag is still open.
  CHECK(state_of(s, "clerk1", a) == "out_for_delivery");
  CHECK(s.client.get(base, s.token("clerk1")).json()["state"] == "open");
  // Taking b out lets the bag go.
  REQUIRE(
      s.client.request("DELETE", base + "/items/" + b, "", {{"Authorization", "Bearer " + s.token("clerk1")}}).status ==
      200);
  auto sent = post_ok(s, "clerk1", base + "/dispatch", json{{"event_id", new_uuid()}});
  CHECK(sent["state"] == "dispatched");
  CHECK(state_of(s, "clerk1", a) == "delivered");
}

TEST_CASE("bags: results go from the office to the post in a bag, accepted item by item (RES, then EMA)") {
  ApiSession s(shared_demo_server());
  Timeline t;
  std::vector<std::string> results;
  for (int i = 0; i < 2; ++i) {
    auto created = s.create_dossier("clerk1", dossier_body(unique_applicant(), kOffice1, "both"));
    REQUIRE(created.status == 201);
    const auto dossier = created.json()["id"].get<long long>();
    const auto item = created.json()["items"][0]["item_id"].get<std::string>();
    for (const char* code : {"EMA", "EMG", "EDG", "EMI"})
      record(s, "clerk1", scan_body(item, code, kPostOffice1, t.next()));
    record(s, "staff1", scan_body(item, "RCV", kOffice1, t.next()), "received");
    auto made =
        s.client.post("/api/v1/dossiers/" + std::to_string(dossier) + "/result", json::object(), s.token("staff1"));
    INFO(describe(made));
    REQUIRE(made.status == 201);
    results.push_back(made.json()["item_id"]);
  }
  auto bag = make_bag(s, "staff1", kPostOffice1, results);
  const auto base = "/api/v1/bags/" + bag["bag_id"].get<std::string>();
  // The post office's clerk does not hand the office's bag over.
  check_error(s.client.post(base + "/dispatch", json{{"event_id", new_uuid()}}, s.token("clerk1")), 403);
  post_ok(s, "staff1", base + "/dispatch", json{{"event_id", new_uuid()}, {"occurred_at", t.next()}});
  for (const auto& r : results) CHECK(state_of(s, "staff1", r) == "handed_to_post");
  // Handed to the post, awaiting the post office's acceptance.
  auto pending = s.client.get("/api/v1/handoffs/pending?site=" + std::string(kPostOffice1), s.token("clerk1")).json();
  for (const auto& r : results) {
    CHECK(std::any_of(pending["pending"].begin(), pending["pending"].end(),
                      [&](const json& p) { return p["item_id"] == r; }));
  }
  // The office's staff cannot accept on the post's behalf.
  check_error(s.client.post(base + "/receive", json::object(), s.token("staff1")), 403);
  for (const auto& r : results) {
    auto scanned =
        post_ok(s, "clerk1", base + "/scan", json{{"event_id", new_uuid()}, {"item_id", r}, {"occurred_at", t.next()}});
    CHECK(scanned["event"]["code"] == "EMA");
    CHECK(scanned["outcome"] == "received");
    CHECK(state_of(s, "clerk1", r) == "accepted");
  }
  auto closed = post_ok(s, "clerk1", base + "/close", json::object());
  CHECK(closed["summary"]["received"] == 2);
  CHECK(closed["summary"]["missing"] == 0);
}

TEST_CASE("bags: between post offices the bag takes its items through the destination (EDE, then EDD)") {
  ApiSession s(shared_demo_server());
  Timeline t;
  auto item = create_dossier_item(s, "clerk1", unique_applicant());
  record(s, "clerk1", scan_body(item, "EMA", kPostOffice1, t.next()), "accepted");
  // Not routed through Cầu Giấy: its clerk may not touch it yet.
  check_error(s.scan("clerk2", scan_body(item, "EDD", kPostOffice2, t.next())), 403);
  // A bag between post offices leaves sorting (EDE): an item only accepted is sorted first.
  check_error(s.client.post("/api/v1/bags", json{{"destination", kPostOffice2}, {"items", {item}}}, s.token("clerk1")),
              409, "wrong_state");
  record(s, "clerk1", scan_body(item, "EDD", kPostOffice1, t.next()), "at_sorting");
  auto bag = make_bag(s, "clerk1", kPostOffice2, {item});
  const auto base = "/api/v1/bags/" + bag["bag_id"].get<std::string>();
  post_ok(s, "clerk1", base + "/dispatch", json{{"event_id", new_uuid()}, {"occurred_at", t.next()}});
  auto view = s.item("clerk1", item).json();
  CHECK(view["state"] == "left_sorting");
  CHECK(view["events"].back()["code"] == "EDE");
  CHECK(std::any_of(view["route"].begin(), view["route"].end(),
                    [](const json& stop) { return stop["site"] == kPostOffice2; }));
  auto scanned = post_ok(s, "clerk2", base + "/scan",
                         json{{"event_id", new_uuid()}, {"item_id", item}, {"occurred_at", t.next()}});
  CHECK(scanned["event"]["code"] == "EDD");
  CHECK(state_of(s, "clerk2", item) == "at_sorting");
}

TEST_CASE("two-party handoff: delivered is awaiting confirmation until the office confirms, and late ones show") {
  TestServer server({"--demo", "--confirm-within-minutes", "0"});
  ApiSession s(server);
  Timeline t;
  const auto item = out_for_delivery(s, t);
  record(s, "clerk1", scan_body(item, "EMI", kPostOffice1, t.next()), "delivered");

  auto custody = s.client.get("/api/v1/items/" + item + "/custody", s.token("staff1"));
  INFO(describe(custody));
  REQUIRE(custody.status == 200);
  CHECK(custody.json()["custody"]["awaiting_confirmation"] == true);
  CHECK(custody.json()["custody"]["awaiting_site"] == kOffice1);

  auto pending = s.client.get("/api/v1/handoffs/pending?site=" + std::string(kOffice1), s.token("supervisor1"));
  REQUIRE(pending.status == 200);
  const auto p = pending.json();
  CHECK(p["confirm_within_minutes"] == 0);
  CHECK(p["overdue"].get<int>() >= 1);
  auto mine =
      std::find_if(p["pending"].begin(), p["pending"].end(), [&](const json& e) { return e["item_id"] == item; });
  REQUIRE(mine != p["pending"].end());
  CHECK((*mine)["overdue"] == true);
  CHECK((*mine)["from_site"] == kPostOffice1);

  // The office confirms; the seal was broken, which the supervisor sees.
  auto rcv = scan_body(item, "RCV", kOffice1, t.next());
  rcv["seal_intact"] = false;
  rcv["issue"] = "envelope_damaged";
  rcv["reason"] = "Phong bì bị ướt và rách";
  record(s, "staff1", rcv, "received");
  custody = s.client.get("/api/v1/items/" + item + "/custody", s.token("staff1"));
  CHECK(custody.json()["custody"]["awaiting_confirmation"] == false);
  CHECK(custody.json()["custody"]["holder"] != "");
  const auto after =
      s.client.get("/api/v1/handoffs/pending?site=" + std::string(kOffice1), s.token("supervisor1")).json();
  CHECK_FALSE(std::any_of(after["pending"].begin(), after["pending"].end(),
                          [&](const json& e) { return e["item_id"] == item; }));
  auto problems = s.client.get("/api/v1/handoffs/problems", s.token("supervisor1"));
  REQUIRE(problems.status == 200);
  CHECK(has_problem(problems.json(), item, "envelope_damaged"));
  // Another district's office does not see it.
  auto other = s.client.get("/api/v1/handoffs/problems", s.token("staff2"));
  REQUIRE(other.status == 200);
  CHECK_FALSE(has_problem(other.json(), item, "envelope_damaged"));

  // An issue code that is not ours is refused, and a seal verdict only goes with a confirmation.
  auto bad = scan_body(out_for_delivery(s, t), "EMI", kPostOffice1, t.next());
  bad["issue"] = "stolen_by_pirates";
  check_error(s.scan("clerk1", bad), 422);
}

TEST_CASE("custody: who held the item when, each step with a proof against a signed checkpoint") {
  ApiSession s(shared_demo_server());
  Timeline t;
  const auto item = out_for_delivery(s, t);
  record(s, "clerk1", scan_body(item, "EMI", kPostOffice1, t.next()), "delivered");
  record(s, "staff1", scan_body(item, "RCV", kOffice1, t.next()), "received");
  auto answer = s.client.get("/api/v1/items/" + item + "/custody", s.token("supervisor1"));
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  const auto c = answer.json();
  REQUIRE(c["periods"].size() == 5);
  CHECK(c["periods"][0]["code"] == "EMA");
  CHECK(c["periods"][0]["site"] == kPostOffice1);
  CHECK(c["periods"][0]["recorded_by"] == "clerk1");
  CHECK(c["periods"][3]["awaiting_confirmation"] == true);
  CHECK(c["periods"][4]["site"] == kOffice1);
  CHECK(c["periods"][4]["to"].is_null());
  CHECK(c["periods"][3]["to"] == c["periods"][4]["from"]);
  REQUIRE(c["checkpoint"].is_object());
  for (const auto& e : c["events"]) {
    REQUIRE(e.contains("proof"));
    CHECK(e["proof"]["tree_size"] == c["checkpoint"]["tree_size"]);
    CHECK(e["proof"]["root_hash"] == c["checkpoint"]["root_hash"]);
  }
}
