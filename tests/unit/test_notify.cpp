// Notification texts, webhook bodies, the signature header and the retry schedule (server/notify.hpp).
#include "notify.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace dpost;
using namespace dpost::server;

namespace {

// 2026-11-23 02:15 UTC = 09:15 in Vietnam.
constexpr UnixMillis kPickup = 1'795'400'100'000;

NotificationFacts facts(EventCode code, ItemKind kind = ItemKind::dossier) {
  NotificationFacts f;
  f.event.event_id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
  f.event.item_id = "EH000000014VN";
  f.event.code = code;
  f.event.site = "MC-HN-BD";
  f.event.site_name = "Bộ phận một cửa quận Ba Đình";
  f.event.occurred_at = kPickup;
  f.event.received_at = kPickup + 2000;
  f.event.state_after = ItemState::accepted;
  f.event.recorded_by = "clerk1";
  f.kind = kind;
  f.procedure_name = "Cấp phiếu lý lịch tư pháp";
  f.tracking_token = "tok123";
  return f;
}

}  // namespace

TEST_CASE("notify: a return tells the citizen where it goes back to and why") {
  const std::string base = "https://dossier.example.vn";
  auto f = facts(EventCode::RTS, ItemKind::result);
  f.office_name = "Bộ phận một cửa quận Ba Đình";
  f.last_failure = NotificationFacts::Failure{dpost::FailureReason::refused, std::string("không nhận")};
  CHECK(*citizen_text(f, base) ==
        "Dossier Post: Kết quả giải quyết hồ sơ EH 000 000 014 VN (Cấp phiếu lý lịch tư pháp) đang được chuyển hoàn "
        "về Bộ phận một cửa quận Ba Đình từ 09:15 23/11/2026. Lý do: Người nhận từ chối nhận. Tra cứu: "
        "https://dossier.example.vn/t/tok123");
  // "other": the clerk's words say why.
  f.last_failure = NotificationFacts::Failure{dpost::FailureReason::other, std::string("Nhà khóa cửa nhiều ngày")};
  CHECK(citizen_text(f, base)->find("Lý do: Nhà khóa cửa nhiều ngày.") != std::string::npos);
  // A dossier goes back to its sender, the citizen who reads the SMS; a returned document to whoever sent it.
  auto d = facts(EventCode::RTS, ItemKind::dossier);
  CHECK(citizen_text(d, base)->find("đang được chuyển hoàn về cho bạn từ 09:15 23/11/2026. Tra cứu") !=
        std::string::npos);
  auto back = facts(EventCode::RTS, ItemKind::return_item);
  CHECK(citizen_text(back, base)->find("đang được chuyển hoàn về người gửi từ 09:15") != std::string::npos);
}

