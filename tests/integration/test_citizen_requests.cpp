// The citizen's page beyond the public view: both legs of a dossier on one timeline, look-up by dossier code
// and by the receipt's code, who signed for the result (masked), and the two things a citizen may ask: a new
// delivery after a failed attempt, and a rating of the delivered result, from a plain HTML form or as JSON.
#include "itest_common.hpp"

#include "clock.hpp"
#include "item_id.hpp"
#include "journey.hpp"
#include "text.hpp"

#include <doctest/doctest.h>

using namespace dpost::test;
using nlohmann::json;

namespace {

struct Journey {
  long long dossier_id = 0;
  std::string dossier_code;
  std::string dossier_item;
  std::string result_item;
  std::string token;        // the dossier item's QR token (the receipt's link)
  std::string lookup_code;  // the 6 digits on the receipt
  TestApplicant applicant;
};

// A dossier received by the office MC-HN-BD and its result on the way back, up to `result_codes`.
Journey journey(ApiSession& session, Timeline& timeline, const std::vector<std::string>& result_codes,
                const std::string& recipient_name = "") {
  Journey j;
  j.applicant = unique_applicant();
  j.dossier_code = "H15.50.05.13-261206-" + j.applicant.id_number.substr(5);
  auto body = dossier_body(j.applicant, kOffice1, "both");
  body["dossier_code"] = j.dossier_code;
  body["procedure"]["category"] = "Hộ tịch";
  auto created = session.create_dossier("clerk1", body);
  INFO(describe(created));
  REQUIRE(created.status == 201);
  j.dossier_id = created.json()["id"].get<long long>();
  j.dossier_item = created.json()["items"][0]["item_id"];
  for (const char* code : {"EMA", "EMG", "EDG", "EMI"}) {
    record(session, "clerk1", scan_body(j.dossier_item, code, kPostOffice1, timeline.next()));
  }
  record(session, "staff1", scan_body(j.dossier_item, "RCV", kOffice1, timeline.next()), "received");
  auto made = session.client.post("/api/v1/dossiers/" + std::to_string(j.dossier_id) + "/result", json::object(),
                                  session.token("staff1"));
  INFO(describe(made));
  REQUIRE(made.status == 201);
  j.result_item = made.json()["item_id"];
  for (const auto& code : result_codes) {
    const bool office = code == "RES";
    auto scan = scan_body(j.result_item, code, office ? kOffice1 : kPostOffice1, timeline.next());
    if (code == "EMH") {
      scan["reason"] = "Người nhận vắng nhà";
      scan["action"] = "redeliver";
    }
    if (code == "EMI")
      scan["recipient"] = {{"name", recipient_name},
                           {"id_checked", true},
                           {"id_document", {{"type", "cccd"}, {"number", "001090001234"}}}};
    record(session, office ? "staff1" : "clerk1", scan);
  }
  auto view = session.item("clerk1", j.dossier_item);
  REQUIRE(view.status == 200);
  j.token = view.json()["tracking_token"];
  j.lookup_code = view.json().value("lookup_code", std::string());
  REQUIRE(j.lookup_code.size() == 6);
  return j;
}

const std::vector<std::string> kDelivered{"RES", "EMA", "EMG", "EDG", "EMI"};
const std::vector<std::string> kFailed{"RES", "EMA", "EMG", "EDG", "EMH"};

std::string form(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("citizen page: both legs on one timeline, who signed for the result masked, nothing personal") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const std::string signer = "Lê Văn Ký " + unique_applicant().name.substr(0, 4);
  auto j = journey(session, timeline, kDelivered, signer);

  auto page = session.client.get("/t/" + j.token);
  INFO(describe(page));
  REQUIRE(page.status == 200);
  // Both items, each leg named, and the events of both in one list.
  CHECK(contains(page.body, dpost::ItemId::parse(j.dossier_item)->grouped()));
  CHECK(contains(page.body, dpost::ItemId::parse(j.result_item)->grouped()));
  CHECK(contains(page.body, "Hồ sơ → cơ quan"));
  CHECK(contains(page.body, "Kết quả → công dân"));
  CHECK(contains(page.body, std::string(dpost::describe_vi(dpost::EventCode::RCV))));  // the office's receipt
  CHECK(contains(page.body, std::string(dpost::describe_vi(dpost::EventCode::RES))));  // the result handed over
  // Who signed for the result, masked; never in full.
  CHECK(contains(page.body, "Người ký nhận"));
  CHECK(contains(page.body, dpost::mask_name(signer)));
  CHECK_FALSE(contains(page.body, signer));
  for (const auto& personal : j.applicant.personal_strings()) CHECK_FALSE(contains(page.body, personal));
  // The newest step (the result's delivery) comes first.
  const auto delivered_at = page.body.find("leg-result");
  const auto dossier_at = page.body.find("leg-dossier");
  REQUIRE(delivered_at != std::string::npos);
  REQUIRE(dossier_at != std::string::npos);
  CHECK(delivered_at < dossier_at);
  // The detailed view names the procedure; the public one only its field.
  CHECK(contains(page.body, "Cấp bản sao trích lục hộ tịch"));
  auto public_page = session.client.get("/track?q=" + j.result_item);
  REQUIRE(public_page.status == 200);
  CHECK(contains(public_page.body, "Hộ tịch"));
  CHECK_FALSE(contains(public_page.body, "Cấp bản sao trích lục hộ tịch"));
  CHECK_FALSE(contains(public_page.body, dpost::mask_name(signer)));
  CHECK_FALSE(contains(public_page.body, "Người nộp"));
  CHECK(contains(public_page.body, "Hồ sơ → cơ quan"));  // both legs publicly too
}

TEST_CASE("citizen page: found by the dossier code, and the receipt's code opens the detailed view") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto j = journey(session, timeline, {"RES", "EMA"});

