#pragma once

#include "clock.hpp"
#include "dossier.hpp"
#include "item_id.hpp"
#include "journey.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace dpost::server {

enum class Role { clerk, office_staff, supervisor, admin };
std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);

enum class SiteKind { post_office, office };
std::string_view to_string(SiteKind kind);
std::optional<SiteKind> parse_site_kind(std::string_view text);

struct Site {
  std::string code;
  SiteKind kind = SiteKind::post_office;
  std::string name;
  std::string agency_id;  // offices: mã định danh (e.g. 000.00.01.H26); empty for post offices
  std::string address;
};

struct User {
  std::int64_t id = 0;
  std::string username;
  Role role = Role::clerk;
  std::string site;  // site code; empty for an admin without a site
  std::string full_name;
  bool active = true;
};

// The authenticated caller of a request.
struct Actor {
  std::int64_t user_id = 0;
  std::string username;
  Role role = Role::clerk;
  std::string site;
  std::optional<std::int64_t> device_id;  // set when the bearer token is a scanner device token
};

// A scanner device: its token is issued once, for one user (and so one site), and can be revoked.
struct Device {
  std::int64_t id = 0;
  std::string name;
  std::string username;
  std::string site;
  UnixMillis created_at = 0;
  std::optional<UnixMillis> revoked_at;
};
struct DeviceIssued {
  Device device;
  std::string token;  // shown once; only its SHA-256 is stored
};

struct ItemSummary {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
};

struct DossierCreated {
  std::int64_t id = 0;
  std::vector<ItemSummary> items;
};

struct EventRecord {
  std::string event_id;
  std::string item_id;
  EventCode code = EventCode::EMA;
  std::string site;  // site code
  std::string site_name;
  UnixMillis occurred_at = 0;
  UnixMillis received_at = 0;
  bool late = false;  // arrived after events that happened later than it
  std::optional<std::string> reason;
  std::optional<Recipient> recipient;  // personal data: staff views only
  std::string recorded_by;             // username
  std::optional<std::string> device;
  ItemState state_after = ItemState::created;  // the item's state right after this event was recorded
  std::optional<UnixMillis> clock_offset_ms;   // server clock minus device clock when the device sent it
};

struct DossierInfo {
  std::int64_t id = 0;
  std::optional<std::string> dossier_code;
  std::string procedure_code;
  std::string procedure_name;
  Applicant applicant;  // personal data
  std::string office;   // site code
  std::string office_name;
  std::string origin_site;  // where it was registered
  ServiceOption service = ServiceOption::both;
  std::optional<std::string> due_date;
  UnixMillis created_at = 0;
  std::vector<ItemSummary> items;
  std::vector<DossierDocument> documents;
  std::optional<std::int64_t> fee_vnd;
  std::string created_by;  // username of the clerk or staff who registered it
};

struct ItemView {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string origin_site;       // sender side (post office that accepted it, or the office for a result)
  std::string destination_site;  // the office for a dossier item; empty when the citizen is the recipient
  std::string tracking_token;    // the unguessable part of the QR URL
  UnixMillis created_at = 0;
  DossierInfo dossier;
  std::vector<EventRecord> events;  // ordered by occurred_at, then arrival
};

// Public look-up: no personal data at all is loaded.
struct PublicEvent {
  EventCode code = EventCode::EMA;
  std::string event_id;
  std::string site;
  std::string site_name;
  UnixMillis occurred_at = 0;
  UnixMillis received_at = 0;
};
struct PublicItemView {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string procedure_name;
  std::string destination_name;  // the office for a dossier item
  std::vector<PublicEvent> events;
};

// What happened to one scan.
enum class ScanStatus {
  recorded,            // new event stored (201)
  duplicate,           // same event_id seen before: stored answer, nothing new (200)
  illegal_transition,  // the transition table forbids it (409)
  event_id_conflict,   // event_id reused for a different scan (409)
  unknown_item,        // no such item (404)
  forbidden,           // caller may not record this event (403)
  invalid,             // a field is wrong for this item, e.g. EMI of a result without recipient (422)
};
struct ScanOutcome {
  ScanStatus status = ScanStatus::recorded;
  std::string event_id;
  std::optional<ItemSummary> item;   // current state of the item after the scan (when the item exists)
  std::optional<EventRecord> event;  // the stored event (recorded or duplicate)
  std::vector<EventCode> allowed;    // for illegal_transition: codes allowed in the current state
  std::string error_code;            // for refusals: stable snake_case code (e.g. "recipient_required")
  std::string message;               // for refusals: an English sentence
};

// Decides whether `actor` may record `scan` on the item (kind, origin, destination). Returns an English
// reason when refused. The storage calls it inside the write transaction, against the item's current row.
struct ScanTarget {
  ItemKind kind;
  ItemState state;
  std::string origin_site;
  std::string destination_site;
};
using ScanPolicy = std::function<std::optional<std::string>(const Actor&, const ScanRequest&, const ScanTarget&)>;

template <class T>
using Outcome = boost::system::result<T, std::exception_ptr>;
template <class T>
using Done = std::function<void(Outcome<T>)>;

struct SessionInfo {
  std::string token;  // returned to the client once; only its hash is stored
  UnixMillis expires_at = 0;
};

struct LoginRecord {
  User user;
  std::string password_hash;
};

// Notifications (issue 6). `citizen`: an SMS to the applicant; `webhook`: a signed POST to the one-stop system.
enum class NotificationChannel { citizen, webhook };
std::string_view to_string(NotificationChannel channel);

