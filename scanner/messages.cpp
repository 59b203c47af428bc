#include "messages.hpp"

#include <journey.hpp>

namespace dpost::scanner {

namespace {

std::string state_text(Lang lang, const std::string& state) {
  auto parsed = parse_item_state(state);
  if (!parsed) return state;
  return std::string(lang == Lang::vi ? describe_vi(*parsed) : describe_en(*parsed));
}

}  // namespace

std::string_view verdict_word(const EventAnswer& answer) {
  if (answer.outcome == "recorded") return "recorded";
  if (answer.outcome == "duplicate") return "duplicate";
  return "refused";
}

std::string verdict_text(Lang lang, const EventAnswer& a) {
  const bool vi = lang == Lang::vi;
  if (a.outcome == "recorded") {
    std::string text = vi ? "đã ghi nhận" : "recorded";
    if (!a.state.empty())
      text += vi ? " (trạng thái: " + state_text(lang, a.state) + ")" : " (now: " + state_text(lang, a.state) + ")";
    return text;
  }
  if (a.outcome == "duplicate") return vi ? "đã ghi nhận trước đó" : "already recorded";
  if (a.outcome == "illegal_transition") {
    const std::string state = a.state.empty() ? std::string("?") : state_text(lang, a.state);
    return vi ? "không được phép lúc này (bưu gửi đang ở trạng thái: " + state + ")"
              : "not allowed now (the item is: " + state + ")";
  }
  if (a.outcome == "unknown_item") return vi ? "không có bưu gửi này trong hệ thống" : "unknown item";
  if (a.outcome == "forbidden") {
    return vi ? "không có quyền ghi sự kiện này tại bưu cục này" : "not allowed for this device or site";
  }
  if (a.outcome == "event_id_conflict") {
    return vi ? "mã sự kiện trùng với một sự kiện khác" : "event id already used for another event";
  }
  return (vi ? "không hợp lệ" : "invalid") + (a.message.empty() ? std::string{} : ": " + a.message);
}

std::string queued_text(Lang lang) {
  return lang == Lang::vi ? "đã lưu, sẽ gửi khi có mạng" : "saved, will send when online";
}

std::string not_ours_text(Lang lang) {
  return lang == Lang::vi ? "không phải mã bưu gửi của hệ thống, bỏ qua" : "not one of our item ids, ignored";
}

std::string no_code_text(Lang lang) {
  return lang == Lang::vi ? "không tìm thấy mã" : "no code found";
}

std::string unreadable_text(Lang lang, std::string_view reason) {
  return (lang == Lang::vi ? "không đọc được ảnh (" : "unreadable image (") + std::string(reason) + ")";
}

std::string stop_text(Lang lang, SyncStop stop, std::string_view detail) {
  const bool vi = lang == Lang::vi;
  switch (stop) {
    case SyncStop::done:
      return vi ? "đã gửi hết" : "all sent";
    case SyncStop::offline:
      return (vi ? "chưa gửi được (mất mạng hoặc máy chủ bận), sẽ thử lại: "
                 : "could not send (offline or server busy), will retry: ") +
             std::string(detail);
    case SyncStop::unauthorized:
      return vi ? "máy chủ không chấp nhận mã thiết bị; các lần quét vẫn nằm trong hộp thư đi. Hãy đăng ký lại: "
                  "dossier-scanner enroll"
                : "the server does not accept this device token; scans stay queued. Enroll again: dossier-scanner "
                  "enroll";
    case SyncStop::revoked:
      return vi ? "thiết bị này đã bị thu hồi quyền; các lần quét vẫn nằm trong hộp thư đi và sẽ được gửi sau khi "
                  "đăng ký lại (dossier-scanner enroll)"
                : "this device was revoked; scans stay queued and will be sent once the device is enrolled again "
                  "(dossier-scanner enroll)";
    case SyncStop::rejected:
      return (vi ? "máy chủ từ chối cả lô (kiểm tra đồng hồ thiết bị): "
                 : "the server refused the batch (check the device clock): ") +
             std::string(detail);
  }
  return std::string(detail);
}

std::string summary_text(Lang lang, const OutboxCounts& c) {
  if (lang == Lang::vi) {
    return "đang chờ gửi: " + std::to_string(c.pending) + ", đã gửi: " + std::to_string(c.done) +
           ", bị từ chối: " + std::to_string(c.refused);
  }
  return "waiting: " + std::to_string(c.pending) + ", sent: " + std::to_string(c.done) +
         ", refused: " + std::to_string(c.refused);
}

}  // namespace dpost::scanner
