// The journey of design.md section 4 over the real HTTP API: a dossier from the citizen to the office, its
// result back to the citizen, the staff view and the public view after every step.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

struct Step {
  std::string user;
  std::string code;
  std::string_view site;
  std::string state;  // expected state after the step
  json extra = json::object();
};

bool valid_s10(const std::string& id) {
  if (id.size() != 13) return false;
  for (std::size_t i = 2; i < 11; ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return s10_item_id(id.substr(0, 2), static_cast<std::uint32_t>(std::stoul(id.substr(2, 8))), id.substr(11)) == id;
}

// Checks every field the contract names in the staff view and returns the view.
json check_staff_view(ApiSession& session, const std::string& user, const std::string& item_id, const std::string& kind,
                      const std::string& state, const std::vector<Step>& done) {
  auto answer = session.item(user, item_id);
  INFO("GET /api/v1/items/" << item_id << " as " << user << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
  auto view = answer.json();
  CHECK(view["item_id"] == item_id);
  CHECK(view["kind"] == kind);
  CHECK(view["state"] == state);
  CHECK(view["tracking_token"].is_string());
  CHECK(view["dossier"].is_object());
  REQUIRE(view["events"].is_array());
  REQUIRE(view["events"].size() == done.size());
  for (std::size_t i = 0; i < done.size(); ++i) {
    const auto& event = view["events"][i];
    INFO("event " << i << ": " << event.dump());
    CHECK(event["code"] == done[i].code);
    CHECK(event["site"] == done[i].site);
    CHECK(event["recorded_by"] == done[i].user);
    CHECK(event["event_id"].is_string());
    CHECK(event["site_name"].is_string());
    CHECK(event["occurred_at"].is_string());
    CHECK(event["received_at"].is_string());
    CHECK(event["late"] == false);
  }
  return view;
}

// The public view: state, timeline, and none of `secrets` anywhere in the body.
json check_public_view(ApiSession& session, const std::string& item_id, const std::string& kind,
                       const std::string& state, const std::vector<Step>& done,
                       const std::vector<std::string>& secrets) {
  auto answer = session.track(item_id);
  INFO("GET /api/v1/track/" << item_id << " -> " << describe(answer));
  REQUIRE(answer.status == 200);
  for (const auto& secret : secrets) {
    INFO("personal or secret string: " << secret);
    CHECK_FALSE(contains(answer.body, secret));
  }
  auto view = answer.json();
  CHECK(view["item_id"] == item_id);
  CHECK(view["kind"] == kind);
  CHECK(view["state"] == state);
  CHECK(view["state_text"].is_string());
  CHECK_FALSE(view.contains("tracking_token"));
  REQUIRE(view["events"].is_array());
  REQUIRE(view["events"].size() == done.size());
  for (std::size_t i = 0; i < done.size(); ++i) {
    const auto& event = view["events"][i];
    INFO("public event " << i << ": " << event.dump());
    CHECK(event["code"] == done[i].code);
    CHECK(event["site"] == done[i].site);
    CHECK(event["site_name"].is_string());
    CHECK(event["occurred_at"].is_string());
    CHECK(event["received_at"].is_string());
    CHECK(event["text"].is_string());
    CHECK_FALSE(event.contains("recipient"));
    CHECK_FALSE(event.contains("recorded_by"));
  }
  return view;
}

// Runs `steps` on `item_id`, checking the scan answer, the staff view and the public view after each one.
void run_steps(ApiSession& session, Timeline& timeline, const std::string& item_id, const std::string& kind,
               const std::vector<Step>& steps, const std::string& viewer, std::vector<std::string> secrets) {
  std::vector<Step> done;
  for (const auto& step : steps) {
    CAPTURE(step.code);
    CAPTURE(step.user);
    auto scan = scan_body(item_id, step.code, step.site, timeline.next());
    scan.update(step.extra);
    auto answer = record(session, step.user, scan, step.state);
    CHECK(answer["item"]["item_id"] == item_id);
    CHECK(answer["item"]["kind"] == kind);
    CHECK(answer["event"]["code"] == step.code);
    CHECK(answer["event"]["event_id"] == scan["event_id"]);
    done.push_back(step);
    auto staff = check_staff_view(session, viewer, item_id, kind, step.state, done);
    secrets.push_back(staff["tracking_token"].get<std::string>());
    check_public_view(session, item_id, kind, step.state, done, secrets);
  }
}

}  // namespace

TEST_CASE("a dossier goes from the citizen to the office and its result comes back") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const auto applicant = unique_applicant();
  const std::string pickup_name = "Trần Thị Nhận " + applicant.name.substr(applicant.name.size() - 6);

  auto created = session.create_dossier("clerk1", dossier_body(applicant, kOffice1, "both"));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  auto dossier = created.json();
  REQUIRE(dossier["id"].is_number_integer());
  REQUIRE(dossier["items"].size() == 1);
  CHECK(dossier["items"][0]["kind"] == "dossier");
  CHECK(dossier["items"][0]["state"] == "created");
  const std::string dossier_item = dossier["items"][0]["item_id"];
  CHECK(valid_s10(dossier_item));
  CHECK(dossier_item.substr(11) == "VN");

  SUBCASE("staff view of a new item carries the applicant") {
    auto view = check_staff_view(session, "staff1", dossier_item, "dossier", "created", {});
    CHECK(view["dossier"]["applicant"]["name"] == applicant.name);
    check_public_view(session, dossier_item, "dossier", "created", {}, applicant.personal_strings());
  }

  SUBCASE("the full journey") {
    // Sorted at the Cầu Giấy post office on its way: the origin post office sends it on there.
    route_through(session, "clerk1", dossier_item, kPostOffice2);
    std::vector<Step> dossier_steps{
        {"clerk1", "EMA", kPostOffice1, "accepted"},
        {"clerk2", "EDD", kPostOffice2, "at_sorting"},
        {"clerk2", "EDE", kPostOffice2, "left_sorting"},
        {"clerk1", "EMG", kPostOffice1, "at_delivery_office"},
        {"clerk1", "EDG", kPostOffice1, "out_for_delivery"},
        {"clerk1", "EMI", kPostOffice1, "delivered"},
        {"staff1", "RCV", kOffice1, "received"},
    };
    run_steps(session, timeline, dossier_item, "dossier", dossier_steps, "staff1", applicant.personal_strings());

    auto made = session.client.post("/api/v1/dossiers/" + std::to_string(dossier["id"].get<long long>()) + "/result",
                                    json::object(), session.token("staff1"));
    INFO(describe(made));
    REQUIRE(made.status == 201);
    auto result = made.json();
    CHECK(result["kind"] == "result");
    CHECK(result["state"] == "created");
    const std::string result_item = result["item_id"];
    CHECK(valid_s10(result_item));
    CHECK(result_item != dossier_item);
    route_through(session, "clerk1", result_item, kPostOffice2);

    json recipient{{"name", pickup_name},
                   {"id_checked", true},
                   {"relation", "spouse"},
                   {"id_document", {{"type", "cccd"}, {"number", "001090001234"}}},
                   {"authorization", {{"number", "12/UQ"}, {"date", "2026-11-20"}}}};
    std::vector<Step> result_steps{
        {"staff1", "RES", kOffice1, "handed_to_post"},
        {"clerk1", "EMA", kPostOffice1, "accepted"},
        {"clerk2", "EDD", kPostOffice2, "at_sorting"},
        {"clerk2", "EDE", kPostOffice2, "left_sorting"},
        {"clerk1", "EMG", kPostOffice1, "at_delivery_office"},
        {"clerk1", "EDG", kPostOffice1, "out_for_delivery"},
        {"clerk1",
         "EMH",
         kPostOffice1,
         "attempt_failed",
         {{"reason", "Người nhận vắng nhà (absent)"}, {"reason_code", "absent"}, {"action", "redeliver"}}},
        {"clerk1", "EDG", kPostOffice1, "out_for_redelivery"},
        {"clerk1", "EMI", kPostOffice1, "delivered", {{"recipient", recipient}}},
    };
    auto secrets = applicant.personal_strings();
    secrets.push_back(pickup_name);
    run_steps(session, timeline, result_item, "result", result_steps, "staff1", secrets);

    // The staff view keeps who signed for it; the public one (checked above) never does.
    auto staff = session.item("staff1", result_item);
    REQUIRE(staff.status == 200);
    CHECK(contains(staff.body, pickup_name));
    auto view = staff.json();
    CHECK(view["dossier"]["applicant"]["name"] == applicant.name);
    CHECK(view["events"].back()["code"] == "EMI");
    CHECK(view["events"][6]["code"] == "EMH");
    CHECK(contains(view["events"][6].dump(), "absent"));

    // Delivered is final for a result: nothing more is allowed.
    auto after = session.scan("clerk1", scan_body(result_item, "EDG", kPostOffice1, timeline.next()));
    check_error(after, 409, "illegal_transition");
  }
}

