#include "notify.hpp"
#include "access_log.hpp"

#include "auth.hpp"
#include "json_writer.hpp"
#include "thread_name.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dpost::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr std::size_t kBatch = 32;
constexpr auto kMaxDelay = std::chrono::minutes(5);

std::string_view subject(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "Hồ sơ";
    case ItemKind::result:
      return "Kết quả giải quyết hồ sơ";
    case ItemKind::return_item:
      return "Hồ sơ hoàn trả";
  }
  return "Hồ sơ";
}

std::string office_of(const NotificationFacts& facts) {
  return facts.office_name.empty() ? std::string("cơ quan giải quyết") : facts.office_name;
}

// Where a returned item goes: a result to its office, the citizen's own dossier back to them, a returned
// document to whoever sent it.
std::string return_destination(const NotificationFacts& facts) {
  switch (facts.kind) {
    case ItemKind::result:
      return office_of(facts);
    case ItemKind::dossier:
      return "cho bạn";
    case ItemKind::return_item:
      break;
  }
  return "người gửi";
}

// RTS: where the item goes back to, and why (the last failed attempt's reason).
std::string return_text(const NotificationFacts& facts, const std::string& when) {
  std::string text = "đang được chuyển hoàn về " + return_destination(facts) + " từ " + when;
  if (facts.last_failure) {
    const auto& f = *facts.last_failure;
    std::optional<std::string> why;
    if (f.reason_code && *f.reason_code != FailureReason::other) {
      why = std::string(describe_vi(*f.reason_code));
    } else if (f.reason) {
      why = f.reason;
    }
    if (why) text += ". Lý do: " + *why;
  }
  return text;
}

// EMH: why it failed (the coded reason only: the clerk's free text is written for colleagues) and what happens
// next, so the citizen knows whether to wait, to fetch it or to ask the office.
std::string attempt_text(const NotificationFacts& facts, const std::string& when) {
  const auto& e = facts.event;
  // A dossier travels to the office, not to the citizen: it is "not yet delivered to the office".
  const bool to_office = facts.kind == ItemKind::dossier;
  std::string text =
      to_office ? "chưa giao được đến " + office_of(facts) + " lúc " + when : "chưa phát được lúc " + when;
  if (e.reason_code && *e.reason_code != FailureReason::other) {
    std::string why(describe_vi(*e.reason_code));
    if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z') why[0] = static_cast<char>(why[0] - 'A' + 'a');
    text += " (" + why + ")";
  }
  if (!e.action) return text + "; bưu điện sẽ phát lại hoặc liên hệ với bạn";
  switch (*e.action) {
    case FailureAction::redeliver:
      if (to_office) return text + "; bưu điện sẽ giao lại";
      return text + "; bưu điện sẽ phát lại, bạn có thể hẹn ngày giờ phát qua đường dẫn tra cứu";
    case FailureAction::hold_at_post_office:
      text += "; đang được giữ tại " + e.site_name;
      if (facts.kind == ItemKind::result) text += ", mời bạn đến nhận và mang theo giấy tờ tùy thân";
      return text;
    case FailureAction::return_to_sender:
      return text + "; sẽ được chuyển hoàn về " + return_destination(facts);
  }
  return text;
}

}  // namespace

std::string_view to_string(NotificationChannel channel) {
  return channel == NotificationChannel::citizen ? "citizen" : "webhook";
}

bool is_notified(EventCode code) {
  switch (code) {
    case EventCode::EMA:
    case EventCode::RCV:
    case EventCode::RES:
    case EventCode::EDG:
    case EventCode::EMI:
    case EventCode::EMH:
    case EventCode::RTS:
      return true;
    default:
      return false;
  }
}

