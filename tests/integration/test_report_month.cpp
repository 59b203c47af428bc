// A generated month of traffic (November 2026, which has no public holiday) through the real server, and the
// report's day / week / month series checked against figures the test works out from what it sent: legs
// completed and on time per week, failed attempts by reason, transit percentiles for the month, and counts by
// state at the end of each week. Whether a leg is on time is decided by construction (delivered the same
// afternoon, or two working days later), not by the calendar code under test.
#include "itest_common.hpp"

#include "clock.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr long long kMinute = 60LL * 1000;
constexpr long long kHourMs = 60 * kMinute;

long long at(int day, int hour, int minute = 0) {
  char text[40];
  std::snprintf(text, sizeof text, "2026-11-%02dT%02d:%02d:00+07:00", day, hour, minute);
  return *dpost::parse_rfc3339(text);
}

// Weekdays of November 2026 (the 1st is a Sunday).
bool weekday(int day) {
  const int dow = (day - 1) % 7;  // 0 = Sunday
  return dow != 0 && dow != 6;
}
int plus_working_days(int day, int n) {
  while (n > 0) {
    ++day;
    if (weekday(day)) --n;
  }
  return day;
}

// The week bucket (Monday first) a November day falls in, by its first day.
int week_of(int day) {
  if (day == 1) return 1;
  return 2 + ((day - 2) / 7) * 7;
}

