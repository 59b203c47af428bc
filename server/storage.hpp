#pragma once

#include "calendar.hpp"
#include "clock.hpp"
#include "deadline.hpp"
#include "dossier.hpp"
#include "item_id.hpp"
#include "journey.hpp"
#include "report.hpp"

#include <boost/system/result.hpp>

#include <array>

#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <map>
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
  std::string serving_post_office;  // offices: the post office that carries their mail (may be empty)
  std::string province_code;        // mã tỉnh, as the leg limits file names provinces (may be empty)
  std::optional<Area> area;         // urban, rural, remote: which leg limit applies (none: rural)
};

struct User {
  std::int64_t id = 0;
  std::string username;
  Role role = Role::clerk;
  std::string site;  // site code; empty for an admin without a site
  std::string full_name;
  bool active = true;
  std::vector<std::string> scope;  // supervisors: further sites they read
};

// The authenticated caller of a request.
struct Actor {
  std::int64_t user_id = 0;
  std::string username;
  Role role = Role::clerk;
  std::string site;
  std::optional<std::int64_t> device_id;  // set when the bearer token is a scanner device token
  std::vector<std::string> scope;         // supervisors: further sites they read (their own site always)
  std::string address;                    // the client's address, for the audit log (set by the API)
};

// A scanner device: its token is issued once, for one user (and so one site), and can be revoked.
struct Device {
  std::int64_t id = 0;
  std::string name;
  std::string username;
  std::string site;
  UnixMillis created_at = 0;
  std::optional<UnixMillis> revoked_at;
  std::optional<std::array<unsigned char, 32>> public_key;  // Ed25519; scans from the device are signed with it
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
  std::optional<bool> seal_intact;             // confirmations (RCV, EMA)
  std::optional<HandoffIssue> issue;
  std::optional<std::int64_t> device_id;  // device-signed scans: the device, its counter and signature
  std::optional<std::int64_t> device_seq;
  std::optional<std::string> device_signature;  // raw 64 bytes
  std::optional<std::int64_t> ledger_index;     // the event's leaf in the ledger
  std::optional<FailureReason> reason_code;     // EMH (schema 0007)
  std::optional<FailureAction> action;          // EMH (schema 0007)
};

struct DossierInfo {
  std::int64_t id = 0;
  std::optional<std::string> dossier_code;
  std::string procedure_code;
  std::string procedure_name;
  std::optional<std::string> procedure_category;  // lĩnh vực: what public views show instead of the name
  Applicant applicant;                            // personal data
  std::string office;                             // site code
  std::string office_name;
  std::string origin_site;  // where it was registered
  ServiceOption service = ServiceOption::both;
  std::optional<std::string> due_date;
  std::optional<int> processing_days;
  UnixMillis created_at = 0;
  std::vector<ItemSummary> items;
  std::vector<DossierDocument> documents;
  std::optional<std::int64_t> fee_vnd;
  std::string created_by;  // username of the clerk or staff who registered it
};

// One post office on an item's route and why it is there.
struct RouteStop {
  std::string site;
  std::string role;  // origin, pickup, transit, delivery
};

// Who holds an item now (design.md section 3), derived from its state and last event.
struct Custody {
  std::string holder;  // "citizen", "post", "office"
  std::string site;    // where (empty while the citizen holds it)
  UnixMillis since = 0;
  // Handed over and not yet confirmed by the receiving side (two-party handoff): the item is in between.
  bool awaiting_confirmation = false;
  std::string awaiting_site;  // who must confirm
};

// Custody from the item's state and its last event (events ordered by occurrence).
Custody custody_of(ItemKind kind, ItemState state, const std::vector<EventRecord>& events, std::string_view origin_site,
                   std::string_view destination_site);