std::optional<std::string> citizen_text(const NotificationFacts& facts, std::string_view public_base_url) {
  const auto& e = facts.event;
  const auto when = format_time_vn(e.occurred_at);
  std::string what;
  switch (e.code) {
    case EventCode::EMA:
      what = "đã được bưu điện nhận lúc " + when;
      break;
    case EventCode::RCV:
      what = "đã được " + e.site_name + " tiếp nhận lúc " + when;
      break;
    case EventCode::RES:
      what = "đã được " + e.site_name + " chuyển cho bưu điện lúc " + when;
      break;
    case EventCode::EDG:
      what = facts.kind == ItemKind::dossier
                 ? "đang được bưu điện chuyển đến " + office_of(facts) + " (từ " + when + ")"
                 : "đang được bưu điện phát đến bạn (từ " + when + ")";
      break;
    case EventCode::EMI:
      what = facts.kind == ItemKind::dossier ? "đã được giao đến " + office_of(facts) + " lúc " + when
                                             : "đã được phát thành công lúc " + when;
      break;
    case EventCode::EMH:
      what = attempt_text(facts, when);
      break;
    case EventCode::RTS:
      what = return_text(facts, when);
      break;
    default:
      return std::nullopt;
  }
  const auto id = ItemId::parse(e.item_id);
  std::string text = "Dossier Post: ";
  text += subject(facts.kind);
  text += ' ';
  text += id ? id->grouped() : e.item_id;
  text += " (" + facts.procedure_name + ") " + what + ". Tra cứu: ";
  text += public_base_url;
  text += "/t/" + facts.tracking_token;
  return text;
}

std::string idempotency_key(std::string_view event_id, NotificationChannel channel) {
  return std::string(event_id) + ":" + std::string(to_string(channel));
}

std::string webhook_body(const NotificationFacts& facts) {
  const auto& e = facts.event;
  JsonWriter w;
  w.begin_object();
  w.member("event_id", std::string_view(e.event_id));
  w.member("idempotency_key", std::string_view(idempotency_key(e.event_id, NotificationChannel::webhook)));
  w.member("item_id", std::string_view(e.item_id));
  w.member("item_kind", to_string(facts.kind));
  w.key("dossier_code");
  if (facts.dossier_code) {
    w.value(std::string_view(*facts.dossier_code));
  } else {
    w.null();
  }
  w.member("code", to_string(e.code));
  w.member("state", to_string(e.state_after));
  w.member("site", std::string_view(e.site));
  w.member("occurred_at", std::string_view(format_rfc3339(e.occurred_at)));
  w.member("received_at", std::string_view(format_rfc3339(e.received_at)));
  w.end_object();
  return w.take();
}

std::string signature_header(std::string_view secret, std::string_view body) {
  // The _init/_update/_final form takes a key of any length (the one-shot form wants exactly 32 bytes).
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return "sha256=" + to_hex(mac, sizeof mac);
}

std::chrono::milliseconds retry_delay(int attempts, double jitter) {
  const int doublings = std::clamp(attempts - 1, 0, 20);
  auto delay = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(1000LL << doublings), kMaxDelay);
  jitter = std::clamp(jitter, 0.0, 1.0);
  return delay + std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * jitter / 4));
}

// ------------------------------------------------------------------ FileSender

FileSender::FileSender(std::string path) : path_(std::move(path)) {}

SendResult FileSender::send(const Notification& n) {
  JsonWriter w;
  w.begin_object();
  w.member("to", std::string_view(n.recipient));
  w.member("channel", "sms");
  w.member("text", std::string_view(n.body));
  w.member("event_id", std::string_view(n.event_id));
  w.end_object();
  auto line = w.take();
  line.push_back('\n');

  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {false, "cannot open the messages file: " + std::string(std::strerror(errno))};
  // The file holds phone numbers: owner only, even when it existed with a wider mode.
  ::fchmod(fd, 0600);
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n_written = ::write(fd, line.data() + written, line.size() - written);
    if (n_written < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      return {false, "cannot write the messages file: " + why};
    }
    written += static_cast<std::size_t>(n_written);
  }
  // Marked delivered right after this returns: make the line durable first.
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return {false, "cannot sync the messages file"};
  return {true, {}};
}

