#pragma once

#include <clock.hpp>

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpost::scanner {

// Where an event is in its life on the device. Rows are never deleted: the outbox is also the clerk's record.
enum class OutboxStatus {
  pending,  // recorded on the device, not yet sent
  sending,  // sent, answer not yet stored: re-sent on the next sync (the server answers "duplicate" if it had it)
  done,     // the server recorded it (now or earlier)
  refused,  // the server refused it (4xx for this event): kept with the reason, never retried
};
std::string_view to_string(OutboxStatus status);
std::optional<OutboxStatus> parse_outbox_status(std::string_view text);

struct OutboxEvent {
  std::int64_t seq = 0;
  std::string event_id;
  std::string item_id;
  std::string code;
  std::string payload;  // the scan exactly as sent to the server (JSON object)
  UnixMillis created_at = 0;
  OutboxStatus status = OutboxStatus::pending;
  int attempts = 0;
  std::string outcome;  // server outcome: recorded, duplicate, illegal_transition, ...
  int http_status = 0;  // per-event status from the batch answer
  std::string state;    // item state the server reported
  std::string message;  // refusal reason, or the last transport error
};

struct OutboxCounts {
  std::int64_t pending = 0;  // pending + sending: what still has to reach the server
  std::int64_t done = 0;
  std::int64_t refused = 0;
};

// The device's durable queue (SQLite, WAL, synchronous=FULL: a scan acknowledged to the clerk survives a power
// cut) and its configuration (server URL, device token, site). One connection per process; not thread-safe.
class Outbox {
 public:
  explicit Outbox(const std::string& path);

  // Stores a new event. `payload` must hold event_id, item_id and code.
  void add(const std::string& event_id, const std::string& item_id, const std::string& code,
           const std::string& payload);

  // Events still to send (pending and sending), oldest first.
  std::vector<OutboxEvent> unsent(std::size_t limit) const;
  std::vector<OutboxEvent> list(std::optional<OutboxStatus> status, std::size_t limit) const;
  std::optional<OutboxEvent> find(const std::string& event_id) const;
  OutboxCounts counts() const;

  // Before a batch goes out: marked so that a crash or a lost answer is visible and the batch is re-sent.
  void mark_sending(const std::vector<std::string>& event_ids);
  // The server's answer for one event.
  void mark_done(const std::string& event_id, const std::string& outcome, int http_status, const std::string& state);
  void mark_refused(const std::string& event_id, const std::string& outcome, int http_status, const std::string& state,
                    const std::string& message);
  // A transport failure or a retryable answer: stays to send, with the reason.
  void mark_retry(const std::vector<std::string>& event_ids, const std::string& message);

  std::optional<std::string> config(const std::string& key) const;
  void set_config(const std::string& key, const std::string& value);

  // SQLITE default location: $XDG_DATA_HOME/dossier-scanner/outbox.db, else ~/.local/share/dossier-scanner/outbox.db.
  static std::string default_path();

 private:
  mutable SQLite::Database db_;
};

}  // namespace dpost::scanner
