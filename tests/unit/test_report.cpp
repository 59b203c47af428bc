// Supervisor reports: every figure of a small hand-made data set, worked out in the comments.
#include "report.hpp"

#include <doctest/doctest.h>

using namespace dpost;

namespace {

constexpr UnixMillis kHour = 60LL * 60 * 1000;
const UnixMillis kStart = *parse_rfc3339("2026-11-02T08:00:00+07:00");  // a Monday morning

ReportItem item(std::string id, ItemKind kind, ItemState state, std::vector<ReportEvent> events,
                std::optional<std::string> due = std::nullopt) {
  ReportItem i;
  i.item_id = std::move(id);
  i.kind = kind;
  i.state = state;
  i.office = "MC-HN-BD";
  i.due_date = std::move(due);
  i.created_at = events.empty() ? kStart : events.front().occurred_at - kHour;
  i.events = std::move(events);
  return i;
}

ReportEvent ev(EventCode code, const char* site, double hours, std::string reason = "") {
  return {code, site, kStart + static_cast<UnixMillis>(hours * kHour), std::move(reason), std::nullopt, std::nullopt};
}

ReportEvent coded(double hours, FailureReason code, std::string note = "") {
  auto e = ev(EventCode::EMH, "BC-HN01", hours, std::move(note));
  e.reason_code = code;
  return e;
}

ReportEvent failed(double hours, FailureReason code, FailureAction action) {
  auto e = coded(hours, code);
  e.action = action;
  return e;
}

}  // namespace

TEST_CASE("report: a result waiting after a failed attempt says why and whether its return is due") {
  using enum EventCode;
  using R = FailureReason;
  using A = FailureAction;
  // kStart is Monday 2026-11-02 08:00: hour 96 is Friday, 168 the next Monday, 192 the next Tuesday.
  const auto out = [](std::vector<ReportEvent> tail) {
    std::vector<ReportEvent> e{ev(RES, "MC-HN-BD", 0), ev(EMA, "BC-HN01", 1), ev(EMG, "BC-HN01", 2),
                               ev(EDG, "BC-HN01", 95)};
    e.insert(e.end(), tail.begin(), tail.end());
    return e;
  };
  auto held = item("EK000000011VN", ItemKind::result, ItemState::attempt_failed,
                   out({failed(96, R::absent, A::hold_at_post_office)}));
  auto refused = item("EK000000025VN", ItemKind::result, ItemState::attempt_failed,
                      out({failed(96, R::refused, A::return_to_sender)}));
  // Friday then Monday: 1 working day apart, one more attempt is due; Friday then Tuesday: 2, the return is.
  auto too_close = item("EK000000039VN", ItemKind::result, ItemState::attempts_exhausted,
                        out({failed(96, R::absent, A::redeliver), ev(EDG, "BC-HN01", 167),
                             failed(168, R::absent, A::hold_at_post_office)}));
  auto far_apart = item(
      "EK000000042VN", ItemKind::result, ItemState::attempts_exhausted,
      out({failed(96, R::absent, A::redeliver), ev(EDG, "BC-HN01", 191), failed(192, R::moved, A::return_to_sender)}));
  // The same dates under a calendar frozen with its dossier that made that Monday a day off: 1 working day.
  auto frozen = far_apart;
  frozen.item_id = "EK000000056VN";
  frozen.calendar = std::make_shared<const WorkingCalendar>(
      WorkingCalendar::parse(R"({"fixed_holidays":[],"years":{"2026":{"holidays":["2026-11-09"]}}})"));
  // An older attempt without codes still gets a next step.
  auto uncoded = item("EK000000060VN", ItemKind::result, ItemState::attempt_failed, out({ev(EMH, "BC-HN01", 96)}));
  const auto now = kStart + 300 * kHour;
  const auto report =
      build_report({held, refused, too_close, far_apart, frozen, uncoded}, kStart, now, now, ReportLimits::defaults());
  REQUIRE(report.waiting.size() == 6);
  const auto row = [&](const char* id) {
    for (const auto& w : report.waiting) {
      if (w.item_id == id) return w;
    }
    FAIL("not waiting: " << id);
    return WaitingItem{};
  };
  CHECK(row("EK000000011VN").failure_reason == R::absent);
  CHECK(row("EK000000011VN").failure_action == A::hold_at_post_office);
  CHECK(row("EK000000011VN").next_step == NextStep::attempt_again);
  CHECK(row("EK000000025VN").next_step == NextStep::return_to_office);
  CHECK(row("EK000000039VN").failure_action == A::hold_at_post_office);  // the last attempt's
  CHECK(row("EK000000039VN").next_step == NextStep::attempt_again);
  CHECK(row("EK000000042VN").failure_reason == R::moved);
  CHECK(row("EK000000042VN").next_step == NextStep::return_to_office);
  CHECK(row("EK000000056VN").next_step == NextStep::attempt_again);
  CHECK_FALSE(row("EK000000060VN").failure_reason);
  CHECK_FALSE(row("EK000000060VN").failure_action);
  CHECK(row("EK000000060VN").next_step == NextStep::attempt_again);
  CHECK(to_string(NextStep::return_to_office) == "return_to_office");

  // Nothing of this on an item that waits for another reason.
  const auto plain =
      build_report({item("EH000000031VN", ItemKind::dossier, ItemState::accepted, {ev(EMA, "BC-HN01", 0)})}, kStart,
                   now, now, ReportLimits::defaults());
  REQUIRE(plain.waiting.size() == 1);
  CHECK_FALSE(plain.waiting[0].next_step);
}