struct ItemView {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string origin_site;       // sender side (post office that accepted it, or the office for a result)
  std::string destination_site;  // the office for a dossier item; empty when the citizen is the recipient
  std::string tracking_token;    // the unguessable part of the QR URL
  std::string lookup_code;       // the second factor printed on the receipt
  UnixMillis created_at = 0;
  DossierInfo dossier;
  std::vector<EventRecord> events;  // ordered by occurred_at, then arrival
  std::vector<RouteStop> route;
  Custody custody;
};

// Public look-up: no personal data at all is loaded.
struct PublicEvent {
  EventCode code = EventCode::EMA;
  std::string event_id;
  std::string site;
  std::string site_name;
  UnixMillis occurred_at = 0;
  UnixMillis received_at = 0;
  // A failed attempt (EMH): what happens next is public (where to collect it, or that it is coming back);
  // why it failed is shown only in the citizen's own view. The free-text reason is never public.
  std::optional<FailureAction> action;
  std::optional<FailureReason> reason_code;
};
struct PublicItemView {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string procedure_category;  // public: the field of the procedure, never its exact name
  std::string procedure_name;      // only for the citizen's detailed view (QR token or second factor)
  std::string destination_name;    // the office for a dossier item
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
  invalid,             // a field is wrong or missing for this item, e.g. EMI of a result without recipient (422)
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

// Decides whether `actor` may record `scan` on the item. Returns an English reason when refused. The storage
// calls it inside the write transaction, against the item's current row and route.
struct ScanTarget {
  ItemKind kind;
  ItemState state;
  std::string origin_site;
  std::string destination_site;
  std::string office;              // the dossier's office
  std::vector<std::string> route;  // post offices on the item's route
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

// --- issue 5: audit log, handoffs, bags, ledger

// One line of the security audit log.
struct AuditEntry {
  std::int64_t id = 0;
  UnixMillis at = 0;
  std::optional<std::int64_t> user_id;
  std::string username;
  std::string role;
  std::string site;
  std::optional<std::int64_t> device_id;
  std::string address;
  std::string action;  // login, login_failed, denied, read_personal, device_signature, ...
  std::string target;  // item id, dossier number, bag id, username
  std::string target_site;
  std::string outcome;  // ok, denied, failed
  std::string detail;   // English sentence; never personal data
};
struct AuditQuery {
  std::vector<std::string> sites;  // empty: all sites (admins); else rows whose actor or target site is one
  std::optional<std::int64_t> before_id;
  std::string action;  // filter, empty: all
  std::string username;
  std::size_t limit = 100;
};

// An item handed over and not yet confirmed by the side that receives it.
struct PendingHandoff {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string from_site;  // who handed it over (the site of the last event)
  std::string to_site;    // who must confirm
  UnixMillis since = 0;
  std::optional<std::string> dossier_code;
};

// A confirmation that found something wrong, or a bag reconciliation with missing or extra items.
struct HandoffProblem {
  std::string item_id;
  std::string event_id;  // empty for a missing item
  std::string site;      // where it was found
  UnixMillis at = 0;
  std::string problem;  // an issue code (seal_broken, ...) or missing / extra
  std::optional<std::string> note;
  std::string bag_id;  // when found while reconciling a bag
  std::string recorded_by;
};

enum class BagState { open, dispatched, receiving, closed };
std::string_view to_string(BagState state);

struct BagItem {
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  bool expected = true;                // on the manifest
  std::optional<std::string> outcome;  // received, damaged, missing, extra
  std::optional<UnixMillis> scanned_at;
  std::optional<std::string> dossier_code;
  std::string procedure_name;
  std::optional<std::string> due_date;
};
// What a citizen asked from the tracking page (schema 0005): a new delivery attempt after a failed one, or a
// rating of a delivered result. `after_event` is the event it answers (EMH, EMI), set by the storage.
struct CitizenRequest {
  std::string item_id;
  std::string kind;  // "redelivery" or "rating"
  std::string after_event;
  std::optional<int> rating;
  std::optional<std::string> comment;
  std::optional<std::string> preferred_date;  // YYYY-MM-DD, redelivery only
  UnixMillis created_at = 0;
};

struct BagView {
  std::string bag_id;
  std::string origin_site;
  std::string destination_site;
  BagState state = BagState::open;
  UnixMillis created_at = 0;
  std::string created_by;
  std::optional<std::string> dispatch_event_id;
  std::optional<UnixMillis> dispatched_at;
  std::string dispatched_by;
  std::optional<UnixMillis> received_at;
  std::string received_by;
  std::optional<UnixMillis> closed_at;
  std::string closed_by;
  std::vector<BagItem> items;
};
// Answer to one item scanned out of a bag on arrival.
struct BagScanOutcome {
  ScanOutcome scan;     // the item's confirmation event (or the refusal)
  std::string outcome;  // received, damaged, extra
  BagView bag;
};

// One signed tree head of the ledger.
struct LedgerCheckpoint {
  std::uint64_t tree_size = 0;
  std::array<unsigned char, 32> root_hash{};
  UnixMillis created_at = 0;
  std::string key_id;
  std::string signature;  // raw 64 bytes
  std::string text;       // the signed text (signing::checkpoint_text)
};
// The proof that one event is in the ledger, and what its leaf commits to.
struct InclusionProof {
  std::string event_id;
  std::string item_id;
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  std::array<unsigned char, 32> leaf_hash{};
  std::vector<std::array<unsigned char, 32>> path;
  std::array<unsigned char, 32> root_hash{};
  std::string leaf_public;                              // the public part of the leaf's input (ledger.hpp)
  std::array<unsigned char, 32> personal_commitment{};  // salted hash of the personal part
  std::optional<LedgerCheckpoint> checkpoint;           // the signed head of that size, when one exists
};

// Handoff events of one site and day, for the handover slip (phiếu kiểm soát bàn giao).
struct HandoffRecord {
  EventRecord event;
  ItemKind kind = ItemKind::dossier;
  std::optional<std::string> dossier_code;
  std::string procedure_name;
  std::optional<std::string> due_date;
  std::string counterpart_site;  // the other side of the handoff
};

// What deadlines are computed from (deadline.hpp), with the rule set the dossier was received under.
struct DeadlineFacts {
  std::int64_t dossier_id = 0;
  std::int64_t rule_set_id = 0;
  DeadlineInput input;
};
// One stop of a dossier's clock (yêu cầu bổ sung hồ sơ).
struct DossierPause {
  std::int64_t dossier_id = 0;
  UnixMillis paused_at = 0;
  std::string reason;
  std::string paused_by;
  std::optional<UnixMillis> resumed_at;
  std::string resumed_by;
};
struct RuleSetTexts {
  std::string calendar;
  std::string leg_limits;
  std::string hash;
};

// What /metrics shows of the storage: the writer's queue and commit times, and the notifications not yet sent.
struct StorageStats {
  static constexpr std::array<double, 10> kCommitBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  std::size_t write_queue = 0;  // write jobs waiting for the writer thread
  std::uint64_t commits = 0;    // group commits that succeeded
  std::uint64_t failed_commits = 0;
  std::uint64_t jobs = 0;  // write jobs applied (a commit carries one or more)
  std::array<std::uint64_t, kCommitBuckets.size() + 1> commit_buckets{};  // per bucket, not cumulative; last +Inf
  double commit_seconds_sum = 0;
  struct Pending {
    std::int64_t count = 0;
    double oldest_age_seconds = 0;
  };
  std::map<std::string, Pending> notifications_pending;  // channel -> undelivered notifications
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
  // find_session's answer when it is known without reading the database (a cache), else nothing; never blocks.
  virtual std::optional<Actor> cached_session(std::string_view /*token*/, UnixMillis /*now*/) { return std::nullopt; }
  virtual std::optional<Site> find_site(std::string_view code) = 0;
  virtual std::vector<Site> list_sites() = 0;
  virtual std::vector<User> list_users() = 0;
  virtual std::optional<ItemView> find_item(const ItemId& id) = 0;
  virtual std::optional<PublicItemView> track_item(const ItemId& id) = 0;
  virtual std::optional<PublicItemView> track_token(std::string_view token) = 0;
  virtual std::optional<DossierInfo> find_dossier(std::int64_t id) = 0;
  virtual std::vector<Device> list_devices() = 0;
  // The device whose revoked token this is (so the caller can say so instead of a bare 401, and log which).
  virtual std::optional<Device> revoked_device(std::string_view token) = 0;
  // The routes of every item of a dossier (for the rules about who may read it).
  virtual std::vector<std::string> dossier_routes(std::int64_t dossier_id) = 0;
  virtual std::optional<std::int64_t> dossier_of_item(const ItemId& id) = 0;
  virtual std::optional<DeadlineFacts> deadline_facts(std::int64_t dossier_id) = 0;
  virtual std::vector<DossierPause> dossier_pauses(std::int64_t dossier_id) = 0;
  // A stored rule set by id; the current one (registered at open) by current_rule_set().
  virtual std::optional<RuleSetTexts> rule_set(std::int64_t id) = 0;
  virtual std::int64_t current_rule_set() = 0;
  virtual StorageStats stats() = 0;
  // The dossier with this one-stop dossier code (mã hồ sơ, printed on the receipt).
  virtual std::optional<std::int64_t> dossier_by_code(std::string_view dossier_code) = 0;
  virtual std::vector<CitizenRequest> citizen_requests(const ItemId& id) = 0;
  // Reports (report.hpp): every item that touches one of `sites` (route, office, sender, destination) and is
  // either still on its way or had an event since `since`, with its events in order of occurrence.
  virtual std::vector<ReportItem> report_items(const std::vector<std::string>& sites, UnixMillis since) = 0;
  // A redelivery request needs the item's last event to be a failed attempt (state attempt_failed); a rating, a
  // result delivered to the citizen. 409 `not_now` otherwise, `already_asked` for a second one; 404 unknown item.
  virtual void add_citizen_request(CitizenRequest request, Done<CitizenRequest> done) = 0;