TEST_CASE("a dossier with service receive has no item until the office creates the result") {
  ApiSession session(shared_demo_server());
  auto created = session.create_dossier("staff1", dossier_body(unique_applicant(), kOffice1, "receive"));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  auto dossier = created.json();
  CHECK(dossier["items"].is_array());
  CHECK(dossier["items"].empty());

  auto made = session.client.post("/api/v1/dossiers/" + std::to_string(dossier["id"].get<long long>()) + "/result",
                                  json::object(), session.token("staff1"));
  INFO(describe(made));
  REQUIRE(made.status == 201);
  CHECK(made.json()["kind"] == "result");
  CHECK(made.json()["state"] == "created");
}

TEST_CASE("office staff register dossiers for their office") {
  ApiSession session(shared_demo_server());
  auto created = session.create_dossier("staff1", dossier_body(unique_applicant(), kOffice1, "send"));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  CHECK(created.json()["items"].size() == 1);
  CHECK(created.json()["items"][0]["kind"] == "dossier");
}

TEST_CASE("a dossier code is accepted") {
  ApiSession session(shared_demo_server());
  auto body = dossier_body(unique_applicant());
  // {agency id}-{yymmdd}-{sequence}; the sequence is random so that reruns on one database never clash.
  body["dossier_code"] = "000.00.01.H26-261008-" + std::to_string(1000000 + std::rand() % 8999999);
  auto created = session.create_dossier("clerk1", body);
  INFO(describe(created));
  CHECK(created.status == 201);
}