TEST_CASE("report: a coded reason groups its failed attempts whatever note came with it") {
  using enum EventCode;
  const auto start = [](double h) {
    return std::vector<ReportEvent>{ev(RES, "MC-HN-BD", h), ev(EMA, "BC-HN01", h + 1), ev(EMG, "BC-HN01", h + 2),
                                    ev(EDG, "BC-HN01", h + 3)};
  };
  auto a = start(0);
  a.push_back(coded(4, FailureReason::absent, "Đã để giấy mời"));
  auto b = start(0);
  b.push_back(coded(5, FailureReason::absent, "Gọi điện không nghe máy"));
  b.push_back(ev(EDG, "BC-HN01", 30));
  b.push_back(coded(31, FailureReason::absent));
  auto c = start(0);
  c.push_back(coded(6, FailureReason::other, "Chó dữ trước cổng"));  // "other": the note is the reason
  auto d = start(0);
  d.push_back(ev(EMH, "BC-HN01", 7, "Chó dữ trước cổng "));  // free text only, as before codes existed
  auto e = start(0);
  e.push_back(coded(8, FailureReason::refused));
  const std::vector<ReportItem> items{item("EK000000011VN", ItemKind::result, ItemState::attempt_failed, a),
                                      item("EK000000025VN", ItemKind::result, ItemState::attempt_failed, b),
                                      item("EK000000039VN", ItemKind::result, ItemState::attempt_failed, c),
                                      item("EK000000042VN", ItemKind::result, ItemState::attempt_failed, d),
                                      item("EK000000056VN", ItemKind::result, ItemState::attempt_failed, e)};
  const auto report = build_report(items, kStart, kStart + 100 * kHour, kStart + 100 * kHour, ReportLimits::defaults());
  REQUIRE(report.failed_attempts.size() == 3);
  CHECK(report.failed_attempts[0] == FailedAttempts{FailureReason::absent, "Người nhận vắng nhà", 3});
  CHECK(report.failed_attempts[1] == FailedAttempts{std::nullopt, "Chó dữ trước cổng", 2});
  CHECK(report.failed_attempts[2] == FailedAttempts{FailureReason::refused, "Người nhận từ chối nhận", 1});
}

