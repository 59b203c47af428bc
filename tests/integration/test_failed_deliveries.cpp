// Failed deliveries and returns (issue 7) over the real server: an attempt needs its action, a return needs a
// refusal or attempts two working days apart, the citizen hears of the return, the office confirms it got the
// result back, and a result is handed over only against an ID check (and an authorization for someone else).
#include "itest_common.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kHourMs = 60LL * 60 * 1000;
constexpr std::int64_t kVietnamOffsetMs = 7 * kHourMs;

// Vietnam calendar days of a past week: day(0) is a Friday at least three weeks ago, so every time below is in
// the past whatever the date the tests run on. at(k, h) is hour h (Vietnam time) of the k-th day after it.
class PastWeek {
 public:
  PastWeek() {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::int64_t day = (now_ms + kVietnamOffsetMs) / kDayMs - 21;
    const std::int64_t weekday = (day + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday, 5 = Friday
    friday_ = day - (weekday - 5 + 7) % 7;
  }
  std::string at(int days_after_friday, int hour, int minute = 0) const {
    const std::int64_t ms =
        (friday_ + days_after_friday) * kDayMs + hour * kHourMs + minute * 60'000LL - kVietnamOffsetMs;
    return rfc3339_at(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
  }

 private:
  std::int64_t friday_ = 0;
};

constexpr int kFriday = 0;
constexpr int kMonday = 3;
constexpr int kTuesday = 4;

json failed_attempt(const std::string& item, const std::string& when, const std::string& reason_code,
                    const std::string& action = "redeliver") {
  auto scan = scan_body(item, "EMH", kPostOffice1, when);
  scan["reason_code"] = reason_code;
  scan["action"] = action;
  return scan;
}

// A new result of a "receive" dossier of MC-HN-BD, brought out for its first delivery on the Friday morning.
std::string result_out_for_delivery(ApiSession& session, const PastWeek& week,
                                    const TestApplicant& applicant = unique_applicant()) {
  const auto item = counter_result_item(session, dossier_body(applicant, kOffice1, "receive"));
  record(session, "staff1", scan_body(item, "RES", kOffice1, week.at(kFriday, 7)), "handed_to_post");
  record(session, "clerk1", scan_body(item, "EMA", kPostOffice1, week.at(kFriday, 7, 30)), "accepted");
  record(session, "clerk1", scan_body(item, "EMG", kPostOffice1, week.at(kFriday, 8)), "at_delivery_office");
  record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kFriday, 9)), "out_for_delivery");
  return item;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The SMS line of `event_id` in the messages file, waiting up to 30 s for the notifier (no timing assertion).
std::optional<json> sms_of(const TestServer& server, const std::string& event_id) {
  const auto path = server.db_path() + ".messages.log";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    std::istringstream lines(read_file(path));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event_id", "") == event_id) return j;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

// The supervisor's waiting-list row of `item` in the overview report (all sites), or null.
json waiting_row(ApiSession& session, const std::string& item) {
  auto r = session.client.get("/api/v1/reports/overview", session.token("supervisor1"));
  INFO(describe(r));
  REQUIRE(r.status == 200);
  const auto report = r.json();
  for (const auto& w : report["waiting"]) {
    if (w["item_id"] == item) return w;
  }
  return nullptr;
}

json id_document() {
  return {{"type", "cccd"}, {"number", "001090005678"}};
}

}  // namespace

