// Deadlines over the real server: due dates in working days from the office's receipt, leg limits, pauses for a
// supplement, verdicts with their reasons in the supervisor report, and rules frozen with each dossier across a
// restart with another calendar. Every time is fixed in the past (late November / early December 2026) so that
// each verdict asserted here stays true whatever day the suite runs: only completed legs and dues already
// passed are judged, and open ones are checked by their due instant.
#include "itest_common.hpp"

#include "clock.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace dpost::test;
using nlohmann::json;

namespace {

// A dossier from BC-HN01 (Hà Nội, urban: 1 working day per leg) to MC-HN-BD, with `extra` fields.
std::pair<long long, std::string> new_dossier(ApiSession& session, const json& extra) {
  auto body = dossier_body(unique_applicant());
  body.update(extra);
  auto created = session.create_dossier("clerk1", body);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  return {created.json()["id"].get<long long>(), created.json()["items"][0]["item_id"].get<std::string>()};
}

void scan_at(ApiSession& session, const std::string& user, const std::string& item, const std::string& code,
             std::string_view site, const std::string& at, json extra = json::object()) {
  auto body = scan_body(item, code, site, at);
  body.update(extra);
  record(session, user, body);
}

// The dossier leg: accepted, through the delivery office, handed to the office, confirmed there.
std::string shifted(const std::string& at, int minutes) {
  return dpost::format_rfc3339(*dpost::parse_rfc3339(at) + minutes * 60 * 1000);
}

void carry_to_office(ApiSession& session, const std::string& item, const std::string& accepted,
                     const std::string& delivered, const std::string& received) {
  scan_at(session, "clerk1", item, "EMA", kPostOffice1, accepted);
  scan_at(session, "clerk1", item, "EMG", kPostOffice1, shifted(accepted, 1));
  scan_at(session, "clerk1", item, "EDG", kPostOffice1, shifted(delivered, -1));
  scan_at(session, "clerk1", item, "EMI", kPostOffice1, delivered);
  scan_at(session, "staff1", item, "RCV", kOffice1, received);
}

json deadline(ApiSession& session, long long dossier, const std::string& user = "staff1") {
  auto r = session.client.get("/api/v1/dossiers/" + std::to_string(dossier) + "/deadline", session.token(user));
  INFO(describe(r));
  REQUIRE(r.status == 200);
  return r.json();
}

HttpResult clock_action(ApiSession& session, long long dossier, const std::string& action, const json& body,
                        const std::string& user = "staff1") {
  return session.client.post("/api/v1/dossiers/" + std::to_string(dossier) + "/" + action, body, session.token(user));
}

const json* leg(const json& verdict, const std::string& kind) {
  for (const auto& l : verdict["legs"]) {
    if (l["kind"] == kind) return &l;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("deadlines: due dates count working days from the office's receipt, each leg has its limit") {
  ApiSession session(shared_demo_server());

  // Accepted Friday 27/11 16:00, after the 15:00 cut-off: day 0 is Monday 30/11, the 1-day urban limit ends
  // Tuesday 1/12 17:00 (10:00Z); handed over Tuesday 10:00: on time. Received Tuesday 11:00 with 3 working days
  // to process: Wed 2, Thu 3, Fri 4 -> due Friday 4/12 17:00.
  auto [id, item] = new_dossier(session, {{"processing_days", 3}});
  carry_to_office(session, item, "2026-11-27T16:00:00+07:00", "2026-12-01T10:00:00+07:00", "2026-12-01T11:00:00+07:00");
  // The result leaves the office Friday 4/12 16:00 (on the due day: on time); the post's leg counts from Monday
  // 7/12 (after the cut-off) and ends Tuesday 8/12; delivered Saturday 5/12: early.
  auto made = session.client.post("/api/v1/dossiers/" + std::to_string(id) + "/result", json::object(),
                                  session.token("staff1"));
  REQUIRE(made.status == 201);
  const std::string result = made.json()["item_id"];
  scan_at(session, "staff1", result, "RES", kOffice1, "2026-12-04T16:00:00+07:00");
  scan_at(session, "clerk1", result, "EMA", kPostOffice1, "2026-12-04T16:30:00+07:00");
  scan_at(session, "clerk1", result, "EMG", kPostOffice1, "2026-12-04T18:00:00+07:00");
  scan_at(session, "clerk1", result, "EDG", kPostOffice1, "2026-12-05T08:00:00+07:00");
  scan_at(session, "clerk1", result, "EMI", kPostOffice1, "2026-12-05T10:00:00+07:00",
          {{"recipient",
            {{"name", "Người nhận thử"},
             {"id_checked", true},
             {"id_document", {{"type", "cccd"}, {"number", "001090000001"}}}}}});

  const auto d = deadline(session, id);
  INFO(d.dump());
  CHECK(d["received_at"] == "2026-12-01T04:00:00.000Z");
  CHECK(d["timeliness"]["due_at"] == "2026-12-04T10:00:00.000Z");
  CHECK(d["timeliness"]["status"] == "on_time");
  CHECK(d["timeliness"]["completed_at"] == "2026-12-04T09:00:00.000Z");
  CHECK(d["late_parts"].empty());
  REQUIRE(leg(d, "dossier"));
  CHECK((*leg(d, "dossier"))["limit_days"] == 1);
  CHECK((*leg(d, "dossier"))["timeliness"]["due_at"] == "2026-12-01T10:00:00.000Z");
  CHECK((*leg(d, "dossier"))["timeliness"]["status"] == "on_time");
  REQUIRE(leg(d, "result"));
  CHECK((*leg(d, "result"))["timeliness"]["due_at"] == "2026-12-08T10:00:00.000Z");
  CHECK((*leg(d, "result"))["timeliness"]["status"] == "early");
  CHECK(d["rule_set"].get<std::string>().size() == 64);

  // The item and dossier views carry the same verdicts.
  auto view = session.item("staff1", result);
  REQUIRE(view.status == 200);
  CHECK(view.json()["timeliness"]["status"] == "early");
  CHECK(view.json()["dossier"]["deadline"]["timeliness"]["due_at"] == "2026-12-04T10:00:00.000Z");
  auto dossier = session.client.get("/api/v1/dossiers/" + std::to_string(id), session.token("staff1"));
  REQUIRE(dossier.status == 200);
  CHECK(dossier.json()["processing_days"] == 3);
  CHECK(dossier.json()["deadline"]["timeliness"]["status"] == "on_time");
}

TEST_CASE("deadlines: a late leg and late processing are named, and the supervisor report lists why") {
  ApiSession session(shared_demo_server());
  // Accepted Monday 2/11 10:00: the leg ends Tuesday 3/11 17:00; handed over Wednesday 4/11: late since the
  // due instant. Received Wednesday 11:00 with 2 days: due Friday 6/11 17:00, and no result ever left: late.
  auto [id, item] = new_dossier(session, {{"processing_days", 2}, {"dossier_code", "000.00.01.H26-261102-0777"}});
  carry_to_office(session, item, "2026-11-02T10:00:00+07:00", "2026-11-04T10:00:00+07:00", "2026-11-04T11:00:00+07:00");
  const auto d = deadline(session, id);
  INFO(d.dump());
  CHECK((*leg(d, "dossier"))["timeliness"]["status"] == "late");
  CHECK((*leg(d, "dossier"))["timeliness"]["since"] == "2026-11-03T10:00:00.000Z");
  CHECK(d["timeliness"]["status"] == "late");
  CHECK(d["timeliness"]["since"] == "2026-11-06T10:00:00.000Z");
  CHECK(d["late_parts"] == json::array({"dossier_leg", "processing"}));

  // The report names the dossier, its due instant and why; the CSV has the same row.
  auto r = session.client.get("/api/v1/reports/overview?from=2026-11-01&to=2026-11-30", session.token("supervisor1"));
  INFO(describe(r));
  REQUIRE(r.status == 200);
  const auto report = r.json();
  const json* found = nullptr;
  for (const auto& l : report["late_dossiers"]) {
    if (l["dossier_id"] == id) found = &l;
  }
  REQUIRE(found);
  CHECK((*found)["dossier_code"] == "000.00.01.H26-261102-0777");
  CHECK((*found)["due_at"] == "2026-11-06T10:00:00.000Z");
  CHECK((*found)["timeliness"]["provisional"] == false);  // the embedded calendar lists 2026's days off
  CHECK((*found)["late_parts"] == json::array({"dossier_leg", "processing"}));
  CHECK((*found)["office"] == kOffice1);
  auto csv = session.client.get("/api/v1/reports/late.csv?from=2026-11-01&to=2026-11-30", session.token("supervisor1"));
  REQUIRE(csv.status == 200);
  CHECK(contains(csv.body, "000.00.01.H26-261102-0777"));
  CHECK(contains(csv.body, "dossier_leg+processing"));
}

TEST_CASE("deadlines: a supplement request stops the clock until the citizen brings the papers") {
  ApiSession session(shared_demo_server());
  // Received Monday 30/11 14:30 with 3 days: due Thursday 3/12 17:00.
  auto [id, item] = new_dossier(session, {{"processing_days", 3}});
  carry_to_office(session, item, "2026-11-30T09:00:00+07:00", "2026-11-30T14:00:00+07:00", "2026-11-30T14:30:00+07:00");
  CHECK(deadline(session, id)["timeliness"]["due_at"] == "2026-12-03T10:00:00.000Z");

  // Only the dossier's own office stops its clock.
  check_error(clock_action(session, id, "pause", {{"reason", "x"}}, "staff2"), 403);
  check_error(clock_action(session, id, "pause", {{"reason", "x"}}, "clerk1"), 403);
  check_error(clock_action(session, id, "resume", json::object()), 409, "not_paused");
  check_error(clock_action(session, id, "pause", {{"at", "yesterday"}}), 422, "bad_time");
  check_error(clock_action(session, id, "pause", {{"at", "2099-01-01T00:00:00Z"}}), 422, "time_in_future");
  check_error(clock_action(session, id, "pause", {{"at", "1970-01-01T00:00:00Z"}}), 422, "time_too_old");

  // Paused Tuesday 1/12 10:00 (Tuesday was used): no due date while the citizen has it.
  auto paused = clock_action(session, id, "pause",
                             {{"reason", "Thiếu bản sao giấy khai sinh"}, {"at", "2026-12-01T10:00:00+07:00"}});
  INFO(describe(paused));
  REQUIRE(paused.status == 200);
  CHECK(paused.json()["paused"] == true);
  CHECK(paused.json()["timeliness"]["status"] == "paused");
  CHECK(paused.json()["timeliness"]["due_at"].is_null());
  CHECK(paused.json()["pauses"][0]["reason"] == "Thiếu bản sao giấy khai sinh");
  CHECK(paused.json()["pauses"][0]["paused_by"] == "staff1");
  check_error(clock_action(session, id, "pause", json::object()), 409, "already_paused");

  // Resumed Thursday 3/12 16:00, after the cut-off: Friday is day 0 again. Wed, Thu, Fri do not count: Tue 1,
  // Mon 7, Tue 8 -> due Tuesday 8/12 17:00.
  auto resumed = clock_action(session, id, "resume", {{"at", "2026-12-03T16:00:00+07:00"}});
  INFO(describe(resumed));
  REQUIRE(resumed.status == 200);
  CHECK(resumed.json()["paused"] == false);
  CHECK(resumed.json()["timeliness"]["due_at"] == "2026-12-08T10:00:00.000Z");
  CHECK(resumed.json()["pauses"][0]["resumed_by"] == "staff1");

  // A printed due date moves on by the same stop: due_date Thursday 3/12 with the same pause is Tuesday 8/12.
  auto [printed, printed_item] = new_dossier(session, {{"due_date", "2026-12-03"}});
  carry_to_office(session, printed_item, "2026-11-30T09:00:00+07:00", "2026-11-30T14:00:00+07:00",
                  "2026-11-30T14:30:00+07:00");
  CHECK(deadline(session, printed)["timeliness"]["due_at"] == "2026-12-03T10:00:00.000Z");
  REQUIRE(clock_action(session, printed, "pause", {{"at", "2026-12-01T10:00:00+07:00"}}).status == 200);
  REQUIRE(clock_action(session, printed, "resume", {{"at", "2026-12-03T16:00:00+07:00"}}).status == 200);
  CHECK(deadline(session, printed)["timeliness"]["due_at"] == "2026-12-08T10:00:00.000Z");

  // Both ways of giving a deadline at once is refused.
  auto both = session.create_dossier("clerk1", [] {
    auto b = dossier_body(unique_applicant());
    b["due_date"] = "2026-12-31";
    b["processing_days"] = 5;
    return b;
  }());
  check_error(both, 422, "due_date_and_processing_days");
}

TEST_CASE("deadlines: a calendar without this year's days off makes due dates provisional and says so") {
  // The operator forgot to add the current year: only 2000 is listed, so no Tết and no swapped days for now.
  auto dir = std::filesystem::temp_directory_path() / ("dpost-cal-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto calendar = (dir / "calendar.json").string();
  std::ofstream(calendar) << R"({"fixed_holidays":["01-01","04-30","05-01","09-02"],
                                 "years":{"2000":{"holidays":["2000-02-07"]}}})";
  TestServer server({"--demo", "--calendar", calendar});
  std::filesystem::remove_all(dir);
  ApiSession session(server);

  // At start, one warning line per missing year, this year's first.
  const std::string this_year = dpost::format_date_vn(dpost::now_millis()).substr(0, 4);  // the year in Vietnam
  {
    std::ifstream in(server.log_path());
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(contains(log, R"("msg":"calendar_year_missing","year":)" + this_year));
  }
  // While running, the gauge says how far the calendar reaches.
  auto metrics = session.client.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(contains(metrics.body, "# TYPE dpost_calendar_last_year gauge\ndpost_calendar_last_year 2000\n"));

  // A dossier dated in 2026 is judged, and flagged provisional everywhere its verdict shows.
  auto [id, item] = new_dossier(session, {{"processing_days", 3}});
  carry_to_office(session, item, "2026-11-30T09:00:00+07:00", "2026-11-30T14:00:00+07:00", "2026-11-30T14:30:00+07:00");
  const auto verdict = deadline(session, id);
  CHECK(verdict["timeliness"]["due_at"] == "2026-12-03T10:00:00.000Z");
  CHECK(verdict["timeliness"]["provisional"] == true);
  CHECK((*leg(verdict, "dossier"))["timeliness"]["provisional"] == true);
  auto csv = session.client.get("/api/v1/reports/late.csv?from=2026-11-01&to=2026-12-31", session.token("supervisor1"));
  REQUIRE(csv.status == 200);
  CHECK(contains(csv.body.substr(0, csv.body.find('\n')), ",due_provisional"));
}

TEST_CASE("deadlines: a calendar whose days off for this year are only estimated says so at start") {
  const std::string this_year = dpost::format_date_vn(dpost::now_millis()).substr(0, 4);  // the year in Vietnam
  auto dir = std::filesystem::temp_directory_path() / ("dpost-cal-est-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto calendar = (dir / "calendar.json").string();
  std::ofstream(calendar) << R"({"fixed_holidays":["01-01"],"years":{")" + this_year +
                                 R"(":{"provisional":true,"holidays":[]}}})";
  TestServer server({"--demo", "--calendar", calendar});
  std::filesystem::remove_all(dir);
  ApiSession session(server);
  REQUIRE(session.client.get("/healthz").status == 200);

  std::ifstream in(server.log_path());
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contains(log, R"("msg":"calendar_year_estimated","year":)" + this_year));
  CHECK_FALSE(contains(log, R"("msg":"calendar_year_missing","year":)" + this_year));
  // An estimated year is not a published one: the gauge still points before it.
  auto metrics = session.client.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(contains(metrics.body, "\ndpost_calendar_last_year 0\n"));
}