TEST_CASE("report: counts by state, on-time legs per site, transit percentiles, failed attempts, returns") {
  using enum EventCode;
  std::vector<ReportItem> items{
      // Dossier A: accepted, delivered to the office 20 h later (on time, limit 48 h), received.
      item("EH000000014VN", ItemKind::dossier, ItemState::received,
           {ev(EMA, "BC-HN01", 0), ev(EMG, "BC-HN01", 10), ev(EDG, "BC-HN01", 18), ev(EMI, "BC-HN01", 20),
            ev(RCV, "MC-HN-BD", 21)}),
      // Dossier B: delivered 60 h after acceptance: late.
      item("EH000000028VN", ItemKind::dossier, ItemState::delivered,
           {ev(EMA, "BC-HN01", 1), ev(EMG, "BC-HN01", 40), ev(EDG, "BC-HN01", 55), ev(EMI, "BC-HN01", 61)}),
      // Result C: handed over, failed once ("Vắng nhà"), delivered on 2026-11-04, due 2026-11-06: on time.
      item("EK000000011VN", ItemKind::result, ItemState::delivered,
           {ev(RES, "MC-HN-BD", 2), ev(EMA, "BC-HN01", 3), ev(EMG, "BC-HN01", 4), ev(EDG, "BC-HN01", 5),
            ev(EMH, "BC-HN01", 6, "Vắng nhà"), ev(EDG, "BC-HN01", 50), ev(EMI, "BC-HN01", 52)},
           "2026-11-06"),
      // Result D: two failed attempts ("Vắng nhà", "Sai địa chỉ "), returned to the office.
      item("EK000000025VN", ItemKind::result, ItemState::returned,
           {ev(RES, "MC-HN-BD", 2), ev(EMA, "BC-HN01", 3), ev(EMG, "BC-HN01", 4), ev(EDG, "BC-HN01", 5),
            ev(EMH, "BC-HN01", 6, "Vắng nhà"), ev(EDG, "BC-HN01", 30), ev(EMH, "BC-HN01", 31, "Sai địa chỉ "),
            ev(RTS, "BC-HN01", 32), ev(RCV, "MC-HN-BD", 40)}),
      // Dossier E: accepted, still at the post office after 100 h (limit 24 h for "accepted").
      item("EH000000031VN", ItemKind::dossier, ItemState::accepted, {ev(EMA, "BC-HN01", 0)}),
  };
  const auto now = kStart + 100 * kHour;
  const auto report = build_report(items, kStart - 24 * kHour, kStart + 200 * kHour, now, ReportLimits::defaults());

  CHECK(report.by_state.at("dossier").at("received") == 1);
  CHECK(report.by_state.at("dossier").at("delivered") == 1);
  CHECK(report.by_state.at("dossier").at("accepted") == 1);
  CHECK(report.by_state.at("result").at("delivered") == 1);
  CHECK(report.by_state.at("result").at("returned") == 1);

  // On time per site and leg: the post office BC-HN01 and the office both see dossier A on time, B late; result
  // C on time. The returned result D was never delivered: no completed leg.
  REQUIRE(report.on_time.size() == 4);
  auto find = [&](const char* site, const char* leg) {
    for (const auto& o : report.on_time) {
      if (o.site == site && o.leg == leg) return o;
    }
    FAIL("no row for " << site << " " << leg);
    return OnTime{};
  };
  CHECK(find("BC-HN01", "dossier").completed == 2);
  CHECK(find("BC-HN01", "dossier").on_time == 1);
  CHECK(find("BC-HN01", "dossier").late == 1);
  CHECK(find("MC-HN-BD", "dossier").on_time == 1);
  CHECK(find("BC-HN01", "result").on_time == 1);
  CHECK(find("MC-HN-BD", "result").late == 0);

  // Transit from EMA to EMI: dossiers 20 h and 60 h; result C 49 h.
  CHECK(report.transit_hours.at("dossier").count == 2);
  CHECK(report.transit_hours.at("dossier").p50 == doctest::Approx(20));
  CHECK(report.transit_hours.at("dossier").p90 == doctest::Approx(60));
  CHECK(report.transit_hours.at("dossier").max == doctest::Approx(60));
  CHECK(report.transit_hours.at("result").p50 == doctest::Approx(49));

  // Failed attempts by reason, the most frequent first; trailing spaces do not split a reason.
  REQUIRE(report.failed_attempts.size() == 2);
  CHECK(report.failed_attempts[0] == FailedAttempts{std::nullopt, "Vắng nhà", 2});
  CHECK(report.failed_attempts[1] == FailedAttempts{std::nullopt, "Sai địa chỉ", 1});
  CHECK(report.returns == 1);

  // Waiting too long as of `now`: E has been "accepted" for 100 h (limit 24); B waits for the office's
  // confirmation since hour 61, i.e. 39 h (limit 4 h). E is further over its limit, so it comes first.
  REQUIRE(report.waiting.size() == 2);
  CHECK(report.waiting[0].item_id == "EH000000031VN");
  CHECK(report.waiting[0].waiting_hours == 100);
  CHECK(report.waiting[0].limit_hours == 24);
  CHECK(report.waiting[0].site == "BC-HN01");
  CHECK(report.waiting[1].item_id == "EH000000028VN");
  CHECK(report.waiting[1].limit_hours == 4);
}