  std::string typed = j.dossier_code;
  for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto by_code = session.client.get("/track?q=+" + form(typed) + "+");  // as typed: lower case, spaces
  INFO(describe(by_code));
  REQUIRE(by_code.status == 200);
  CHECK(contains(by_code.body, dpost::ItemId::parse(j.result_item)->grouped()));
  CHECK_FALSE(contains(by_code.body, dpost::mask_name(j.applicant.name)));

  auto detailed = session.client.get("/track?q=" + j.dossier_item + "&code=" + j.lookup_code);
  REQUIRE(detailed.status == 200);
  CHECK(contains(detailed.body, dpost::mask_name(j.applicant.name)));
  for (const auto& personal : j.applicant.personal_strings()) CHECK_FALSE(contains(detailed.body, personal));

  // A wrong code answers like an unknown item, word for word.
  const std::string wrong = j.lookup_code == "000000" ? "111111" : "000000";
  auto refused = session.client.get("/track?q=" + j.dossier_item + "&code=" + wrong);
  auto unknown = session.client.get("/track?q=EH999999995VN&code=" + wrong);
  CHECK(refused.status == 404);
  CHECK(unknown.status == 404);
  auto same = unknown.body;
  same.replace(same.find("EH999999995VN"), 13, j.dossier_item);  // the form echoes what was typed
  CHECK(refused.body == same);
  CHECK(contains(refused.body, "hãy kiểm tra mã bưu gửi và mã tra cứu"));  // not blaming the number alone
  CHECK_FALSE(contains(refused.body, dpost::mask_name(j.applicant.name)));
  // An unknown dossier code, too.
  CHECK(session.client.get("/track?q=H99.99.99-261201-0000").status == 404);
}