  // --- audit log
  // Appends one entry; `done` runs when it is durable (readers of personal data wait for it: no log, no data).
  virtual void append_audit(AuditEntry entry, Done<bool> done) = 0;
  virtual std::vector<AuditEntry> list_audit(const AuditQuery& query) = 0;

  // --- two-party handoffs
  // Items handed to `site` (or by it) and not yet confirmed, oldest first.
  virtual std::vector<PendingHandoff> pending_handoffs(const std::vector<std::string>& sites) = 0;
  virtual std::vector<HandoffProblem> handoff_problems(const std::vector<std::string>& sites, UnixMillis since) = 0;
  // Handoff events (EMI of a dossier, RCV, RES, EMA of a result, bag dispatches) at or to `site` in [from, to).
  virtual std::vector<HandoffRecord> handoff_records(const std::string& site, UnixMillis from, UnixMillis to) = 0;
  // Adds a post office to an item's route (a clerk on the route sends it on; a supervisor re-routes it).
  virtual void add_route(Actor actor, ItemId item, std::string site, Done<bool> done) = 0;

  // --- bags
  virtual void create_bag(Actor actor, std::string destination, std::vector<ItemId> items, Done<BagView> done) = 0;
  virtual void add_to_bag(Actor actor, std::string bag_id, ItemId item, Done<BagView> done) = 0;
  virtual void remove_from_bag(Actor actor, std::string bag_id, ItemId item, Done<BagView> done) = 0;
  // One scan hands the whole bag over: an event for every item (EMI to an office, RES from an office, EDE
  // between post offices), all or none.
  virtual void dispatch_bag(Actor actor, std::string bag_id, std::string event_id, UnixMillis occurred_at,
                            Done<BagView> done) = 0;
  virtual void receive_bag(Actor actor, std::string bag_id, UnixMillis occurred_at, Done<BagView> done) = 0;
  // One item taken out of a received bag: its confirmation (RCV, EMA, EMG or EDD) with seal and issue.
  virtual void scan_bag_item(Actor actor, std::string bag_id, ScanRequest scan, Done<BagScanOutcome> done) = 0;
  // Ends the reconciliation: what was on the manifest and not scanned is missing.
  virtual void close_bag(Actor actor, std::string bag_id, Done<BagView> done) = 0;
  virtual std::optional<BagView> find_bag(std::string_view bag_id) = 0;
  virtual std::vector<BagView> list_bags(const std::vector<std::string>& sites, std::size_t limit) = 0;