TEST_CASE("report: the period bounds legs and attempts, a result past its due date is flagged first") {
  using enum EventCode;
  std::vector<ReportItem> items{
      item("EK000000039VN", ItemKind::result, ItemState::out_for_delivery,
           {ev(RES, "MC-HN-BD", 0), ev(EMA, "BC-HN01", 1), ev(EMG, "BC-HN01", 2), ev(EDG, "BC-HN01", 99)},
           "2026-11-03"),
      item("EH000000045VN", ItemKind::dossier, ItemState::received,
           {ev(EMA, "BC-HN01", 0), ev(EMI, "BC-HN01", 5), ev(RCV, "MC-HN-BD", 6)}),
  };
  const auto now = kStart + 100 * kHour;  // 2026-11-06, after the due date
  // A period that starts after the dossier was delivered: no completed leg, no transit time.
  const auto report = build_report(items, kStart + 10 * kHour, now, now, ReportLimits::defaults());
  CHECK(report.on_time.empty());
  CHECK(report.transit_hours.empty());
  REQUIRE(report.waiting.size() == 1);
  CHECK(report.waiting[0].item_id == "EK000000039VN");
  CHECK(report.waiting[0].past_due);
  CHECK(report.waiting[0].waiting_hours == 1);  // out for delivery for 1 h only: listed for the due date
}

TEST_CASE("report: percentiles by nearest rank") {
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({7}, 90) == 7);
  const std::vector<double> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(percentile(ten, 50) == 5);
  CHECK(percentile(ten, 90) == 9);
  CHECK(percentile(ten, 100) == 10);
  CHECK(percentile(ten, 0) == 1);
}

TEST_CASE("report: CSV fields are quoted when needed and never run as spreadsheet formulas") {
  CHECK(csv_field("EH000000014VN") == "EH000000014VN");
  CHECK(csv_field("Bưu cục Ba Đình, Hà Nội") == "\"Bưu cục Ba Đình, Hà Nội\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(csv_field("-5") == "'-5");
  CHECK(csv_field("a\nb") == "\"a\nb\"");
}

TEST_CASE("report: a period cut into days, ISO weeks and months in Vietnam time") {
  const auto from = *parse_rfc3339("2026-11-01T00:00:00+07:00");  // a Sunday
  const auto to = *parse_rfc3339("2026-12-03T00:00:00+07:00");
  auto dates = [](const std::vector<Bucket>& b) {
    std::vector<std::string> out;
    for (const auto& x : b) out.push_back(format_date_vn(x.from) + ".." + format_date_vn(x.to - 1));
    return out;
  };
  CHECK(dates(split_period(from, to, Grouping::week)) ==
        std::vector<std::string>{"2026-11-01..2026-11-01", "2026-11-02..2026-11-08", "2026-11-09..2026-11-15",
                                 "2026-11-16..2026-11-22", "2026-11-23..2026-11-29", "2026-11-30..2026-12-02"});
  CHECK(dates(split_period(from, to, Grouping::month)) ==
        std::vector<std::string>{"2026-11-01..2026-11-30", "2026-12-01..2026-12-02"});
  const auto days = split_period(from, to, Grouping::day);
  CHECK(days.size() == 32);
  CHECK(days.front().to - days.front().from == 24 * kHour);
  CHECK(days.back().to == to);
  CHECK(split_period(to, to, Grouping::day).empty());
  CHECK_FALSE(parse_grouping("year"));
}

TEST_CASE("report: counts by state at a moment replay each item's events before it") {
  const std::vector<ReportItem> items{
      item("A", ItemKind::dossier, ItemState::received,
           {ev(EventCode::EMA, "BC-HN01", 1), ev(EventCode::EMG, "BC-HN01", 2), ev(EventCode::EDG, "BC-HN01", 3),
            ev(EventCode::EMI, "BC-HN01", 5), ev(EventCode::RCV, "MC-HN-BD", 6)}),
      item("B", ItemKind::dossier, ItemState::accepted, {ev(EventCode::EMA, "BC-HN01", 10)}),
  };
  auto at = [&](double hours) { return states_at(items, kStart + static_cast<UnixMillis>(hours * kHour)); };
  // item() above creates each item an hour before its first event.
  CHECK(at(0.5)["dossier"]["created"] == 1);
  CHECK(at(0.5)["dossier"].size() == 1);
  CHECK(at(5.5)["dossier"]["delivered"] == 1);
  CHECK(at(5.5)["dossier"].size() == 1);  // B is created an hour before its EMA at 10 h
  CHECK(at(11)["dossier"]["received"] == 1);
  CHECK(at(11)["dossier"]["accepted"] == 1);
}