TEST_CASE("a failed attempt without an action, or with an unknown one, is refused with 422") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;
  const auto item = result_out_for_delivery(session, week);

  auto no_action = scan_body(item, "EMH", kPostOffice1, week.at(kFriday, 10));
  no_action["reason"] = "Vắng nhà";
  no_action["reason_code"] = "absent";
  check_error(session.scan("clerk1", no_action), 422, "action_required");
  auto unknown = failed_attempt(item, week.at(kFriday, 10), "absent", "leave_at_door");
  check_error(session.scan("clerk1", unknown), 422, "unknown_action");
  auto unknown_reason = failed_attempt(item, week.at(kFriday, 10), "dog");
  check_error(session.scan("clerk1", unknown_reason), 422, "unknown_reason_code");
  // In a batch, the same refusal is that scan's answer and nothing is recorded for it.
  auto batch = session.client.post("/api/v1/scans/batch", json{{"events", json::array({no_action})}}.dump(),
                                   session.token("clerk1"));
  INFO(describe(batch));
  REQUIRE(batch.status == 200);
  CHECK(batch.json()["results"][0]["status"] == 422);

  auto view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "out_for_delivery");

  // With its action the attempt is recorded, and the item's history shows reason and action.
  auto good = failed_attempt(item, week.at(kFriday, 10), "absent", "hold_at_post_office");
  good["reason"] = "Đã để giấy mời";
  record(session, "clerk1", good, "attempt_failed");
  view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  const auto history = view.json();
  const auto& last = history["events"].back();
  CHECK(last["code"] == "EMH");
  CHECK(last["reason"] == "Đã để giấy mời");
  CHECK(last["reason_code"] == "absent");
  CHECK(last["reason_code_text"] == "Người nhận vắng nhà");
  CHECK(last["action"] == "hold_at_post_office");
  CHECK(last["action_text"] == "Lưu tại bưu cục, chờ người nhận đến lấy");
}

TEST_CASE("the citizen sees what happens after a failed attempt, and why it failed only with the QR token") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;
  const auto item = result_out_for_delivery(session, week);
  auto attempt = failed_attempt(item, week.at(kFriday, 10), "absent", "hold_at_post_office");
  attempt["reason"] = "Đã để giấy mời cho chị Lan";  // free text may name people: never public
  record(session, "clerk1", attempt, "attempt_failed");
  auto staff_view = session.item("clerk1", item);
  REQUIRE(staff_view.status == 200);
  const std::string token = staff_view.json()["tracking_token"];

  // By item id (guessable): the next step, not the reason.
  auto open = session.track(item);
  REQUIRE(open.status == 200);
  const auto open_json = open.json();
  const auto& emh = open_json["events"].back();
  CHECK(emh["code"] == "EMH");
  CHECK(emh["action"] == "hold_at_post_office");
  CHECK(emh["action_text"] == "Lưu tại bưu cục, chờ người nhận đến lấy");
  CHECK(emh["action_text_en"] == "Held at the post office for collection");
  CHECK_FALSE(emh.contains("reason_code"));
  CHECK_FALSE(contains(open.body, "Vắng"));
  CHECK_FALSE(contains(open.body, "vắng"));
  CHECK_FALSE(contains(open.body, "giấy mời"));
  auto open_page = session.client.get("/track?q=" + item);
  REQUIRE(open_page.status == 200);
  CHECK(contains(open_page.body, "Hướng xử lý"));
  CHECK(contains(open_page.body, "Lưu tại bưu cục, chờ người nhận đến lấy"));
  CHECK_FALSE(contains(open_page.body, "Người nhận vắng nhà"));
  CHECK_FALSE(contains(open_page.body, "giấy mời"));

  // With the QR token: the reason code too, still not the clerk's free text.
  auto mine = session.client.get("/api/v1/track/token/" + token);
  REQUIRE(mine.status == 200);
  const auto mine_json = mine.json();
  const auto& own = mine_json["events"].back();
  CHECK(own["reason_code"] == "absent");
  CHECK(own["reason_code_text"] == "Người nhận vắng nhà");
  CHECK(own["action"] == "hold_at_post_office");
  CHECK_FALSE(contains(mine.body, "giấy mời"));
  auto my_page = session.client.get("/t/" + token);
  REQUIRE(my_page.status == 200);
  CHECK(contains(my_page.body, "Lý do"));
  CHECK(contains(my_page.body, "Người nhận vắng nhà"));
  CHECK(contains(my_page.body, "Lưu tại bưu cục, chờ người nhận đến lấy"));
  CHECK_FALSE(contains(my_page.body, "giấy mời"));

  // The citizen's SMS says why in words and where to fetch it, without the clerk's note.
  const auto sms = sms_of(server, attempt["event_id"]);
  REQUIRE_MESSAGE(sms.has_value(), server.log_tail());
  const std::string text = (*sms)["text"];
  INFO(text);
  CHECK(contains(text,
                 "(người nhận vắng nhà); đang được giữ tại Bưu cục Ba Đình, mời bạn đến nhận và mang theo "
                 "giấy tờ tùy thân"));
  CHECK_FALSE(contains(text, "giấy mời"));
}