  // --- ledger
  virtual std::optional<LedgerCheckpoint> latest_checkpoint() = 0;
  virtual std::vector<LedgerCheckpoint> list_checkpoints(std::size_t limit) = 0;
  // Signs a checkpoint of the current tree unless the latest one already covers it.
  virtual void checkpoint_now(Done<LedgerCheckpoint> done) = 0;
  // tree_size 0: the latest checkpoint's size (or the current tree when there is none).
  virtual std::optional<InclusionProof> inclusion_proof(std::string_view event_id, std::uint64_t tree_size) = 0;
  // Proof that the tree of `second` leaves extends the one of `first`; nullopt when a size is beyond the tree.
  virtual std::optional<std::vector<std::array<unsigned char, 32>>> consistency_proof(std::uint64_t first,
                                                                                      std::uint64_t second) = 0;
  virtual std::uint64_t ledger_size() = 0;
  virtual std::optional<std::array<unsigned char, 32>> ledger_root(std::uint64_t tree_size) = 0;
  virtual std::array<unsigned char, 32> ledger_public_key() = 0;

  // --- writes
  virtual void create_site(Site site, Done<Site> done) = 0;
  // Supervisors: the further sites they read.
  virtual void set_user_scope(std::string username, std::vector<std::string> sites, Done<User> done) = 0;
  // password_hash already hashed by the caller (Argon2id).
  virtual void create_user(User user, std::string password_hash, Done<User> done) = 0;
  virtual void create_session(std::int64_t user_id, UnixMillis ttl_ms, Done<SessionInfo> done) = 0;
  virtual void delete_session(std::string token, Done<bool> done) = 0;
  // Creates the dossier and its first item: a dossier item for "send"/"both", none for "receive" (the result
  // item is created later with create_result).
  virtual void create_dossier(Actor actor, NewDossierRequest request, Done<DossierCreated> done) = 0;
  // Stops a dossier's clock (409 already_paused) or starts it again (409 not_paused).
  virtual void pause_dossier(Actor actor, std::int64_t dossier_id, std::string reason, UnixMillis at,
                             Done<DossierPause> done) = 0;
  virtual void resume_dossier(Actor actor, std::int64_t dossier_id, UnixMillis at, Done<DossierPause> done) = 0;
  // `delivery_post_office`: where the result is delivered from; default the post office that registered the
  // dossier, else the one serving the office.
  virtual void create_result(Actor actor, std::int64_t dossier_id, std::optional<std::string> delivery_post_office,
                             Done<ItemSummary> done) = 0;
  // Applies the scans in order (the caller sorts a batch by occurrence); each gets its own outcome. Only
  // storage failure fails the whole call.
  // `clock_offset_ms`: server time minus the device's clock when it sent the request (batch "sent_at"),
  // recorded with each event so that device clocks can be judged; nullopt when unknown.
  virtual void record_scans(Actor actor, std::vector<ScanRequest> scans, std::optional<UnixMillis> clock_offset_ms,
                            Done<std::vector<ScanOutcome>> done) = 0;
  virtual void create_device(std::int64_t user_id, std::string name,
                             std::optional<std::array<unsigned char, 32>> public_key, Done<DeviceIssued> done) = 0;
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
  // Recomputes the event hash chain and the ledger (every leaf from its event, every node, every checkpoint's
  // root and signature); returns the problems found (empty: intact), each naming the row or leaf.
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