std::optional<WebhookTarget> parse_webhook_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  WebhookTarget t;
  t.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  std::string_view port = "80";
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  if (std::stoi(std::string(port)) > 65535) return std::nullopt;
  t.host = std::string(host);
  t.port = std::string(port);
  return t;
}

// ------------------------------------------------------------------ Notifier

Notifier::Notifier(Storage& storage, std::map<NotificationChannel, std::unique_ptr<Sender>> senders)
    : storage_(storage), senders_(std::move(senders)), wake_(std::make_shared<Wake>()) {
  for (auto& [channel, sender] : senders_) {
    if (!sender) continue;
    threads_.emplace_back([this, channel = channel, s = sender.get()] { run(channel, *s); });
  }
}

Notifier::~Notifier() {
  stop();
}

std::function<void()> Notifier::waker() const {
  // Holds the shared state, not the Notifier: the storage may call it while closing, after we are gone.
  return [wake = wake_] {
    {
      std::lock_guard lock(wake->mutex);
      ++wake->generation;
    }
    wake->cv.notify_all();
  };
}

void Notifier::stop() {
  {
    std::lock_guard lock(wake_->mutex);
    wake_->stopping = true;
  }
  wake_->cv.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Notifier::run(NotificationChannel channel, Sender& sender) {
  const std::string name(to_string(channel));
  set_thread_name("dpost-" + name);  // dpost-citizen, dpost-webhook
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::lock_guard lock(wake_->mutex);
      if (wake_->stopping) return;
      seen = wake_->generation;
    }
    std::vector<Notification> due;
    try {
      due = storage_.due_notifications(channel, kBatch, now_millis());
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "notification_queue_unreadable", {{"channel", name}, {"error", e.what()}});
    }
    bool failed = false;
    for (const auto& n : due) {
      {
        std::lock_guard lock(wake_->mutex);
        if (wake_->stopping) return;
      }
      SendResult result;
      try {
        result = sender.send(n);
      } catch (const std::exception& e) {
        result = {false, e.what()};
      }
      NotificationMark mark;
      mark.delivered = result.ok;
      if (result.ok) {
        mark.at = now_millis();
      } else {
        const double jitter = static_cast<double>(randombytes_uniform(1000)) / 1000.0;
        mark.at = now_millis() + retry_delay(n.attempts + 1, jitter).count();
        mark.error = result.error;
        // The event id and row id only: the recipient is personal data.
        log_event(LogLevel::warn, "notification_failed",
                  {{"channel", name},
                   {"notification_id", static_cast<std::int64_t>(n.id)},
                   {"event_id", n.event_id},
                   {"attempt", n.attempts + 1},
                   {"error", result.error},
                   {"retry_in_ms", static_cast<std::int64_t>(mark.at - now_millis())}});
      }
      try {
        // Wait for the mark before anything else: the next poll must not see this row as still due.
        await_write<bool>([&](auto done) { storage_.mark_notification(n.id, mark, std::move(done)); });
      } catch (const std::exception& e) {
        // A delivered row left unmarked is sent again later: receivers de-duplicate by Idempotency-Key.
        log_event(LogLevel::error, "notification_mark_failed",
                  {{"channel", name}, {"notification_id", static_cast<std::int64_t>(n.id)}, {"error", e.what()}});
        failed = true;
        break;
      }
      if (!result.ok) {
        // One failed attempt per poll: a receiver that is down is not hammered with the whole queue.
        failed = true;
        break;
      }
    }
    if (!failed && due.size() == kBatch) continue;  // more may be due right now
    std::unique_lock lock(wake_->mutex);
    wake_->cv.wait_for(lock, kPollInterval, [&] { return wake_->stopping || wake_->generation != seen; });
  }
}

}  // namespace dpost::server
