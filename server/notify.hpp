#pragma once

#include "storage.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// Notifications (issue 6): the texts and webhook bodies queued with an event, the senders, and the notifier
// thread that delivers queued rows with retries.
namespace dpost::server {

// The codes a citizen hears about (and the one-stop system gets a webhook for).
bool is_notified(EventCode code);

// What the storage knows when it queues notifications for a recorded event.
struct NotificationFacts {
  EventRecord event;  // the stored event (site_name filled)
  ItemKind kind = ItemKind::dossier;
  std::string procedure_name;
  std::optional<std::string> dossier_code;
  std::string tracking_token;
  std::string office_name;  // the dossier's one-stop office
  // RTS: the last failed attempt before the return, so the citizen is told why.
  struct Failure {
    std::optional<FailureReason> reason_code;
    std::optional<std::string> reason;
  };
  std::optional<Failure> last_failure;
};

// The SMS text (Vietnamese), e.g. "Dossier Post: Hồ sơ EH 000 000 014 VN (Cấp phiếu lý lịch tư pháp) đã được
// bưu điện nhận lúc 09:15 23/11/2026. Tra cứu: {base}/t/{token}". nullopt for codes that are not notified.
std::optional<std::string> citizen_text(const NotificationFacts& facts, std::string_view public_base_url);

// "{event_id}:webhook": stable across retries and restarts, sent as the Idempotency-Key header and in the body.
std::string idempotency_key(std::string_view event_id, NotificationChannel channel);

// The webhook's JSON body: the event without any personal data.
std::string webhook_body(const NotificationFacts& facts);

// "sha256=<hex HMAC-SHA256 of body keyed with secret>", the X-Dossier-Signature header.
std::string signature_header(std::string_view secret, std::string_view body);

// Delay before attempt `attempts + 1` after `attempts` failed ones: 1 s, 2 s, 4 s, ... capped at 5 min, plus
// up to a quarter more of jitter (`jitter` in [0, 1)) so that many rows failing together do not retry together.
std::chrono::milliseconds retry_delay(int attempts, double jitter);

struct SendResult {
  bool ok = false;
  std::string error;  // when not ok: short, no personal data (it is logged and stored)
};

// One way out for one channel. send() blocks; it runs on the notifier's thread for that channel.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual SendResult send(const Notification& notification) = 0;
};

// The SMS gateway stand-in: appends one JSON line per message to a file kept at mode 0600 (it holds phones):
// {"to": phone, "channel": "sms", "text": ..., "event_id": ...}.
class FileSender final : public Sender {
 public:
  explicit FileSender(std::string path);
  SendResult send(const Notification& notification) override;

 private:
  std::string path_;
};

struct WebhookTarget {
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" at least
};
// Parses "http://host[:port][/path]"; nullopt otherwise (https is not supported: see docs/operations.md).
std::optional<WebhookTarget> parse_webhook_url(std::string_view url);

// POSTs the body to the one-stop system over HTTP/1.1 with the signature and idempotency key; 2xx is
// delivered, anything else (status, refused connection, 5 s timeout) is retried. In notify_http.cpp (Beast).
std::unique_ptr<Sender> make_webhook_sender(WebhookTarget target, std::string secret);

// Polls the storage for due notifications and sends them: one thread per channel, so that a slow webhook
// never delays SMS. A row is marked (through the storage writer) before the next poll, so it is never sent
// again once its 2xx was recorded.
class Notifier {
 public:
  Notifier(Storage& storage, std::map<NotificationChannel, std::unique_ptr<Sender>> senders);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // A callable for NotificationConfig::on_queued: safe to call even after the Notifier is gone.
  std::function<void()> waker() const;
  // Stops the threads after their current attempt. Idempotent; must run before the storage closes.
  void stop();

 private:
  struct Wake {
    std::mutex mutex;
    std::condition_variable cv;
    bool stopping = false;
    std::uint64_t generation = 0;  // bumped by each wake-up, so a wake during a send is not lost
  };
  void run(NotificationChannel channel, Sender& sender);

  Storage& storage_;
  std::map<NotificationChannel, std::unique_ptr<Sender>> senders_;
  std::shared_ptr<Wake> wake_;
  std::vector<std::thread> threads_;
};

}  // namespace dpost::server
