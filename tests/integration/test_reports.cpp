// Supervisor reports over the real server: generated traffic counted independently by the test, the waiting
// list (a late item and one past its due date), CSV exports, and who may read which site's report.
#include "itest_common.hpp"

#include "clock.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace dpost::test;
using nlohmann::json;

namespace {

json overview(ApiSession& session, const std::string& user, const std::string& query = "") {
  auto r = session.client.get("/api/v1/reports/overview" + query, session.token(user));
  INFO(describe(r));
  REQUIRE(r.status == 200);
  return r.json();
}

int count_of(const json& report, const std::string& kind, const std::string& state) {
  const auto& by = report["by_state"];
  if (!by.contains(kind) || !by[kind].contains(state)) return 0;
  return by[kind][state].get<int>();
}

std::string iso_hours_ago(int hours) {
  return dpost::format_rfc3339(dpost::now_millis() - static_cast<dpost::UnixMillis>(hours) * 60 * 60 * 1000);
}

}  // namespace

TEST_CASE("reports: generated traffic is counted as the test counted it") {
  TestServer server({"--demo"});
  ApiSession session(server);
  const auto before = overview(session, "supervisor1");

  // 30 dossiers to MC-HN-BD, each driven a random number of steps along EMA EMG EDG EMI RCV; failed attempts
  // on a few results with known reasons.
  std::mt19937 random(20261206);
  std::map<std::string, int> states;  // what the test did
  int failed_absent = 0;
  const std::vector<std::pair<std::string, std::string>> steps{{"EMA", "accepted"},
                                                               {"EMG", "at_delivery_office"},
                                                               {"EDG", "out_for_delivery"},
                                                               {"EMI", "delivered"},
                                                               {"RCV", "received"}};
  for (int n = 0; n < 30; ++n) {
    Timeline timeline(std::chrono::minutes(600));
    const auto item = create_dossier_item(session, "clerk1", unique_applicant());
    const int taken = static_cast<int>(random() % (steps.size() + 1));
    std::string state = "created";
    for (int s = 0; s < taken; ++s) {
      const bool office = steps[s].first == "RCV";
      record(session, office ? "staff1" : "clerk1",
             scan_body(item, steps[s].first, office ? kOffice1 : kPostOffice1, timeline.next()), steps[s].second);
      state = steps[s].second;
    }
    ++states["dossier/" + state];
  }
  // Four results out for delivery; two fail with the free text "Vắng nhà", one with the code "moved" and a note.
  for (int n = 0; n < 4; ++n) {
    Timeline timeline(std::chrono::minutes(600));
    const auto result = counter_result_item(session, dossier_body(unique_applicant(), kOffice1, "receive"));
    record(session, "staff1", scan_body(result, "RES", kOffice1, timeline.next()));
    for (const char* code : {"EMA", "EMG", "EDG"}) {
      record(session, "clerk1", scan_body(result, code, kPostOffice1, timeline.next()));
    }
    if (n < 2) {
      auto failed = scan_body(result, "EMH", kPostOffice1, timeline.next());
      failed["reason"] = "Vắng nhà (báo cáo)";
      failed["action"] = "redeliver";
      record(session, "clerk1", failed, "attempt_failed");
      ++failed_absent;
      ++states["result/attempt_failed"];
    } else if (n == 2) {
      auto failed = scan_body(result, "EMH", kPostOffice1, timeline.next());
      failed["reason_code"] = "moved";
      failed["reason"] = "Hàng xóm nói đã chuyển vào Nam";  // a note: the code, not the note, is the reason
      failed["action"] = "return_to_sender";
      record(session, "clerk1", failed, "attempt_failed");
      ++states["result/attempt_failed"];
    } else {
      ++states["result/out_for_delivery"];
    }
  }

  const auto after = overview(session, "supervisor1");
  int checked = 0;
  for (const auto& [key, count] : states) {
    const auto kind = key.substr(0, key.find('/'));
    const auto state = key.substr(key.find('/') + 1);
    INFO(key);
    CHECK(count_of(after, kind, state) - count_of(before, kind, state) == count);
    ++checked;
  }
  CHECK(checked >= 4);
  auto moved = [](const json& report) {
    for (const auto& f : report["failed_attempts"]) {
      CHECK(f["reason"] != "Hàng xóm nói đã chuyển vào Nam");
      if (f["reason_code"] == "moved") {
        CHECK(f["reason"] == "Người nhận đã chuyển đi");
        CHECK(f["reason_text_en"].is_string());
        return f["count"].get<int>();
      }
    }
    return 0;
  };
  CHECK(moved(after) - moved(before) == 1);
  int reported_absent = 0;
  for (const auto& f : after["failed_attempts"]) {
    if (f["reason"] == "Vắng nhà (báo cáo)") reported_absent = f["count"].get<int>();
  }
  CHECK(reported_absent == failed_absent);
  // Every dossier the test delivered to the office (EMI) is a completed dossier leg of BC-HN01, on time (the
  // whole journey took minutes).
  int delivered = states["dossier/delivered"] + states["dossier/received"];
  auto completed = [](const json& report) {
    for (const auto& o : report["on_time"]) {
      if (o["site"] == "BC-HN01" && o["leg"] == "dossier")
        return std::pair{o["completed"].get<int>(), o["on_time"].get<int>()};
    }
    return std::pair{0, 0};
  };
  CHECK(completed(after).first - completed(before).first == delivered);
  CHECK(completed(after).second - completed(before).second == delivered);
  MESSAGE("reports: 33 generated items, " << checked << " state counts and " << failed_absent
                                          << " failed attempts matched the test's own counts");
}