TEST_CASE("deadlines: a dossier keeps the rules it was received under when the calendar changes") {
  TestServer server({"--demo"});
  ApiSession session(server);
  // Received Monday 30/11 14:30 with 3 days under the default calendar: due Thursday 3/12.
  auto [old_id, old_item] = new_dossier(session, {{"processing_days", 3}});
  carry_to_office(session, old_item, "2026-11-30T09:00:00+07:00", "2026-11-30T14:00:00+07:00",
                  "2026-11-30T14:30:00+07:00");
  const auto before = deadline(session, old_id);
  CHECK(before["timeliness"]["due_at"] == "2026-12-03T10:00:00.000Z");

  // The province declares Tuesday 1/12 a day off, and legs in town now take 2 days.
  const auto calendar = (server.dir() / "calendar.json").string();
  const auto limits = (server.dir() / "limits.json").string();
  std::ofstream(calendar) << R"({"fixed_holidays":["01-01","04-30","05-01","09-02"],
                                 "years":{"2026":{"holidays":["2026-12-01"]}}})";
  std::ofstream(limits) << R"({"default":{"urban":2,"rural":3,"remote":4}})";
  server.restart({"--calendar", calendar, "--leg-limits", limits});
  ApiSession after(server);

  const auto still = deadline(after, old_id);
  CHECK(still["timeliness"]["due_at"] == "2026-12-03T10:00:00.000Z");
  CHECK((*leg(still, "dossier"))["limit_days"] == 1);
  CHECK(still["rule_set"] == before["rule_set"]);

  // A dossier received now is judged by the new rules: Wed 2, Thu 3, Fri 4 -> Friday 4/12; its leg has 2 days.
  auto [new_id, new_item] = new_dossier(after, {{"processing_days", 3}});
  carry_to_office(after, new_item, "2026-11-30T09:00:00+07:00", "2026-11-30T14:00:00+07:00",
                  "2026-11-30T14:30:00+07:00");
  const auto fresh = deadline(after, new_id);
  CHECK(fresh["timeliness"]["due_at"] == "2026-12-04T10:00:00.000Z");
  CHECK((*leg(fresh, "dossier"))["limit_days"] == 2);
  CHECK(fresh["rule_set"] != before["rule_set"]);

  // A calendar with a typo does not start the server, and says where the typo is.
  const auto bad = (server.dir() / "bad.json").string();
  std::ofstream(bad) << R"({"cutof":"15:00"})";
  server.stop();
  const auto log = (server.dir() / "bad.log").string();
  const int rc =
      run_server_tool({"serve", "--db", server.db_path(), "--listen", "127.0.0.1:0", "--calendar", bad}, log);
  CHECK(rc != 0);
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contains(text, "unknown key \"cutof\""));
}