TEST_CASE("a clerk's view of an item never shows the applicant's ID number") {
  ApiSession session(shared_demo_server());
  auto applicant = unique_applicant();
  auto item_id = create_dossier_item(session, "clerk1", applicant);
  auto view = session.item("clerk1", item_id);
  INFO(describe(view));
  REQUIRE(view.status == 200);
  CHECK_FALSE(contains(view.body, applicant.id_number));
}

TEST_CASE("login answers a token and the user's role and site") {
  ApiSession session(shared_demo_server());
  struct Expected {
    std::string username, role, site;
  };
  for (const auto& expected : std::vector<Expected>{{"clerk1", "clerk", "BC-HN01"},
                                                    {"clerk2", "clerk", "BC-HN02"},
                                                    {"staff1", "office_staff", "MC-HN-BD"},
                                                    {"staff2", "office_staff", "MC-HN-CG"},
                                                    {"supervisor1", "supervisor", ""},
                                                    {"admin", "admin", ""}}) {
    CAPTURE(expected.username);
    auto answer = session.client.post("/api/v1/login", json{{"username", expected.username}, {"password", "demo"}});
    INFO(describe(answer));
    REQUIRE(answer.status == 200);
    auto body = answer.json();
    CHECK(body["token"].is_string());
    CHECK_FALSE(body["token"].get<std::string>().empty());
    CHECK(body["user"]["username"] == expected.username);
    CHECK(body["user"]["role"] == expected.role);
    if (!expected.site.empty()) CHECK(body["user"]["site"] == expected.site);
  }
}

TEST_CASE("healthz answers ok") {
  HttpClient client(shared_demo_server().host(), shared_demo_server().port());
  auto answer = client.get("/healthz");
  INFO(describe(answer));
  CHECK(answer.status == 200);
  CHECK(answer.json() == json{{"status", "ok"}});
}