double nearest_rank(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Expected {
  int completed = 0, on_time = 0, late = 0;
};

const json* row(const json& on_time, const std::string& site, const std::string& leg) {
  for (const auto& r : on_time) {
    if (r["site"] == site && r["leg"] == leg) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("reports: a generated month, per day, week and month, matches what the test sent") {
  TestServer server({"--demo"});
  ApiSession session(server);
  std::mt19937 random(20261101);

  std::map<int, Expected> dossier_legs;                 // week -> dossier legs completed that week
  std::map<int, Expected> result_legs;                  // week -> result legs
  std::map<int, std::map<std::string, int>> failures;  // week -> reason -> count
  std::vector<double> transit;                          // dossier EMA -> EMI, hours
  std::map<int, int> delivered_on_day;                  // November day -> dossier legs completed
  struct Scan {
    long long at;
    std::string state;
  };
  std::vector<std::vector<Scan>> dossier_scans;  // per dossier item: the states it went through, when
  const std::vector<std::string> reasons{"Người nhận vắng nhà (absent)", "Sai địa chỉ (wrong address)"};

  auto send = [&](const std::string& user, const std::string& item, const char* code, std::string_view site,
                  long long when, json extra = json::object()) {
    auto body = scan_body(item, code, site, dpost::format_rfc3339(when));
    body.update(extra);
    record(session, user, body);
  };

  int made = 0;
  for (int day = 2; day <= 24; ++day) {
    if (!weekday(day)) continue;
    for (int k = 0; k < 2; ++k, ++made) {
      const auto item = create_dossier_item(session, "clerk1", unique_applicant());
      const long long accepted = at(day, 8 + k, static_cast<int>(random() % 50));
      const bool late = random() % 3 == 0;
      // On time: handed to the office the same afternoon. Late: two working days later (the limit is one).
      const int handed_day = late ? plus_working_days(day, 2) : day;
      const long long handed = at(handed_day, 14, static_cast<int>(random() % 50));
      send("clerk1", item, "EMA", kPostOffice1, accepted);
      send("clerk1", item, "EMG", kPostOffice1, accepted + 30 * kMinute);
      send("clerk1", item, "EDG", kPostOffice1, handed - 60 * kMinute);
      send("clerk1", item, "EMI", kPostOffice1, handed);
      const long long received = handed + 20 * kMinute;
      // One in four is still awaiting the office's confirmation at the end of the month.
      const bool confirmed = made % 4 != 3;
      if (confirmed) send("staff1", item, "RCV", kOffice1, received);
      dossier_scans.push_back({{accepted, "accepted"},
                               {accepted + 30 * kMinute, "at_delivery_office"},
                               {handed - 60 * kMinute, "out_for_delivery"},
                               {handed, "delivered"}});
      if (confirmed) dossier_scans.back().push_back({received, "received"});
      auto& week = dossier_legs[week_of(handed_day)];
      ++week.completed;
      ++(late ? week.late : week.on_time);
      ++delivered_on_day[handed_day];
      transit.push_back(static_cast<double>(handed - accepted) / static_cast<double>(kHourMs));

      // Every third confirmed dossier gets its result back by post the next working day, some after a failed
      // attempt (delivered the working day after: still within the one-day limit, counted from RES).
      if (!confirmed || made % 3 != 0) continue;
      const auto dossier_id = session.client.get("/api/v1/items/" + item, session.token("staff1")).json()["dossier"]["id"];
      auto result = session.client.post("/api/v1/dossiers/" + std::to_string(dossier_id.get<long long>()) + "/result",
                                        json::object(), session.token("staff1"));
      REQUIRE(result.status == 201);
      const std::string result_item = result.json()["item_id"];
      const int res_day = plus_working_days(handed_day, 1);
      send("staff1", result_item, "RES", kOffice1, at(res_day, 8));
      send("clerk1", result_item, "EMA", kPostOffice1, at(res_day, 8, 30));
      send("clerk1", result_item, "EMG", kPostOffice1, at(res_day, 9));
      send("clerk1", result_item, "EDG", kPostOffice1, at(res_day, 10));
      int delivered_day = res_day;
      if (random() % 2 == 0) {
        const auto& reason = reasons[random() % reasons.size()];
        send("clerk1", result_item, "EMH", kPostOffice1, at(res_day, 11), {{"reason", reason}, {"action", "redeliver"}});
        ++failures[week_of(res_day)][reason];
        delivered_day = plus_working_days(res_day, 1);
        send("clerk1", result_item, "EDG", kPostOffice1, at(delivered_day, 9));
      }
      send("clerk1", result_item, "EMI", kPostOffice1, at(delivered_day, 10),
           {{"recipient", {{"name", "Người nhận"}, {"id_checked", true}, {"id_document", {{"type", "cccd"}, {"number", "001090000001"}}}}}});
      auto& rweek = result_legs[week_of(delivered_day)];
      ++rweek.completed;
      ++rweek.on_time;
    }
  }
  REQUIRE(made == 34);

  auto get = [&](const std::string& path) {
    auto r = session.client.get(path, session.token("supervisor1"));
    INFO(describe(r));
    REQUIRE(r.status == 200);
    return r.json();
  };

  // Weeks: on-time figures for the office (every leg counts for it) and failed attempts by reason.
  const auto weeks = get("/api/v1/reports/series?group=week&from=2026-11-01&to=2026-11-30");
  CHECK(weeks["group"] == "week");
  REQUIRE(weeks["buckets"].size() == 6);  // 1, 2-8, 9-15, 16-22, 23-29, 30
  const int firsts[] = {1, 2, 9, 16, 23, 30};
  for (std::size_t b = 0; b < 6; ++b) {
    const auto& bucket = weeks["buckets"][b];
    const int first = firsts[b];
    INFO("week from 2026-11-" << first << ": " << bucket.dump());
    CHECK(bucket["from"] == dpost::format_date_vn(at(first, 12)));
    for (const auto& [leg, expected] : {std::pair{"dossier", dossier_legs[first]}, {"result", result_legs[first]}}) {
      const auto* office = row(bucket["on_time"], std::string(kOffice1), leg);
      if (expected.completed == 0) {
        CHECK(office == nullptr);
        continue;
      }
      REQUIRE(office);
      CHECK((*office)["completed"] == expected.completed);
      CHECK((*office)["on_time"] == expected.on_time);
      CHECK((*office)["late"] == expected.late);
      // The post office that accepted (dossier) or delivered (result) each leg: BC-HN01 for all of them.
      const auto* post = row(bucket["on_time"], std::string(kPostOffice1), leg);
      REQUIRE(post);
      CHECK((*post)["completed"] == expected.completed);
    }
    std::map<std::string, int> got;
    for (const auto& f : bucket["failed_attempts"]) got[f["reason"]] = f["count"];
    CHECK(got == failures[first]);
    CHECK(bucket["returns"] == 0);

    // Counts by state at the end of the week: each generated dossier item in the state of its last scan before.
    const long long end = b + 1 < 6 ? at(firsts[b + 1], 0) : at(30, 0) + 24 * kHourMs;
    std::map<std::string, int> states;
    for (const auto& scans : dossier_scans) {
      std::string state;
      for (const auto& s : scans) {
        if (s.at < end) state = s.state;
      }
      if (!state.empty()) ++states[state];
    }
    std::map<std::string, int> reported;
    if (bucket["by_state"].contains("dossier")) {
      for (const auto& [state, count] : bucket["by_state"]["dossier"].items()) reported[state] = count;
    }
    CHECK(reported == states);
  }

  // The month: every leg of the month, transit percentiles as the test computes them (nearest rank).
  const auto month = get("/api/v1/reports/series?group=month&from=2026-11-01&to=2026-11-30");
  REQUIRE(month["buckets"].size() == 1);
  const auto& m = month["buckets"][0];
  int total = 0, total_late = 0;
  for (const auto& [week, e] : dossier_legs) {
    total += e.completed;
    total_late += e.late;
  }
  const auto* office = row(m["on_time"], std::string(kOffice1), "dossier");
  REQUIRE(office);
  CHECK((*office)["completed"] == total);
  CHECK((*office)["late"] == total_late);
  CHECK(m["transit_hours"]["dossier"]["count"] == static_cast<int>(transit.size()));
  CHECK(m["transit_hours"]["dossier"]["p50"].get<double>() == doctest::Approx(nearest_rank(transit, 50)));
  CHECK(m["transit_hours"]["dossier"]["p90"].get<double>() == doctest::Approx(nearest_rank(transit, 90)));
  CHECK(m["transit_hours"]["dossier"]["max"].get<double>() == doctest::Approx(*std::max_element(transit.begin(), transit.end())));
  // The overview over the same period agrees with the month bucket.
  const auto overview = get("/api/v1/reports/overview?from=2026-11-01&to=2026-11-30");
  CHECK(*row(overview["on_time"], std::string(kOffice1), "dossier") == *office);

  // Days: two sample days.
  const auto days = get("/api/v1/reports/series?group=day&from=2026-11-01&to=2026-11-30");
  REQUIRE(days["buckets"].size() == 30);
  for (int day : {3, 17}) {
    const auto* r = row(days["buckets"][day - 1]["on_time"], std::string(kOffice1), "dossier");
    if (delivered_on_day[day] == 0) {
      CHECK(r == nullptr);
    } else {
      REQUIRE(r);
      CHECK((*r)["completed"] == delivered_on_day[day]);
    }
  }

  // CSV of the weeks: one row per week, site and leg; bad grouping refused.
  auto csv = session.client.get("/api/v1/reports/series.csv?group=week&from=2026-11-01&to=2026-11-30",
                                session.token("supervisor1"));
  REQUIRE(csv.status == 200);
  CHECK(contains(csv.body, "2026-11-02,2026-11-08,MC-HN-BD,"));
  check_error(session.client.get("/api/v1/reports/series?group=year", session.token("supervisor1")), 422, "bad_group");
}