TEST_CASE("notify: citizen texts in Vietnamese, with the tracking link") {
  const std::string base = "https://dossier.example.vn";
  CHECK(*citizen_text(facts(EventCode::EMA), base) ==
        "Dossier Post: Hồ sơ EH 000 000 014 VN (Cấp phiếu lý lịch tư pháp) đã được bưu điện nhận lúc 09:15 "
        "23/11/2026. Tra cứu: https://dossier.example.vn/t/tok123");
  CHECK(*citizen_text(facts(EventCode::RCV), base) ==
        "Dossier Post: Hồ sơ EH 000 000 014 VN (Cấp phiếu lý lịch tư pháp) đã được Bộ phận một cửa quận Ba Đình "
        "tiếp nhận lúc 09:15 23/11/2026. Tra cứu: https://dossier.example.vn/t/tok123");
  auto result = facts(EventCode::RES, ItemKind::result);
  result.event.item_id = "EK000000005VN";
  CHECK(*citizen_text(result, base) ==
        "Dossier Post: Kết quả giải quyết hồ sơ EK 000 000 005 VN (Cấp phiếu lý lịch tư pháp) đã được Bộ phận một "
        "cửa quận Ba Đình chuyển cho bưu điện lúc 09:15 23/11/2026. Tra cứu: https://dossier.example.vn/t/tok123");
  CHECK(citizen_text(facts(EventCode::EDG, ItemKind::result), base)
            ->find("đang được bưu điện phát đến bạn (từ 09:15 "
                   "23/11/2026)") != std::string::npos);
  CHECK(citizen_text(facts(EventCode::EMI, ItemKind::result), base)->find("đã được phát thành công lúc 09:15") !=
        std::string::npos);
  CHECK(citizen_text(facts(EventCode::EMH, ItemKind::result), base)->find("chưa phát được lúc 09:15 23/11/2026") !=
        std::string::npos);
  // A failed attempt: the coded reason in words and what happens next, never the clerk's free text.
  auto attempt = facts(EventCode::EMH, ItemKind::result);
  attempt.office_name = "Bộ phận một cửa quận Ba Đình";
  attempt.event.site_name = "Bưu cục Ba Đình";
  attempt.event.reason = "Đã để giấy mời cho chị Lan";
  attempt.event.reason_code = FailureReason::wrong_address;
  attempt.event.action = FailureAction::redeliver;
  auto text = *citizen_text(attempt, base);
  CHECK(text.find("chưa phát được lúc 09:15 23/11/2026 (sai địa chỉ); bưu điện sẽ phát lại, bạn có thể hẹn ngày giờ "
                  "phát qua đường dẫn tra cứu.") != std::string::npos);
  CHECK(text.find("giấy mời") == std::string::npos);
  attempt.event.action = FailureAction::hold_at_post_office;
  CHECK(citizen_text(attempt, base)
            ->find("; đang được giữ tại Bưu cục Ba Đình, mời bạn đến nhận và mang theo giấy tờ "
                   "tùy thân.") != std::string::npos);
  attempt.event.action = FailureAction::return_to_sender;
  attempt.event.reason_code = FailureReason::other;  // "other" has only free text: no reason in the SMS
  text = *citizen_text(attempt, base);
  CHECK(text.find("chưa phát được lúc 09:15 23/11/2026; sẽ được chuyển hoàn về Bộ phận một cửa quận Ba Đình.") !=
        std::string::npos);
  attempt.kind = ItemKind::dossier;  // a dossier the office could not take: it goes back to the citizen
  attempt.event.action = FailureAction::hold_at_post_office;
  text = *citizen_text(attempt, base);
  CHECK(text.find("đang được giữ tại Bưu cục Ba Đình.") != std::string::npos);
  CHECK(text.find("mời bạn đến nhận") == std::string::npos);
}

TEST_CASE("notify: a citizen's dossier travels to the office, so its texts never say it comes to them") {
  const std::string base = "https://dossier.example.vn";
  auto f = facts(EventCode::EDG);
  f.office_name = "Bộ phận một cửa quận Ba Đình";
  CHECK(citizen_text(f, base)->find("Hồ sơ EH 000 000 014 VN (Cấp phiếu lý lịch tư pháp) đang được bưu điện chuyển "
                                    "đến Bộ phận một cửa quận Ba Đình (từ 09:15 23/11/2026).") != std::string::npos);
  f.event.code = EventCode::EMI;
  CHECK(citizen_text(f, base)->find("đã được giao đến Bộ phận một cửa quận Ba Đình lúc 09:15 23/11/2026.") !=
        std::string::npos);
  f.event.code = EventCode::EMH;
  f.event.reason_code = FailureReason::office_closed;
  f.event.action = FailureAction::redeliver;
  const auto text = *citizen_text(f, base);
  CHECK(text.find("chưa giao được đến Bộ phận một cửa quận Ba Đình lúc 09:15 23/11/2026 (cơ quan đóng cửa); bưu "
                  "điện sẽ giao lại.") != std::string::npos);
  CHECK(text.find("hẹn ngày giờ phát") == std::string::npos);  // the citizen does not book the office's delivery
  f.event.action = FailureAction::return_to_sender;
  CHECK(citizen_text(f, base)->find("; sẽ được chuyển hoàn về cho bạn.") != std::string::npos);
  for (auto code : {EventCode::EDG, EventCode::EMI, EventCode::EMH}) {
    f.event.code = code;
    CHECK(citizen_text(f, base)->find("đến bạn") == std::string::npos);
  }

  for (auto code : {EventCode::EDD, EventCode::EDE, EventCode::EMG}) {
    CAPTURE(to_string(code));
    CHECK_FALSE(is_notified(code));
    CHECK_FALSE(citizen_text(facts(code), base).has_value());
  }
  for (auto code : {EventCode::EMA, EventCode::RCV, EventCode::RES, EventCode::EDG, EventCode::EMI, EventCode::EMH,
                    EventCode::RTS}) {
    CHECK(is_notified(code));
  }
}