TEST_CASE("a refusal allows the return at once, queues the citizen's message, and the office takes it back") {
  TestServer server({"--demo"});
  ApiSession session(server);
  PastWeek week;
  const auto applicant = unique_applicant();
  const auto item = result_out_for_delivery(session, week, applicant);

  // An absence is not a refusal: no return after one attempt.
  {
    const auto absent_item = result_out_for_delivery(session, week);
    record(session, "clerk1", failed_attempt(absent_item, week.at(kFriday, 10), "absent"), "attempt_failed");
    auto rts = session.scan("clerk1", scan_body(absent_item, "RTS", kPostOffice1, week.at(kFriday, 11)));
    check_error(rts, 409, "return_needs_refusal");
    CHECK(rts.json()["error"]["state"] == "attempt_failed");
    CHECK(rts.json()["error"]["allowed"] == json::array({"EDG"}));
  }

  record(session, "clerk1", failed_attempt(item, week.at(kFriday, 10), "refused", "return_to_sender"),
         "attempt_failed");
  auto rts = scan_body(item, "RTS", kPostOffice1, week.at(kFriday, 11));
  record(session, "clerk1", rts, "returning");

  const auto sms = sms_of(server, rts["event_id"]);
  REQUIRE_MESSAGE(sms.has_value(), server.log_tail());
  CHECK((*sms)["to"] == applicant.phone);
  const std::string text = (*sms)["text"];
  INFO(text);
  CHECK(contains(text, "đang được chuyển hoàn về Bộ phận một cửa quận Ba Đình"));
  CHECK(contains(text, "Lý do: Người nhận từ chối nhận"));

  // The office confirms it got the result back.
  record(session, "staff1", scan_body(item, "RCV", kOffice1, week.at(kMonday, 9)), "returned");
  auto view = session.item("staff1", item);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "returned");
  CHECK(event_codes(view.json()) == std::vector<std::string>{"RES", "EMA", "EMG", "EDG", "EMH", "RTS", "RCV"});
}

TEST_CASE("after two failed attempts the return needs them two working days apart") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;

  SUBCASE("Friday then Monday: 409, one more attempt, then Tuesday allows it") {
    const auto item = result_out_for_delivery(session, week);
    record(session, "clerk1", failed_attempt(item, week.at(kFriday, 10), "absent"), "attempt_failed");
    record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kMonday, 8)), "out_for_redelivery");
    record(session, "clerk1", failed_attempt(item, week.at(kMonday, 10), "absent"), "attempts_exhausted");
    auto early = session.scan("clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kMonday, 11)));
    check_error(early, 409, "attempts_too_close");
    CHECK(contains(early.json()["error"]["message"].get<std::string>(), "2 working days"));
    CHECK(early.json()["error"]["state"] == "attempts_exhausted");
    CHECK(early.json()["error"]["allowed"] == json::array({"EDG"}));

    record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kTuesday, 8)), "out_for_redelivery");
    record(session, "clerk1", failed_attempt(item, week.at(kTuesday, 10), "moved", "return_to_sender"),
           "attempts_exhausted");
    // Once a return is allowed, it is due: no fourth attempt.
    check_error(session.scan("clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kTuesday, 11))), 409, "return_due");
    record(session, "clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kTuesday, 12)), "returning");
  }

  SUBCASE("Friday then Tuesday: the return is allowed") {
    const auto item = result_out_for_delivery(session, week);
    record(session, "clerk1", failed_attempt(item, week.at(kFriday, 10), "absent"), "attempt_failed");
    record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kTuesday, 8)), "out_for_redelivery");
    record(session, "clerk1", failed_attempt(item, week.at(kTuesday, 10), "absent"), "attempts_exhausted");
    record(session, "clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kTuesday, 11)), "returning");
  }
}