TEST_CASE("citizen page: a rating once the result is delivered, from the form, once per delivery") {
  ApiSession session(shared_demo_server());
  Timeline timeline;

  SUBCASE("not before the result is delivered") {
    auto j = journey(session, timeline, {"RES", "EMA"});
    auto page = session.client.get("/t/" + j.token);
    CHECK_FALSE(contains(page.body, "/rating\""));
    auto early = session.client.request("POST", "/t/" + j.token + "/rating", "rating=5");
    CHECK(early.status == 409);
    CHECK(contains(early.body, "sau khi đã nhận kết quả"));
    auto api = session.client.post("/api/v1/track/token/" + j.token + "/rating", json{{"rating", 5}});
    check_error(api, 409, "not_now");
    CHECK(session.item("staff1", j.result_item).json()["citizen_requests"].empty());
  }

  SUBCASE("delivered: the form is offered, sent once, shown to staff") {
    auto j = journey(session, timeline, kDelivered, "Phạm Thị Nhận");
    auto page = session.client.get("/t/" + j.token);
    REQUIRE(page.status == 200);
    CHECK(contains(page.body, "Đánh giá dịch vụ"));
    CHECK(contains(page.body, "action=\"/t/" + j.token + "/rating\""));

    // Out of range and non-text comments are refused, nothing stored.
    CHECK(session.client.request("POST", "/t/" + j.token + "/rating", "rating=6").status == 422);
    CHECK(session.client.request("POST", "/t/" + j.token + "/rating", "comment=hi").status == 422);
    CHECK(session.client.request("POST", "/t/" + j.token + "/rating", "rating=4&comment=%01%02").status == 422);
    check_error(session.client.post("/api/v1/track/token/" + j.token + "/rating", json{{"rating", 0}}), 422,
                "bad_rating");

    auto sent = session.client.request("POST", "/t/" + j.token + "/rating",
                                       "rating=4&comment=" + form("Bưu tá nhiệt tình, giao đúng hẹn"));
    INFO(describe(sent));
    CHECK(sent.status == 303);
    CHECK(sent.header("location") == "/t/" + j.token + "?done=rating");
    auto thanked = session.client.get("/t/" + j.token + "?done=rating");
    CHECK(contains(thanked.body, "Cảm ơn bạn đã đánh giá"));
    CHECK_FALSE(contains(thanked.body, "action=\"/t/" + j.token + "/rating\""));  // not offered again

    // A second rating of the same delivery is refused, from the form and from the API.
    auto again = session.client.request("POST", "/t/" + j.token + "/rating", "rating=1");
    CHECK(again.status == 409);
    CHECK(contains(again.body, "Bạn đã đánh giá"));
    check_error(session.client.post("/api/v1/track/token/" + j.token + "/rating", json{{"rating", 1}}), 409,
                "already_asked");

    // The office sees it with the result item; exactly one.
    auto staff = session.item("staff1", j.result_item).json();
    REQUIRE(staff["citizen_requests"].size() == 1);
    CHECK(staff["citizen_requests"][0]["kind"] == "rating");
    CHECK(staff["citizen_requests"][0]["rating"] == 4);
    CHECK(staff["citizen_requests"][0]["comment"] == "Bưu tá nhiệt tình, giao đúng hẹn");
  }

  SUBCASE("a wrong token asks nothing") {
    CHECK(session.client.request("POST", "/t/AAAAAAAAAAAAAAAAAAAAAA/rating", "rating=5").status == 404);
    check_error(session.client.post("/api/v1/track/token/AAAAAAAAAAAAAAAAAAAAAA/rating", json{{"rating", 5}}), 404,
                "unknown_item");
  }
}

TEST_CASE("citizen page: a new delivery after a failed attempt, with a preferred day") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  auto j = journey(session, timeline, kFailed);

  auto page = session.client.get("/t/" + j.token);
  REQUIRE(page.status == 200);
  CHECK(contains(page.body, "Yêu cầu phát lại"));
  CHECK(contains(page.body, "<strong class=\"next\">Hẹn phát lại</strong>"));  // what happens now, in the headline
  CHECK_FALSE(contains(page.body, "Đánh giá dịch vụ"));
  CHECK_FALSE(contains(page.body, "vắng nhà"));  // the failed attempt's reason is the post's note, not public

  const auto today = dpost::format_date_vn(dpost::now_millis());
  CHECK(session.client.request("POST", "/t/" + j.token + "/redelivery", "preferred_date=2020-01-01").status == 422);
  CHECK(session.client.request("POST", "/t/" + j.token + "/redelivery", "preferred_date=tomorrow").status == 422);
  // Wrong types are refused, not dropped; a day that is not a date is called that.
  const auto api_base = "/api/v1/track/token/" + j.token;
  check_error(session.client.post(api_base + "/redelivery", json{{"note", 123}}), 400, "wrong_type");
  check_error(session.client.post(api_base + "/rating", json{{"rating", "5"}}), 400, "wrong_type");
  auto fraction = session.client.post(api_base + "/rating", json{{"rating", 3.5}});
  check_error(fraction, 400, "wrong_type");
  CHECK(contains(fraction.json()["error"]["message"].get<std::string>(), "whole number from 1 to 5"));
  auto not_a_day = session.client.post(api_base + "/redelivery", json{{"preferred_date", "2026-02-30"}});
  check_error(not_a_day, 422, "bad_date");
  CHECK(contains(not_a_day.json()["error"]["message"].get<std::string>(), "YYYY-MM-DD"));
  auto api = session.client.post("/api/v1/track/token/" + j.token + "/redelivery",
                                 json{{"preferred_date", today}, {"note", "Gọi trước 30 phút"}});
  INFO(describe(api));
  CHECK(api.status == 201);
  CHECK(api.json()["item_id"] == j.result_item);
  CHECK(api.json()["preferred_date"] == today);
  // Asked once per failed attempt: the form disappears and a second request is refused.
  CHECK_FALSE(contains(session.client.get("/t/" + j.token).body, "Yêu cầu phát lại"));
  CHECK(session.client.request("POST", "/t/" + j.token + "/redelivery", "").status == 409);

  auto staff = session.item("clerk1", j.result_item).json();
  REQUIRE(staff["citizen_requests"].size() == 1);
  CHECK(staff["citizen_requests"][0]["kind"] == "redelivery");
  CHECK(staff["citizen_requests"][0]["preferred_date"] == today);
  CHECK(staff["citizen_requests"][0]["comment"] == "Gọi trước 30 phút");
  CHECK(staff["citizen_requests"][0]["after_event"] == staff["events"].back()["event_id"]);

  // The next attempt fails too: after two failures the result goes back to the office, so there is nothing
  // left to ask for.
  record(session, "clerk1", scan_body(j.result_item, "EDG", kPostOffice1, timeline.next()));
  auto second = scan_body(j.result_item, "EMH", kPostOffice1, timeline.next());
  second["reason"] = "Vắng nhà lần hai";
  second["action"] = "return_to_sender";
  record(session, "clerk1", second, "attempts_exhausted");
  CHECK_FALSE(contains(session.client.get("/t/" + j.token).body, "Yêu cầu phát lại"));
  auto late = session.client.request("POST", "/t/" + j.token + "/redelivery", "note=" + form("Chiều thứ bảy"));
  CHECK(late.status == 409);
  CHECK(session.item("clerk1", j.result_item).json()["citizen_requests"].size() == 1);
}