TEST_CASE("reports: the waiting list shows what waits too long and what is past its due date, also as CSV") {
  ApiSession session(shared_demo_server());
  // Accepted 30 hours ago and not moved since: over the 24 h limit for "accepted".
  const auto stuck = create_dossier_item(session, "clerk1", unique_applicant());
  record(session, "clerk1", scan_body(stuck, "EMA", kPostOffice1, iso_hours_ago(30)));
  // A result due yesterday, handed to the post an hour ago: listed for its due date.
  auto body = dossier_body(unique_applicant(), kOffice1, "receive");
  body["due_date"] = dpost::format_date_vn(dpost::now_millis() - 24LL * 60 * 60 * 1000);
  const auto overdue = counter_result_item(session, body);
  record(session, "staff1", scan_body(overdue, "RES", kOffice1, iso_hours_ago(1)));

  const auto report = overview(session, "supervisor1");
  const json* stuck_row = nullptr;
  const json* overdue_row = nullptr;
  for (const auto& w : report["waiting"]) {
    if (w["item_id"] == stuck) stuck_row = &w;
    if (w["item_id"] == overdue) overdue_row = &w;
  }
  REQUIRE(stuck_row);
  CHECK((*stuck_row)["state"] == "accepted");
  CHECK((*stuck_row)["waiting_hours"].get<int>() >= 29);
  CHECK((*stuck_row)["limit_hours"] == 24);
  CHECK((*stuck_row)["site_name"] == "Bưu cục Ba Đình");
  REQUIRE(overdue_row);
  CHECK((*overdue_row)["past_due"] == true);
  // Nothing personal in a report.
  CHECK_FALSE(contains(report.dump(), "Nguyễn Văn Q"));

  auto csv = session.client.get("/api/v1/reports/waiting.csv", session.token("supervisor1"));
  REQUIRE(csv.status == 200);
  CHECK(contains(csv.header("content-type"), "text/csv"));
  CHECK(contains(csv.header("content-disposition"), "attachment"));
  CHECK(csv.body.rfind("\xEF\xBB\xBFitem_id,kind,state", 0) == 0);
  CHECK(contains(csv.body, stuck + ",dossier,accepted,"));
  CHECK(contains(csv.body, overdue + ",result,handed_to_post,"));
  CHECK(contains(csv.body, "\r\n"));
  auto on_time = session.client.get("/api/v1/reports/on-time.csv", session.token("supervisor1"));
  REQUIRE(on_time.status == 200);
  CHECK(contains(on_time.body, "site,site_name,leg,completed,on_time,late,rate_percent"));
}

TEST_CASE("reports: a site's report only for its own staff and supervisors, bad periods refused") {
  ApiSession session(shared_demo_server());
  // Clerk 2 (Cầu Giấy) may not read Ba Đình; the admin reads no dossier figures; supervisors their scope.
  check_error(session.client.get("/api/v1/reports/overview?site=BC-HN01", session.token("clerk2")), 403, "forbidden");
  check_error(session.client.get("/api/v1/reports/waiting.csv?site=MC-HN-BD", session.token("staff2")), 403,
              "forbidden");
  check_error(session.client.get("/api/v1/reports/overview", session.token("admin")), 403, "forbidden");
  check_error(session.client.get("/api/v1/reports/overview"), 401);
  CHECK(overview(session, "clerk1")["sites"] == json::array({"BC-HN01"}));
  CHECK(overview(session, "supervisor1", "?site=BC-HN01")["sites"] == json::array({"BC-HN01"}));
  check_error(session.client.get("/api/v1/reports/overview?site=BC-HN02", session.token("supervisor1")), 403);

  check_error(session.client.get("/api/v1/reports/overview?from=2026-13-01", session.token("clerk1")), 422, "bad_date");
  check_error(session.client.get("/api/v1/reports/overview?from=2026-12-05&to=2026-12-01", session.token("clerk1")),
              422, "bad_period");
  check_error(session.client.get("/api/v1/reports/overview?from=2024-01-01&to=2026-01-01", session.token("clerk1")),
              422, "bad_period");
  const auto fixed = overview(session, "clerk1", "?from=2026-11-01&to=2026-11-30");
  CHECK(fixed["from"] == "2026-11-01");
  CHECK(fixed["to"] == "2026-11-30");
}