TEST_CASE("the working days between attempts are those of the calendar the dossier was received under") {
  TestServer server({"--demo"});
  PastWeek week;
  // The province declares the Monday of that week a day off: Friday then Tuesday is one working day apart.
  const std::string monday = week.at(kMonday, 12).substr(0, 10);
  const auto calendar = (server.dir() / "calendar.json").string();
  std::ofstream(calendar) << json{{"fixed_holidays", json::array({"01-01", "04-30", "05-01", "09-02"})},
                                  {"years", {{monday.substr(0, 4), {{"holidays", json::array({monday})}}}}}}
                                 .dump();
  server.restart({"--calendar", calendar});
  std::string item;
  {
    ApiSession session(server);
    item = result_out_for_delivery(session, week);
    record(session, "clerk1", failed_attempt(item, week.at(kFriday, 10), "absent"), "attempt_failed");
    record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kTuesday, 8)), "out_for_redelivery");
    record(session, "clerk1", failed_attempt(item, week.at(kTuesday, 10), "absent"), "attempts_exhausted");
    auto early = session.scan("clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kTuesday, 11)));
    check_error(early, 409, "attempts_too_close");
    CHECK(early.json()["error"]["allowed"] == json::array({"EDG"}));
  }

  // Back on the national calendar, the dossier keeps the rules it was received under ...
  server.restart({});
  ApiSession session(server);
  check_error(session.scan("clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kTuesday, 11))), 409,
              "attempts_too_close");
  // ... and so does the supervisor's waiting list: one more attempt is due, not the return.
  const auto row = waiting_row(session, item);
  REQUIRE(row.is_object());
  CHECK(row["failure"]["next_step"] == "attempt_again");
  record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, week.at(kTuesday + 1, 8)), "out_for_redelivery");
  record(session, "clerk1", failed_attempt(item, week.at(kTuesday + 1, 10), "absent"), "attempts_exhausted");
  record(session, "clerk1", scan_body(item, "RTS", kPostOffice1, week.at(kTuesday + 1, 11)), "returning");

  // ... while a dossier received now counts that Monday as a working day.
  const auto fresh = result_out_for_delivery(session, week);
  record(session, "clerk1", failed_attempt(fresh, week.at(kFriday, 10), "absent"), "attempt_failed");
  record(session, "clerk1", scan_body(fresh, "EDG", kPostOffice1, week.at(kTuesday, 8)), "out_for_redelivery");
  record(session, "clerk1", failed_attempt(fresh, week.at(kTuesday, 10), "absent"), "attempts_exhausted");
  const auto fresh_row = waiting_row(session, fresh);
  REQUIRE(fresh_row.is_object());
  CHECK(fresh_row["failure"]["next_step"] == "return_to_office");
  record(session, "clerk1", scan_body(fresh, "RTS", kPostOffice1, week.at(kTuesday, 11)), "returning");
}

TEST_CASE("the supervisor's waiting list says why a result came back undelivered and what is due next") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;
  const auto held = result_out_for_delivery(session, week);
  auto attempt = failed_attempt(held, week.at(kFriday, 10), "absent", "hold_at_post_office");
  attempt["reason"] = "Nhà bà Nguyễn Thị Hoa, số 12 ngõ 5";  // a note with personal data, never in a report
  record(session, "clerk1", attempt, "attempt_failed");
  const auto refused = result_out_for_delivery(session, week);
  record(session, "clerk1", failed_attempt(refused, week.at(kFriday, 11), "refused", "return_to_sender"),
         "attempt_failed");

  const auto h = waiting_row(session, held);
  REQUIRE(h.is_object());
  CHECK(h["state"] == "attempt_failed");
  CHECK(h["failure"]["reason_code"] == "absent");
  CHECK(h["failure"]["reason_code_text"] == "Người nhận vắng nhà");
  CHECK(h["failure"]["action"] == "hold_at_post_office");
  CHECK(h["failure"]["action_text_en"] == "Held at the post office for collection");
  CHECK(h["failure"]["next_step"] == "attempt_again");
  const auto r = waiting_row(session, refused);
  REQUIRE(r.is_object());
  CHECK(r["failure"]["reason_code"] == "refused");
  CHECK(r["failure"]["next_step"] == "return_to_office");

  auto overview = session.client.get("/api/v1/reports/overview", session.token("supervisor1"));
  CHECK_FALSE(contains(overview.body, "Nguyễn Thị Hoa"));
  const auto report = overview.json();
  for (const auto& w : report["waiting"]) {
    if (w["state"] == "accepted") CHECK(w["failure"].is_null());
  }

  auto csv = session.client.get("/api/v1/reports/waiting.csv", session.token("supervisor1"));
  REQUIRE(csv.status == 200);
  CHECK(contains(csv.body, ",late_parts,failure_reason_code,failure_action,next_step\r\n"));
  CHECK(contains(csv.body, ",absent,hold_at_post_office,attempt_again\r\n"));
  CHECK(contains(csv.body, ",refused,return_to_sender,return_to_office\r\n"));
  CHECK_FALSE(contains(csv.body, "Nguyễn Thị Hoa"));
}