TEST_CASE("citizen page: a dossier the post could not bring to the office is not the citizen's to book again") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  const auto applicant = unique_applicant();
  auto created = session.create_dossier("clerk1", dossier_body(applicant, kOffice1, "both"));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const std::string item = created.json()["items"][0]["item_id"];
  for (const char* code : {"EMA", "EMG", "EDG"})
    record(session, "clerk1", scan_body(item, code, kPostOffice1, timeline.next()));
  auto failed = scan_body(item, "EMH", kPostOffice1, timeline.next());
  failed["reason_code"] = "office_closed";
  failed["action"] = "hold_at_post_office";
  record(session, "clerk1", failed, "attempt_failed");
  const std::string token = session.item("clerk1", item).json()["tracking_token"];

  auto page = session.client.get("/t/" + token);
  REQUIRE(page.status == 200);
  // The headline says where it is held, and no form offers the citizen a delivery meant for the office.
  CHECK(
      contains(page.body, "<strong class=\"next\">Lưu tại bưu cục, chờ người nhận đến lấy: Bưu cục Ba Đình</strong>"));
  CHECK_FALSE(contains(page.body, "Yêu cầu phát lại"));
  CHECK(session.client.request("POST", "/t/" + token + "/redelivery", "").status == 409);
  check_error(session.client.post("/api/v1/track/token/" + token + "/redelivery", json::object()), 409, "not_now");
  CHECK(session.item("clerk1", item).json()["citizen_requests"].empty());
}

TEST_CASE("citizen page: past the due date with the result not yet home, the page says so and whom to ask") {
  ApiSession session(shared_demo_server());
  Timeline timeline;
  // A counter dossier of the office MC-HN-BD with its result on the way; `due` is its hẹn trả.
  auto result_page = [&](const std::string& due, const std::vector<std::string>& codes) {
    auto body = dossier_body(unique_applicant(), kOffice1, "receive");
    body["due_date"] = due;
    const auto item = counter_result_item(session, body);
    for (const auto& code : codes) {
      auto scan = scan_body(item, code, code == "RES" ? kOffice1 : kPostOffice1, timeline.next());
      if (code == "EMI") {
        scan["recipient"] = {{"name", "Người Nhận"},
                             {"id_checked", true},
                             {"id_document", {{"type", "cccd"}, {"number", "001090001234"}}}};
      }
      record(session, code == "RES" ? "staff1" : "clerk1", scan);
    }
    const std::string token = session.item("staff1", item).json()["tracking_token"];
    auto page = session.client.get("/t/" + token);
    REQUIRE(page.status == 200);
    return page.body;
  };
  const auto late = result_page("2026-01-05", {"RES", "EMA"});
  CHECK(contains(late, "Đã quá ngày hẹn trả, kết quả chưa đến tay bạn."));
  CHECK(contains(late, "Past the due date"));
  CHECK_FALSE(contains(result_page("2099-12-31", {"RES", "EMA"}), "Đã quá ngày hẹn trả"));
  CHECK_FALSE(contains(result_page("2026-01-05", {"RES", "EMA", "EMG", "EDG", "EMI"}), "Đã quá ngày hẹn trả"));
}