// One queued message. Rows are created by the storage in the same transaction as their event.
struct Notification {
  std::int64_t id = 0;
  std::string event_id;
  NotificationChannel channel = NotificationChannel::citizen;
  std::string recipient;  // citizen: the phone (personal data: never log it); webhook: empty
  std::string body;       // citizen: the text; webhook: the exact JSON bytes that get signed
  UnixMillis created_at = 0;
  int attempts = 0;
  UnixMillis next_attempt_at = 0;
};

// Which notifications the storage queues with each recorded event. Until configure_notifications is called
// none are (tools and the demo loader queue nothing).
struct NotificationConfig {
  bool citizen = false;
  bool webhook = false;
  std::string public_base_url;  // for the tracking link in citizen texts
  // Runs on the writer thread after a commit that queued notifications, so the notifier need not wait for
  // its next poll. Must be cheap and must not call back into the storage.
  std::function<void()> on_queued;
};

// The notifier's verdict on one attempt: delivered, or try again at `retry_at` after `error`.
struct NotificationMark {
  bool delivered = false;
  UnixMillis at = 0;  // delivered: when; otherwise: the next attempt
  std::string error;  // why the attempt failed (no personal data)
};

// The one storage interface the server uses. SQLite is the embedded implementation; a PostgreSQL one must
// pass the same tests. Reads are synchronous and safe from any thread. Writes are asynchronous: `done` runs
// once the change is durable (committed with fsync), or with the error that stopped it. Errors are
// ApiError (typed) in the exception_ptr: 404/409/422 for domain refusals, 503 when storage is unavailable.
class Storage {
 public:
  virtual ~Storage() = default;

  // --- reads
  virtual bool healthy() = 0;
  virtual std::optional<LoginRecord> find_login(std::string_view username) = 0;
  // A login session token or a device token (not revoked, of an active user).
  virtual std::optional<Actor> find_session(std::string_view token, UnixMillis now) = 0;
  virtual std::optional<Site> find_site(std::string_view code) = 0;
  virtual std::vector<Site> list_sites() = 0;
  virtual std::vector<User> list_users() = 0;
  virtual std::optional<ItemView> find_item(const ItemId& id) = 0;
  virtual std::optional<PublicItemView> track_item(const ItemId& id) = 0;
  virtual std::optional<PublicItemView> track_token(std::string_view token) = 0;
  virtual std::optional<DossierInfo> find_dossier(std::int64_t id) = 0;
  virtual std::vector<Device> list_devices() = 0;
  // True for the token of a device that was revoked (so the caller can say so instead of a bare 401).
  virtual bool is_revoked_device(std::string_view token) = 0;

  // --- writes
  virtual void create_site(Site site, Done<Site> done) = 0;
  // password_hash already hashed by the caller (Argon2id).
  virtual void create_user(User user, std::string password_hash, Done<User> done) = 0;
  virtual void create_session(std::int64_t user_id, UnixMillis ttl_ms, Done<SessionInfo> done) = 0;
  virtual void delete_session(std::string token, Done<bool> done) = 0;
  // Creates the dossier and its first item: a dossier item for "send"/"both", none for "receive" (the result
  // item is created later with create_result).
  virtual void create_dossier(Actor actor, NewDossierRequest request, Done<DossierCreated> done) = 0;
  virtual void create_result(Actor actor, std::int64_t dossier_id, Done<ItemSummary> done) = 0;
  // Applies the scans in order (the caller sorts a batch by occurrence); each gets its own outcome. Only
  // storage failure fails the whole call.
  // `clock_offset_ms`: server time minus the device's clock when it sent the request (batch "sent_at"),
  // recorded with each event so that device clocks can be judged; nullopt when unknown.
  virtual void record_scans(Actor actor, std::vector<ScanRequest> scans, std::optional<UnixMillis> clock_offset_ms,
                            Done<std::vector<ScanOutcome>> done) = 0;
  virtual void create_device(std::int64_t user_id, std::string name, Done<DeviceIssued> done) = 0;
  virtual void revoke_device(std::int64_t device_id, Done<bool> done) = 0;

  // --- notifications
  virtual void configure_notifications(NotificationConfig config) = 0;
  // Undelivered rows of `channel` due at `now`, oldest due first (a read).
  virtual std::vector<Notification> due_notifications(NotificationChannel channel, std::size_t limit,
                                                      UnixMillis now) = 0;
  // Records one attempt (attempts + 1): delivered, or the time of the next attempt. `done` gets false when
  // the row was already delivered (it is left as it is).
  virtual void mark_notification(std::int64_t id, NotificationMark mark, Done<bool> done) = 0;

  // --- operations
  // Recomputes the event hash chain; returns the problems found (empty: intact).
  virtual std::vector<std::string> verify() = 0;
  virtual void backup_to(const std::string& path) = 0;
  // Finishes queued writes, then stops the writer. Idempotent.
  virtual void close() = 0;
};

// Blocks until a write completes: for command-line tools and the demo loader, never on a server thread.
template <class T, class Start>
T await_write(Start&& start) {
  std::promise<Outcome<T>> promise;
  auto future = promise.get_future();
  start([&promise](Outcome<T> outcome) { promise.set_value(std::move(outcome)); });
  auto outcome = future.get();
  if (outcome.has_error()) std::rethrow_exception(outcome.error());
  return std::move(*outcome);
}

}  // namespace dpost::server