TEST_CASE("a result is handed over only after an ID check, and to someone else only with an authorization") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;
  const auto item = result_out_for_delivery(session, week);

  auto unchecked = scan_body(item, "EMI", kPostOffice1, week.at(kFriday, 10));
  unchecked["recipient"] = {{"name", "Lê Văn Nhận"}, {"id_checked", false}};
  check_error(session.scan("clerk1", unchecked), 422, "id_check_required");
  auto no_document = scan_body(item, "EMI", kPostOffice1, week.at(kFriday, 10));
  no_document["recipient"] = {{"name", "Lê Văn Nhận"}, {"id_checked", true}};
  check_error(session.scan("clerk1", no_document), 422, "id_check_required");
  auto representative = scan_body(item, "EMI", kPostOffice1, week.at(kFriday, 10));
  representative["recipient"] = {
      {"name", "Trần Thị Thay"}, {"id_checked", true}, {"relation", "vợ"}, {"id_document", id_document()}};
  check_error(session.scan("clerk1", representative), 422, "authorization_required");
  auto view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "out_for_delivery");

  representative["recipient"]["authorization"] = {{"number", "45/2026/UQ"}, {"date", "2026-11-02"}};
  record(session, "clerk1", representative, "delivered");
  view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  const auto history = view.json();
  const auto& recipient = history["events"].back()["recipient"];
  CHECK(recipient["id_document"]["type"] == "cccd");
  CHECK(recipient["id_document"]["number"] == "********5678");  // only the masked number is kept
  CHECK(recipient["authorization"]["number"] == "45/2026/UQ");
  CHECK(recipient["authorization"]["date"] == "2026-11-02");
  CHECK_FALSE(contains(view.body, "001090005678"));
}

TEST_CASE("a resent delivery scan shows its recipient only to whoever may record that scan") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  PastWeek week;
  const auto item = result_out_for_delivery(session, week);
  auto delivered = scan_body(item, "EMI", kPostOffice1, week.at(kFriday, 11));
  delivered["recipient"] = {{"name", "Đặng Thị Riêng"}, {"id_checked", true}, {"id_document", id_document()}};
  record(session, "clerk1", delivered, "delivered");
  // The event id, site and time are on the public tracking page: resending them must not read the recipient.
  for (const char* who : {"staff2", "supervisor1", "admin", "clerk2"}) {
    CAPTURE(who);
    auto again = session.scan(who, delivered);
    CHECK(again.status == 403);
    CHECK_FALSE(contains(again.body, "Đặng Thị Riêng"));
    CHECK_FALSE(contains(again.body, "5678"));
  }
  // The recorder's own retry (an offline queue resending) still gets the stored answer.
  auto retry = session.scan("clerk1", delivered);
  INFO(describe(retry));
  CHECK(retry.status == 200);
  CHECK(retry.json()["status"] == "duplicate");
  CHECK(retry.json()["event"]["recipient"]["name"] == "Đặng Thị Riêng");
}