TEST_CASE("notify: the webhook body has the event and no personal data") {
  auto f = facts(EventCode::EMA);
  f.dossier_code = "H15.50.05.13-261008-0975";
  const auto body = nlohmann::json::parse(webhook_body(f));
  CHECK(body["event_id"] == f.event.event_id);
  CHECK(body["idempotency_key"] == f.event.event_id + ":webhook");
  CHECK(body["item_id"] == "EH000000014VN");
  CHECK(body["item_kind"] == "dossier");
  CHECK(body["dossier_code"] == "H15.50.05.13-261008-0975");
  CHECK(body["code"] == "EMA");
  CHECK(body["state"] == "accepted");
  CHECK(body["site"] == "MC-HN-BD");
  CHECK(body["occurred_at"] == "2026-11-23T02:15:00.000Z");
  CHECK(body["received_at"] == "2026-11-23T02:15:02.000Z");
  CHECK(body.size() == 10);
  CHECK(nlohmann::json::parse(webhook_body(facts(EventCode::EMA)))["dossier_code"].is_null());
  CHECK(idempotency_key("abc", NotificationChannel::webhook) == "abc:webhook");
}

TEST_CASE("notify: X-Dossier-Signature is sha256= and the hex HMAC-SHA256 of the body") {
  // RFC 4231 test case 2 (a key shorter than the block).
  CHECK(signature_header("Jefe", "what do ya want for nothing?") ==
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than the 64-byte block is hashed first (RFC 4231 test case 6).
  CHECK(signature_header(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("notify: retries back off 1 s, 2 s, 4 s ... up to 5 min, jitter adds at most a quarter") {
  using std::chrono::milliseconds;
  CHECK(retry_delay(1, 0) == milliseconds(1000));
  CHECK(retry_delay(2, 0) == milliseconds(2000));
  CHECK(retry_delay(3, 0) == milliseconds(4000));
  CHECK(retry_delay(9, 0) == milliseconds(256'000));
  CHECK(retry_delay(10, 0) == milliseconds(300'000));
  CHECK(retry_delay(1000, 0) == milliseconds(300'000));
  CHECK(retry_delay(3, 0.999) < milliseconds(5000));
  CHECK(retry_delay(3, 0.5) == milliseconds(4500));
}

TEST_CASE("notify: webhook URLs") {
  auto t = parse_webhook_url("http://127.0.0.1:8099/hooks/x?a=1");
  REQUIRE(t);
  CHECK(t->host == "127.0.0.1");
  CHECK(t->port == "8099");
  CHECK(t->target == "/hooks/x?a=1");
  t = parse_webhook_url("http://motcua.example.vn");
  REQUIRE(t);
  CHECK(t->port == "80");
  CHECK(t->target == "/");
  t = parse_webhook_url("http://[::1]:9000/h");
  REQUIRE(t);
  CHECK(t->host == "::1");
  for (const char* bad :
       {"https://x/h", "ftp://x", "http://", "http://x:99999/", "http://x:abc/", "http://u@x/", "x"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_webhook_url(bad).has_value());
  }
}
