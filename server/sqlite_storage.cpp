#include "sqlite_storage.hpp"
#include "access_log.hpp"

#include "api_error.hpp"
#include "auth.hpp"
#include "embedded_file.hpp"
#include "notify.hpp"
#include "session_cache.hpp"
#include "sqlite_conn.hpp"
#include "sqlite_ledger.hpp"
#include "sqlite_wal_buffer.hpp"
#include "sqlite_writer_settings.hpp"
#include "worker_pool.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

namespace dpost::server {

std::span<const dpost::EmbeddedFile> schema_files();  // generated from schema/*.sql

namespace {

using namespace sqlite;

constexpr std::size_t kTrackingTokenBytes = 16;  // 128 random bits in the QR URL
constexpr std::size_t kSessionTokenBytes = 32;
constexpr std::size_t kLookupCodeDigits = 6;
// What public tracking says of a procedure whose field (lĩnh vực) was not given.
constexpr std::string_view kDefaultProcedureCategory = "Thủ tục hành chính";

std::string_view service_indicator(ItemKind kind) {
  // VNPost gives public-administration (HCC) items E + letter indicators (reference/domain-research.md 1.7).
  switch (kind) {
    case ItemKind::dossier:
      return "EH";
    case ItemKind::result:
      return "EK";
    case ItemKind::return_item:
      return "ER";
  }
  return "EH";
}

// Process-wide SQLite settings, before its first use. Memory statistics (which nothing here reads) cost a global
// mutex on every allocation, shared by the I/O threads' look-ups and the writer. Too late (SQLite already
// initialised by someone else in this process) only loses the saving, so the result is not checked.
void configure_sqlite_library() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

int migration_version(std::string_view name) {
  int version = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
  if (ec != std::errc() || ptr == name.data()) {
    throw std::runtime_error("migration file name must start with its number: " + std::string(name));
  }
  return version;
}

void apply_migrations(SQLite::Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at INTEGER NOT NULL)");
  const int applied_max = db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
  int known_max = 0;
  for (const auto& file : schema_files()) known_max = std::max(known_max, migration_version(file.name));
  if (applied_max > known_max) {
    throw std::runtime_error("the database has schema version " + std::to_string(applied_max) +
                             ", newer than this program knows (" + std::to_string(known_max) +
                             "): use a newer dossier-server");
  }
  for (const auto& file : schema_files()) {
    const int version = migration_version(file.name);
    SQLite::Statement seen(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
    seen.bind(1, version);
    if (seen.executeStep()) continue;
    SQLite::Transaction tx(db);
    db.exec(std::string(file.text));
    SQLite::Statement mark(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    mark.bind(1, version);
    mark.bind(2, std::string(file.name));
    mark.bind(3, static_cast<std::int64_t>(now_millis()));
    mark.exec();
    tx.commit();
  }
}

// The text an event's chain hash covers: every stored fact of the row, in a fixed order. Unit separators
// cannot appear inside values (text fields are checked for control characters on the way in).
std::string canonical_event(const EventRecord& e) {
  std::string out;
  auto add = [&out](std::string_view v) {
    out.append(v);
    out.push_back('\x1f');
  };
  auto add_opt = [&](const std::optional<std::string>& v) { add(v ? "=" + *v : std::string("-")); };
  add(e.event_id);
  add(e.item_id);
  add(to_string(e.code));
  add(e.site);
  add(e.recorded_by);
  add_opt(e.device);
  add(std::to_string(e.occurred_at));
  add(std::to_string(e.received_at));
  add(e.late ? "1" : "0");
  add_opt(e.reason);
  if (e.recipient) {
    add("=" + e.recipient->name);
    add(e.recipient->id_checked ? "1" : "0");
    add_opt(e.recipient->relation);
  } else {
    add("-");
    add("-");
    add("-");
  }
  add(to_string(e.state_after));
  if (e.clock_offset_ms) add("offset=" + std::to_string(*e.clock_offset_ms));
  // Fields of schema 0004, appended only when present so that the chain of older rows stays as it was.
  if (e.seal_intact) add(*e.seal_intact ? "seal=intact" : "seal=broken");
  if (e.issue) add("issue=" + std::string(to_string(*e.issue)));
  if (e.device_id) add("device_id=" + std::to_string(*e.device_id));
  if (e.device_seq) add("seq=" + std::to_string(*e.device_seq));
  if (e.device_signature)
    add("signature=" +
        to_hex(reinterpret_cast<const unsigned char*>(e.device_signature->data()), e.device_signature->size()));
  // Fields of schema 0007, the same way.
  if (auto facts = delivery_facts_text(e.reason_code, e.action, e.recipient); !facts.empty()) add(facts);
  return out;
}

std::string chain_next(std::string_view previous, const EventRecord& e) {
  std::string data(previous);
  data += canonical_event(e);
  const auto digest = sha256(data);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string join_codes(const std::vector<EventCode>& codes) {
  std::string out;
  for (auto code : codes) {
    if (!out.empty()) out += ", ";
    out += to_string(code);
  }
  return out.empty() ? "none (the item's journey is complete)" : out;
}

// The columns read_event() reads, in its order; statements are cached by these pointers (Conn::stmt).
#define DPOST_EVENT_COLUMNS                                                                                   \
  "e.event_id, i.item_id, e.code, s.code, s.name, e.occurred_at, e.received_at, e.late, e.reason, "           \
  "e.recipient_name, e.recipient_id_checked, e.recipient_relation, COALESCE(u.username, ''), e.device, "      \
  "e.state_after, e.clock_offset_ms, e.seal_intact, e.issue, e.device_id, e.device_seq, e.device_signature, " \
  "e.reason_code, e.action, e.recipient_id_type, e.recipient_id_number_masked, e.authorization_number, "      \
  "e.authorization_date "
#define DPOST_EVENT_SELECT                                                  \
  "SELECT " DPOST_EVENT_COLUMNS                                             \
  ", l.seq FROM events e JOIN items i ON i.id = e.item_id "                 \
  "JOIN sites s ON s.id = e.site_id LEFT JOIN users u ON u.id = e.user_id " \
  "LEFT JOIN ledger_leaves l ON l.event_row = e.id "
constexpr const char* kEventsOfItem = DPOST_EVENT_SELECT "WHERE e.item_id = ? ORDER BY e.occurred_at, e.id";
constexpr const char* kEventById = DPOST_EVENT_SELECT "WHERE e.event_id = ?";
constexpr const char* kEventByRow = DPOST_EVENT_SELECT "WHERE e.id = ?";
// verify(): every row in id order, with dangling references kept visible (LEFT JOINs), and its leaf.
constexpr const char* kEventsForVerify =
    "SELECT e.id, " DPOST_EVENT_COLUMNS
    ", e.chain, l.seq, l.salt FROM events e "
    "LEFT JOIN items i ON i.id = e.item_id LEFT JOIN sites s ON s.id = e.site_id "
    "LEFT JOIN users u ON u.id = e.user_id LEFT JOIN ledger_leaves l ON l.event_row = e.id ORDER BY e.id";
#undef DPOST_EVENT_SELECT
#undef DPOST_EVENT_COLUMNS
constexpr int kEventColumns = 27;  // read_event() reads this many from `first`

EventRecord read_event(SQLite::Statement& q, int first = 0) {
  EventRecord e;
  e.event_id = q.getColumn(first + 0).getString();
  e.item_id = q.getColumn(first + 1).getString();
  e.code = parse_or_throw(parse_event_code(q.getColumn(first + 2).getText()), "event code");
  e.site = q.getColumn(first + 3).getString();
  e.site_name = q.getColumn(first + 4).getString();
  e.occurred_at = q.getColumn(first + 5).getInt64();
  e.received_at = q.getColumn(first + 6).getInt64();
  e.late = q.getColumn(first + 7).getInt() != 0;
  e.reason = opt_text(q.getColumn(first + 8));
  if (!q.getColumn(first + 9).isNull()) {
    Recipient r;
    r.name = q.getColumn(first + 9).getString();
    r.id_checked = q.getColumn(first + 10).getInt() != 0;
    r.relation = opt_text(q.getColumn(first + 11));
    e.recipient = std::move(r);
  }
  e.recorded_by = q.getColumn(first + 12).getString();
  e.device = opt_text(q.getColumn(first + 13));
  e.state_after = parse_or_throw(parse_item_state(q.getColumn(first + 14).getText()), "state");
  if (!q.getColumn(first + 15).isNull()) e.clock_offset_ms = q.getColumn(first + 15).getInt64();
  if (!q.getColumn(first + 16).isNull()) e.seal_intact = q.getColumn(first + 16).getInt() != 0;
  if (!q.getColumn(first + 17).isNull()) {
    e.issue = parse_or_throw(parse_handoff_issue(q.getColumn(first + 17).getText()), "issue");
  }
  if (!q.getColumn(first + 18).isNull()) e.device_id = q.getColumn(first + 18).getInt64();
  if (!q.getColumn(first + 19).isNull()) e.device_seq = q.getColumn(first + 19).getInt64();
  if (!q.getColumn(first + 20).isNull()) e.device_signature = blob(q.getColumn(first + 20));
  e.reason_code = opt_enum(q.getColumn(first + 21), parse_failure_reason, "reason_code");
  e.action = opt_enum(q.getColumn(first + 22), parse_failure_action, "action");
  if (e.recipient && !q.getColumn(first + 23).isNull()) {
    e.recipient->id_document =
        IdDocument{parse_or_throw(parse_id_document_type(q.getColumn(first + 23).getText()), "id type"),
                   q.getColumn(first + 24).getString()};
  }
  if (e.recipient && !q.getColumn(first + 25).isNull()) {
    e.recipient->authorization =
        Authorization{q.getColumn(first + 25).getString(), q.getColumn(first + 26).getString()};
  }
  return e;
}

// The statements built on DPOST_EVENT_SELECT end with the leaf index.
EventRecord read_event_with_leaf(SQLite::Statement& q) {
  auto e = read_event(q);
  if (!q.getColumn(kEventColumns).isNull()) e.ledger_index = q.getColumn(kEventColumns).getInt64();
  return e;
}

// The row of an item the writer needs to decide on a scan.
struct ItemRow {
  std::int64_t id = 0;
  std::string item_id;
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string origin_site;
  std::string destination_site;
  std::optional<UnixMillis> last_occurred_at;
  std::string office;  // the dossier's office
  std::int64_t dossier_id = 0;
  std::vector<std::string> route;
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(SqliteOptions options) : options_(std::move(options)) {
    configure_sqlite_library();
    if (options_.read_only) {
      // Tools: check the file is a database we know without changing it.
      Conn probe(options_.path, SQLite::OPEN_READONLY);
      probe.db().execAndGet("SELECT COUNT(*) FROM schema_migrations");
      return;
    }
    // The writer's WAL frames reach the kernel in one write per commit (sqlite_wal_buffer.hpp says how).
    writer_ = std::make_unique<Conn>(options_.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                     options_.buffer_wal_writes ? wal_buffer_vfs() : std::string());
    auto& db = writer_->db();
    apply_writer_settings(db);  // WAL, synchronous=FULL, checkpoints, no spill (sqlite_writer_settings.cpp)
    apply_migrations(db);
    ledger_key_ = load_or_create_ledger_key(options_.ledger_key_path.empty() ? options_.path + ".ledger-key"
                                                                             : options_.ledger_key_path);
    {
      // Events from before the ledger (schema < 0004) join it in their order, then the tree is signed.
      SQLite::Transaction tx(db);
      ledger_register_key(*writer_, ledger_key_);
      const auto added = ledger_backfill(*writer_, [this](std::int64_t row) {
        Query q(*writer_, kEventByRow);
        q->bind(1, row);
        if (!q->executeStep()) throw std::runtime_error("event row vanished during the ledger backfill");
        return read_event(*q);
      });
      if (added > 0) ledger_sign_checkpoint(*writer_, ledger_key_, now_millis());
      tx.commit();
    }
    register_rules(db);
    writer_thread_ = std::thread([this] {
      set_thread_name("dpost-writer");
      writer_loop();
    });
  }

  ~SqliteStorage() override { close(); }

  // ------------------------------------------------------------------ reads

  bool healthy() override {
    try {
      auto conn = lease();
      Query q(*conn, "SELECT 1");
      return q->executeStep();
    } catch (const std::exception&) {
      return false;
    }
  }

  std::optional<LoginRecord> find_login(std::string_view username) override {
    auto conn = lease();
    Query q(*conn,
            "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), u.full_name, u.active, u.password_hash "
            "FROM users u LEFT JOIN sites s ON s.id = u.site_id WHERE u.username = ?");
    q->bind(1, std::string(username));
    if (!q->executeStep()) return std::nullopt;
    LoginRecord r;
    r.user = read_user(*q);
    r.password_hash = q->getColumn(6).getString();
    return r;
  }

  std::optional<Actor> cached_session(std::string_view token, UnixMillis now) override {
    const auto hash = sha256(token);
    return sessions_.find(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()), now);
  }

  std::optional<Actor> find_session(std::string_view token, UnixMillis now) override {
    const auto hash = sha256(token);
    const std::string key(reinterpret_cast<const char*>(hash.data()), hash.size());
    if (auto cached = sessions_.find(key, now)) return cached;
    // Taken before the read transaction opens (session_cache.hpp says why).
    const auto generation = sessions_.generation();
    auto conn = lease();
    Query q(*conn,
            "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), x.expires_at FROM sessions x "
            "JOIN users u ON u.id = x.user_id LEFT JOIN sites s ON s.id = u.site_id "
            "WHERE x.token_hash = ? AND x.expires_at > ? AND u.active = 1");
    q->bind(1, hash.data(), static_cast<int>(hash.size()));
    q->bind(2, static_cast<std::int64_t>(now));
    if (q->executeStep()) {
      auto a = read_actor(*q);
      const UnixMillis expires_at = q->getColumn(4).getInt64();
      a.scope = load_scope(*conn, a.user_id);
      sessions_.store(key, {a, expires_at}, generation, now);
      return a;
    }
    // Not a login session: perhaps a scanner's device token (valid until revoked).
    Query d(
        *conn,
        "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), x.id FROM devices x JOIN users u ON u.id = x.user_id "
        "LEFT JOIN sites s ON s.id = u.site_id WHERE x.token_hash = ? AND x.revoked_at IS NULL AND u.active = 1");
    d->bind(1, hash.data(), static_cast<int>(hash.size()));
    if (!d->executeStep()) return std::nullopt;
    auto a = read_actor(*d);
    a.device_id = d->getColumn(4).getInt64();
    a.scope = load_scope(*conn, a.user_id);
    sessions_.store(key, {a, std::nullopt}, generation, now);
    return a;
  }

  std::optional<Device> revoked_device(std::string_view token) override {
    const auto hash = sha256(token);
    auto conn = lease();
    Query q(*conn, "SELECT id FROM devices WHERE token_hash = ? AND revoked_at IS NOT NULL");
    q->bind(1, hash.data(), static_cast<int>(hash.size()));
    if (!q->executeStep()) return std::nullopt;
    return load_device(*conn, q->getColumn(0).getInt64());
  }

  std::vector<Device> list_devices() override {
    auto conn = lease();
    std::vector<std::int64_t> ids;
    {
      Query q(*conn, "SELECT id FROM devices ORDER BY id");
      while (q->executeStep()) ids.push_back(q->getColumn(0).getInt64());
    }
    std::vector<Device> out;
    for (auto id : ids) {
      if (auto d = load_device(*conn, id)) out.push_back(std::move(*d));
    }
    return out;
  }

  std::optional<Site> find_site(std::string_view code) override {
    auto conn = lease();
    Query q(*conn,
            "SELECT s.code, s.kind, s.name, s.agency_id, s.address, COALESCE(p.code, ''), s.province_code, s.area "
            "FROM sites s "
            "LEFT JOIN sites p ON p.id = s.serving_post_office_id WHERE s.code = ?");
    q->bind(1, std::string(code));
    if (!q->executeStep()) return std::nullopt;
    return read_site(*q);
  }

  std::vector<Site> list_sites() override {
    auto conn = lease();
    Query q(*conn,
            "SELECT s.code, s.kind, s.name, s.agency_id, s.address, COALESCE(p.code, ''), s.province_code, s.area "
            "FROM sites s "
            "LEFT JOIN sites p ON p.id = s.serving_post_office_id ORDER BY s.code");
    std::vector<Site> out;
    while (q->executeStep()) out.push_back(read_site(*q));
    return out;
  }

  std::vector<User> list_users() override {
    auto conn = lease();
    Query q(*conn,
            "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), u.full_name, u.active FROM users u "
            "LEFT JOIN sites s ON s.id = u.site_id ORDER BY u.username");
    std::vector<User> out;
    while (q->executeStep()) out.push_back(read_user(*q));
    q->reset();
    for (auto& u : out) u.scope = load_scope(*conn, u.id);
    return out;
  }

  std::optional<ItemView> find_item(const ItemId& id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    ItemView v;
    std::int64_t row_id = 0;
    std::int64_t dossier_id = 0;
    {
      Query q(*conn,
              "SELECT i.id, i.item_id, i.kind, i.state, os.code, COALESCE(ds.code, ''), i.tracking_token, "
              "i.created_at, i.dossier_id, COALESCE(i.lookup_code, '') FROM items i "
              "JOIN sites os ON os.id = i.origin_site_id "
              "LEFT JOIN sites ds ON ds.id = i.destination_site_id WHERE i.item_id = ?");
      q->bind(1, id.str());
      if (!q->executeStep()) return std::nullopt;
      row_id = q->getColumn(0).getInt64();
      v.item_id = q->getColumn(1).getString();
      v.kind = parse_or_throw(parse_item_kind(q->getColumn(2).getText()), "kind");
      v.state = parse_or_throw(parse_item_state(q->getColumn(3).getText()), "state");
      v.origin_site = q->getColumn(4).getString();
      v.destination_site = q->getColumn(5).getString();
      v.tracking_token = q->getColumn(6).getString();
      v.created_at = q->getColumn(7).getInt64();
      dossier_id = q->getColumn(8).getInt64();
      v.lookup_code = q->getColumn(9).getString();
    }
    auto dossier = load_dossier(*conn, dossier_id);
    if (dossier) v.dossier = std::move(*dossier);
    {
      Query e(*conn, kEventsOfItem);
      e->bind(1, row_id);
      while (e->executeStep()) v.events.push_back(read_event_with_leaf(*e));
    }
    v.route = load_route(*conn, row_id);
    v.custody = custody_of(v.kind, v.state, v.events, v.origin_site, v.destination_site);
    if (v.custody.awaiting_confirmation && v.custody.awaiting_site.empty()) {
      for (const auto& stop : v.route) {
        if (stop.role == "pickup") v.custody.awaiting_site = stop.site;
      }
    }
    return v;
  }

  std::optional<PublicItemView> track_item(const ItemId& id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    Query q(*conn,
            "SELECT i.id, i.item_id, i.kind, i.state, d.procedure_name, os.name, d.procedure_category FROM items i "
            "JOIN dossiers d ON d.id = i.dossier_id JOIN sites os ON os.id = d.office_site_id WHERE i.item_id = ?");
    q->bind(1, id.str());
    return read_public(*conn, *q);
  }

  std::optional<PublicItemView> track_token(std::string_view token) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    Query q(*conn,
            "SELECT i.id, i.item_id, i.kind, i.state, d.procedure_name, os.name, d.procedure_category FROM items i "
            "JOIN dossiers d ON d.id = i.dossier_id JOIN sites os ON os.id = d.office_site_id "
            "WHERE i.tracking_token = ?");
    q->bind(1, std::string(token));
    return read_public(*conn, *q);
  }

  std::optional<DossierInfo> find_dossier(std::int64_t id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    return load_dossier(*conn, id);
  }

  // ------------------------------------------------------------------ writes

  void create_site(Site site, Done<Site> done) override {
    submit<Site>(
        [site = std::move(site)](Conn& c) {
          std::optional<std::int64_t> serving;
          if (!site.serving_post_office.empty()) {
            auto po = site_row_with_kind(c, site.serving_post_office);
            if (!po || po->second != SiteKind::post_office) {
              throw unprocessable("unknown_post_office",
                                  "There is no post office with code " + site.serving_post_office + ".");
            }
            serving = po->first;
          }
          // Codes are typed by hand at counters: "bc-hn01" beside "BC-HN01" would be two sites to the system and
          // one to every clerk.
          {
            Query same(c, "SELECT code FROM sites WHERE upper(code) = upper(?)");
            same->bind(1, site.code);
            if (same->executeStep()) {
              throw conflict("site_exists", "A site with code " + same->getColumn(0).getString() + " already exists.");
            }
          }
          Query q(c,
                  "INSERT INTO sites (code, kind, name, agency_id, address, created_at, serving_post_office_id, "
                  "province_code, area) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
          q->bind(1, site.code);
          q->bind(2, std::string(to_string(site.kind)));
          q->bind(3, site.name);
          q->bind(4, site.agency_id);
          q->bind(5, site.address);
          q->bind(6, static_cast<std::int64_t>(now_millis()));
          if (serving) {
            q->bind(7, *serving);
          } else {
            q->bind(7);
          }
          q->bind(8, site.province_code);
          if (site.area) {
            q->bind(9, std::string(to_string(*site.area)));
          } else {
            q->bind(9);
          }
          try {
            q->exec();
          } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_CONSTRAINT) {
              throw conflict("site_exists", "A site with code " + site.code + " already exists.");
            }
            throw;
          }
          return site;
        },
        std::move(done));
  }

  void create_user(User user, std::string password_hash, Done<User> done) override {
    submit<User>(
        [user = std::move(user), password_hash = std::move(password_hash)](Conn& c) mutable {
          std::optional<std::int64_t> site_id;
          if (!user.site.empty()) {
            site_id = site_row(c, user.site);
            if (!site_id) throw unprocessable("unknown_site", "There is no site with code " + user.site + ".");
          }
          // "CLERK1" beside "clerk1" would read as one person in the audit log: names differ in more than case.
          {
            Query same(c, "SELECT username FROM users WHERE lower(username) = lower(?)");
            same->bind(1, user.username);
            if (same->executeStep()) {
              throw conflict("user_exists", "A user named " + same->getColumn(0).getString() + " already exists.");
            }
          }
          Query q(c,
                  "INSERT INTO users (username, password_hash, role, site_id, full_name, active, created_at) "
                  "VALUES (?, ?, ?, ?, ?, 1, ?)");
          q->bind(1, user.username);
          q->bind(2, password_hash);
          q->bind(3, std::string(to_string(user.role)));
          if (site_id) {
            q->bind(4, *site_id);
          } else {
            q->bind(4);
          }
          q->bind(5, user.full_name);
          q->bind(6, static_cast<std::int64_t>(now_millis()));
          try {
            q->exec();
          } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_CONSTRAINT) {
              throw conflict("user_exists", "A user named " + user.username + " already exists.");
            }
            throw;
          }
          user.id = c.db().getLastInsertRowid();
          user.active = true;
          return user;
        },
        std::move(done));
  }

  void create_session(std::int64_t user_id, UnixMillis ttl_ms, Done<SessionInfo> done) override {
    submit<SessionInfo>(
        [user_id, ttl_ms](Conn& c) {
          const UnixMillis now = now_millis();
          {
            // Sessions are not history: expired ones are simply dropped.
            Query purge(c, "DELETE FROM sessions WHERE expires_at <= ?");
            purge->bind(1, static_cast<std::int64_t>(now));
            purge->exec();
          }
          SessionInfo s;
          s.token = random_token(kSessionTokenBytes);
          s.expires_at = now + ttl_ms;
          const auto hash = sha256(s.token);
          Query q(c, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)");
          q->bind(1, hash.data(), static_cast<int>(hash.size()));
          q->bind(2, user_id);
          q->bind(3, static_cast<std::int64_t>(now));
          q->bind(4, static_cast<std::int64_t>(s.expires_at));
          q->exec();
          return s;
        },
        std::move(done));
  }

  void delete_session(std::string token, Done<bool> done) override {
    submit<bool>(
        [this, token = std::move(token)](Conn& c) {
          auth_changed_ = true;
          const auto hash = sha256(token);
          Query q(c, "DELETE FROM sessions WHERE token_hash = ?");
          q->bind(1, hash.data(), static_cast<int>(hash.size()));
          return q->exec() > 0;
        },
        std::move(done));
  }

  void pause_dossier(Actor actor, std::int64_t dossier_id, std::string reason, UnixMillis at,
                     Done<DossierPause> done) override {
    submit<DossierPause>(
        [actor = std::move(actor), dossier_id, reason = std::move(reason), at](Conn& c) {
          if (!dossier_exists(c, dossier_id))
            throw not_found("There is no dossier " + std::to_string(dossier_id) + ".");
          Query q(c, "INSERT INTO dossier_pauses (dossier_id, paused_at, reason, paused_by) VALUES (?, ?, ?, ?)");
          q->bind(1, dossier_id);
          q->bind(2, static_cast<std::int64_t>(at));
          q->bind(3, reason);
          q->bind(4, actor.user_id);
          try {
            q->exec();
          } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_CONSTRAINT) {
              throw conflict("already_paused", "The dossier's clock is already stopped for a supplement.");
            }
            throw;
          }
          return read_pauses(c, dossier_id).back();
        },
        std::move(done));
  }

  void resume_dossier(Actor actor, std::int64_t dossier_id, UnixMillis at, Done<DossierPause> done) override {
    submit<DossierPause>(
        [actor = std::move(actor), dossier_id, at](Conn& c) {
          if (!dossier_exists(c, dossier_id))
            throw not_found("There is no dossier " + std::to_string(dossier_id) + ".");
          Query q(c,
                  "UPDATE dossier_pauses SET resumed_at = MAX(paused_at, ?), resumed_by = ? "
                  "WHERE dossier_id = ? AND resumed_at IS NULL");
          q->bind(1, static_cast<std::int64_t>(at));
          q->bind(2, actor.user_id);
          q->bind(3, dossier_id);
          if (q->exec() == 0)
            throw conflict("not_paused", "The dossier's clock is running: there is nothing to resume.");
          return read_pauses(c, dossier_id).back();
        },
        std::move(done));
  }

  void create_dossier(Actor actor, NewDossierRequest request, Done<DossierCreated> done) override {
    submit<DossierCreated>(
        [actor = std::move(actor), request = std::move(request), rule_set_id = rule_set_id_](Conn& c) {
          const auto office = site_row_with_kind(c, request.office);
          if (!office || office->second != SiteKind::office) {
            throw unprocessable("unknown_office", "There is no one-stop office with code " + request.office + ".");
          }
          const auto origin = site_row(c, actor.site);
          if (!origin) throw forbidden("Your account is not bound to a site, so it cannot register dossiers.");
          const UnixMillis now = now_millis();
          Query q(c,
                  "INSERT INTO dossiers (dossier_code, procedure_code, procedure_name, applicant_name, "
                  "applicant_phone, applicant_address, applicant_id_number, office_site_id, origin_site_id, service, "
                  "due_date, created_by, created_at, fee_vnd, procedure_category, rule_set_id, processing_days) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          bind_opt(*q, 1, request.dossier_code);
          q->bind(2, request.procedure_code);
          q->bind(3, request.procedure_name);
          q->bind(4, request.applicant.name);
          q->bind(5, request.applicant.phone);
          q->bind(6, request.applicant.address);
          q->bind(7, request.applicant.id_number);
          q->bind(8, office->first);
          q->bind(9, *origin);
          q->bind(10, std::string(to_string(request.service)));
          bind_opt(*q, 11, request.due_date);
          q->bind(12, actor.user_id);
          q->bind(13, static_cast<std::int64_t>(now));
          if (request.fee_vnd) {
            q->bind(14, static_cast<std::int64_t>(*request.fee_vnd));
          } else {
            q->bind(14);
          }
          bind_opt(*q, 15, request.procedure_category);
          q->bind(16, rule_set_id);
          if (request.processing_days) {
            q->bind(17, *request.processing_days);
          } else {
            q->bind(17);
          }
          try {
            q->exec();
          } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_CONSTRAINT) {
              throw conflict("duplicate_dossier_code",
                             "A dossier with code " + request.dossier_code.value_or("") + " is already registered.");
            }
            throw;
          }
          DossierCreated out;
          out.id = c.db().getLastInsertRowid();
          for (std::size_t i = 0; i < request.documents.size(); ++i) {
            const auto& doc = request.documents[i];
            Query d(c,
                    "INSERT INTO dossier_documents (dossier_id, position, name, kind, count) VALUES (?, ?, ?, ?, ?)");
            d->bind(1, out.id);
            d->bind(2, static_cast<std::int64_t>(i));
            d->bind(3, doc.name);
            d->bind(4, std::string(to_string(doc.kind)));
            d->bind(5, doc.count);
            d->exec();
          }
          if (request.service != ServiceOption::receive) {
            // Accepted at the clerk's post office, delivered to the office from the post office serving it.
            std::vector<std::pair<std::int64_t, std::string>> route;
            if (is_post_office(c, *origin)) route.emplace_back(*origin, "origin");
            if (auto serving = serving_post_office(c, office->first)) route.emplace_back(*serving, "delivery");
            out.items.push_back(insert_item(c, out.id, ItemKind::dossier, *origin, office->first, now, route));
          }
          return out;
        },
        std::move(done));
  }

  void create_result(Actor actor, std::int64_t dossier_id, std::optional<std::string> delivery_post_office,
                     Done<ItemSummary> done) override {
    submit<ItemSummary>(
        [actor = std::move(actor), dossier_id, delivery_post_office = std::move(delivery_post_office)](Conn& c) {
          std::int64_t office_id = 0;
          std::int64_t origin_id = 0;
          std::string service;
          {
            Query q(c, "SELECT office_site_id, service, origin_site_id FROM dossiers WHERE id = ?");
            q->bind(1, dossier_id);
            if (!q->executeStep()) throw not_found("There is no dossier " + std::to_string(dossier_id) + ".");
            office_id = q->getColumn(0).getInt64();
            service = q->getColumn(1).getString();
            origin_id = q->getColumn(2).getInt64();
          }
          if (service == "send") {
            throw conflict("result_not_by_post",
                           "The citizen chose to collect this result in person (service \"send\"): no result item.");
          }
          {
            Query q(c, "SELECT item_id, state FROM items WHERE dossier_id = ? AND kind = 'result'");
            q->bind(1, dossier_id);
            while (q->executeStep()) {
              if (q->getColumn(1).getString() != to_string(ItemState::returned)) {
                throw conflict("result_exists", "This dossier already has result item " + q->getColumn(0).getString() +
                                                    ": create a new one only after it came back.");
              }
            }
          }
          // Picked up at the office by the post office serving it; delivered from the post office that took the
          // dossier in (it serves the citizen's area), unless the office names another one.
          std::vector<std::pair<std::int64_t, std::string>> route;
          const auto serving = serving_post_office(c, office_id);
          if (serving) route.emplace_back(*serving, "pickup");
          std::optional<std::int64_t> delivery;
          if (delivery_post_office) {
            auto site = site_row_with_kind(c, *delivery_post_office);
            if (!site || site->second != SiteKind::post_office) {
              throw unprocessable("unknown_post_office",
                                  "There is no post office with code " + *delivery_post_office + ".");
            }
            delivery = site->first;
          } else if (is_post_office(c, origin_id)) {
            delivery = origin_id;
          } else {
            delivery = serving;
          }
          if (delivery && delivery != serving) route.emplace_back(*delivery, "delivery");
          return insert_item(c, dossier_id, ItemKind::result, office_id, std::nullopt, now_millis(), route);
        },
        std::move(done));
  }

  void record_scans(Actor actor, std::vector<ScanRequest> scans, std::optional<UnixMillis> clock_offset_ms,
                    Done<std::vector<ScanOutcome>> done) override {
    submit<std::vector<ScanOutcome>>(
        [this, actor = std::move(actor), scans = std::move(scans), clock_offset_ms](Conn& c) {
          std::vector<ScanOutcome> out;
          out.reserve(scans.size());
          const UnixMillis now = now_millis();
          for (const auto& scan : scans) out.push_back(apply_scan(c, actor, scan, now, clock_offset_ms));
          return out;
        },
        std::move(done));
  }

  void create_device(std::int64_t user_id, std::string name, std::optional<std::array<unsigned char, 32>> public_key,
                     Done<DeviceIssued> done) override {
    submit<DeviceIssued>(
        [user_id, name = std::move(name), public_key](Conn& c) {
          DeviceIssued issued;
          issued.token = random_token(kSessionTokenBytes);
          const auto hash = sha256(issued.token);
          const UnixMillis now = now_millis();
          {
            Query q(c,
                    "INSERT INTO devices (name, user_id, token_hash, created_at, public_key) VALUES (?, ?, ?, ?, ?)");
            q->bind(1, name);
            q->bind(2, user_id);
            q->bind(3, hash.data(), static_cast<int>(hash.size()));
            q->bind(4, static_cast<std::int64_t>(now));
            if (public_key) {
              q->bind(5, public_key->data(), static_cast<int>(public_key->size()));
            } else {
              q->bind(5);
            }
            q->exec();
          }
          auto device = load_device(c, c.db().getLastInsertRowid());
          if (!device) throw std::runtime_error("device vanished after insert");
          issued.device = std::move(*device);
          return issued;
        },
        std::move(done));
  }

  void revoke_device(std::int64_t device_id, Done<bool> done) override {
    submit<bool>(
        [this, device_id](Conn& c) {
          auth_changed_ = true;
          Query q(c, "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
          q->bind(1, static_cast<std::int64_t>(now_millis()));
          q->bind(2, device_id);
          return q->exec() > 0;
        },
        std::move(done));
  }

  // ------------------------------------------------------------------ who may read a dossier

  std::vector<std::string> dossier_routes(std::int64_t dossier_id) override {
    auto conn = lease();
    Query q(
        *conn,
        "SELECT DISTINCT s.code FROM items i JOIN item_route r ON r.item_id = i.id JOIN sites s ON s.id = r.site_id "
        "WHERE i.dossier_id = ? ORDER BY s.code");
    q->bind(1, dossier_id);
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  }

  std::optional<std::int64_t> dossier_of_item(const ItemId& id) override {
    auto conn = lease();
    Query q(*conn, "SELECT dossier_id FROM items WHERE item_id = ?");
    q->bind(1, id.str());
    if (!q->executeStep()) return std::nullopt;
    return q->getColumn(0).getInt64();
  }

  std::optional<std::int64_t> dossier_by_code(std::string_view dossier_code) override {
    auto conn = lease();
    Query q(*conn, "SELECT id FROM dossiers WHERE dossier_code = ?");
    q->bind(1, std::string(dossier_code));
    if (!q->executeStep()) return std::nullopt;
    return q->getColumn(0).getInt64();
  }

  std::optional<DeadlineFacts> deadline_facts(std::int64_t dossier_id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    DeadlineFacts f;
    {
      Query q(*conn,
              "SELECT d.id, COALESCE(d.rule_set_id, 0), d.service, d.due_date, d.processing_days, d.created_at, "
              "g.province_code, g.area FROM dossiers d JOIN sites g ON g.id = d.origin_site_id WHERE d.id = ?");
      q->bind(1, dossier_id);
      if (!q->executeStep()) return std::nullopt;
      f.dossier_id = q->getColumn(0).getInt64();
      f.rule_set_id = q->getColumn(1).getInt64();
      if (f.rule_set_id == 0) f.rule_set_id = rule_set_id_;
      f.input.service = parse_or_throw(parse_service_option(q->getColumn(2).getText()), "service");
      f.input.due_date = opt_text(q->getColumn(3));
      if (!q->getColumn(4).isNull()) f.input.processing_days = q->getColumn(4).getInt();
      f.input.created_at = q->getColumn(5).getInt64();
      f.input.province = q->getColumn(6).getString();
      if (!q->getColumn(7).isNull()) f.input.area = parse_area(q->getColumn(7).getText());
    }
    for (const auto& p : read_pauses(*conn, dossier_id)) f.input.pauses.push_back({p.paused_at, p.resumed_at});
    Query items(*conn, "SELECT id, item_id, kind FROM items WHERE dossier_id = ? ORDER BY id");
    items->bind(1, dossier_id);
    while (items->executeStep()) {
      DeadlineItem item;
      item.item_id = items->getColumn(1).getString();
      item.kind = parse_or_throw(parse_item_kind(items->getColumn(2).getText()), "kind");
      Query ev(*conn, "SELECT code, occurred_at FROM events WHERE item_id = ? ORDER BY occurred_at, id");
      ev->bind(1, items->getColumn(0).getInt64());
      while (ev->executeStep()) {
        item.events.push_back(
            {parse_or_throw(parse_event_code(ev->getColumn(0).getText()), "event code"), ev->getColumn(1).getInt64()});
      }
      f.input.items.push_back(std::move(item));
    }
    return f;
  }

  std::vector<DossierPause> dossier_pauses(std::int64_t dossier_id) override {
    auto conn = lease();
    return read_pauses(*conn, dossier_id);
  }

  std::optional<RuleSetTexts> rule_set(std::int64_t id) override {
    auto conn = lease();
    Query q(*conn, "SELECT calendar, leg_limits, hash FROM rule_sets WHERE id = ?");
    q->bind(1, id);
    if (!q->executeStep()) return std::nullopt;
    return RuleSetTexts{q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getString()};
  }

  std::int64_t current_rule_set() override { return rule_set_id_; }

  StorageStats stats() override {
    StorageStats s;
    {
      std::lock_guard lock(mutex_);
      s.write_queue = queue_.size();
    }
    s.commits = commits_.load(std::memory_order_relaxed);
    s.failed_commits = failed_commits_.load(std::memory_order_relaxed);
    s.jobs = jobs_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < s.commit_buckets.size(); ++i) {
      s.commit_buckets[i] = commit_buckets_[i].load(std::memory_order_relaxed);
    }
    s.commit_seconds_sum = static_cast<double>(commit_nanos_.load(std::memory_order_relaxed)) / 1e9;
    s.notifications_pending["citizen"];
    s.notifications_pending["webhook"];
    auto conn = lease();
    Query q(*conn,
            "SELECT channel, COUNT(*), MIN(created_at) FROM notifications WHERE delivered_at IS NULL GROUP BY channel");
    const auto now = now_millis();
    while (q->executeStep()) {
      auto& p = s.notifications_pending[q->getColumn(0).getString()];
      p.count = q->getColumn(1).getInt64();
      p.oldest_age_seconds = static_cast<double>(std::max<std::int64_t>(0, now - q->getColumn(2).getInt64())) / 1000.0;
    }
    return s;
  }

  std::vector<CitizenRequest> citizen_requests(const ItemId& id) override {
    auto conn = lease();
    Query q(*conn,
            "SELECT r.kind, r.after_event, r.rating, r.comment, r.preferred_date, r.created_at FROM citizen_requests r "
            "JOIN items i ON i.id = r.item_id WHERE i.item_id = ? ORDER BY r.id");
    q->bind(1, id.str());
    std::vector<CitizenRequest> out;
    while (q->executeStep()) {
      CitizenRequest r;
      r.item_id = id.str();
      r.kind = q->getColumn(0).getString();
      r.after_event = q->getColumn(1).getString();
      if (!q->getColumn(2).isNull()) r.rating = q->getColumn(2).getInt();
      if (!q->getColumn(3).isNull()) r.comment = q->getColumn(3).getString();
      if (!q->getColumn(4).isNull()) r.preferred_date = q->getColumn(4).getString();
      r.created_at = q->getColumn(5).getInt64();
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<ReportItem> report_items(const std::vector<std::string>& sites, UnixMillis since) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    const auto site_json = nlohmann::json(sites).dump();
    // The items in scope, once: on a route through one of the sites, or sent from, to or for one of them.
    static constexpr const char* kScope =
        "WITH scope(code) AS (SELECT value FROM json_each(?)), "
        "picked(id) AS ("
        "  SELECT i.id FROM items i JOIN dossiers d ON d.id = i.dossier_id "
        "  WHERE (i.last_occurred_at >= ? OR i.created_at >= ? "
        "         OR i.state NOT IN ('received', 'delivered', 'returned') "
        "         OR (i.kind = 'dossier' AND i.state = 'delivered')) "
        "    AND (EXISTS (SELECT 1 FROM item_route r JOIN sites s ON s.id = r.site_id "
        "                 WHERE r.item_id = i.id AND s.code IN (SELECT code FROM scope)) "
        "         OR (SELECT code FROM sites WHERE id = d.office_site_id) IN (SELECT code FROM scope) "
        "         OR (SELECT code FROM sites WHERE id = i.origin_site_id) IN (SELECT code FROM scope) "
        "         OR (SELECT code FROM sites WHERE id = i.destination_site_id) IN (SELECT code FROM scope)) "
        "  LIMIT 200000) ";
    std::vector<ReportItem> out;
    std::unordered_map<std::int64_t, std::size_t> index;
    {
      // Built once: the statement cache is keyed by the text's address.
      static const std::string kItems =
          std::string(kScope) +
          "SELECT i.id, i.item_id, i.kind, i.state, o.code, d.dossier_code, d.due_date, i.created_at, d.id "
          "FROM picked p JOIN items i ON i.id = p.id JOIN dossiers d ON d.id = i.dossier_id "
          "JOIN sites o ON o.id = d.office_site_id ORDER BY i.id";
      Query q(*conn, kItems.c_str());
      q->bind(1, site_json);
      q->bind(2, static_cast<std::int64_t>(since));
      q->bind(3, static_cast<std::int64_t>(since));
      while (q->executeStep()) {
        ReportItem r;
        r.item_id = q->getColumn(1).getString();
        r.kind = parse_or_throw(parse_item_kind(q->getColumn(2).getText()), "kind");
        r.state = parse_or_throw(parse_item_state(q->getColumn(3).getText()), "state");
        r.office = q->getColumn(4).getString();
        r.dossier_code = opt_text(q->getColumn(5));
        r.due_date = opt_text(q->getColumn(6));
        r.created_at = q->getColumn(7).getInt64();
        r.dossier_id = q->getColumn(8).getInt64();
        index.emplace(q->getColumn(0).getInt64(), out.size());
        out.push_back(std::move(r));
      }
    }
    static const std::string kEvents =
        std::string(kScope) +
        "SELECT e.item_id, e.code, s.code, e.occurred_at, COALESCE(e.reason, ''), e.reason_code, e.action "
        "FROM picked p "
        "JOIN events e ON e.item_id = p.id JOIN sites s ON s.id = e.site_id ORDER BY e.item_id, e.occurred_at, e.id";
    Query q(*conn, kEvents.c_str());
    q->bind(1, site_json);
    q->bind(2, static_cast<std::int64_t>(since));
    q->bind(3, static_cast<std::int64_t>(since));
    while (q->executeStep()) {
      auto it = index.find(q->getColumn(0).getInt64());
      if (it == index.end()) continue;
      ReportEvent e;
      e.code = parse_or_throw(parse_event_code(q->getColumn(1).getText()), "event code");
      e.site = q->getColumn(2).getString();
      e.occurred_at = q->getColumn(3).getInt64();
      e.reason = q->getColumn(4).getString();
      e.reason_code = opt_enum(q->getColumn(5), parse_failure_reason, "reason_code");
      e.action = opt_enum(q->getColumn(6), parse_failure_action, "action");
      out[it->second].events.push_back(std::move(e));
    }
    return out;
  }

  void add_citizen_request(CitizenRequest request, Done<CitizenRequest> done) override {
    submit<CitizenRequest>(
        [request = std::move(request)](Conn& c) mutable {
          auto item = load_item_row(c, request.item_id);
          if (!item) throw not_found("There is no item " + request.item_id + ".", "unknown_item");
          std::string last_event;
          std::string last_code;
          {
            Query q(c,
                    "SELECT event_id, code FROM events WHERE item_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 1");
            q->bind(1, item->id);
            if (q->executeStep()) {
              last_event = q->getColumn(0).getString();
              last_code = q->getColumn(1).getString();
            }
          }
          const bool redelivery = request.kind == "redelivery";
          const bool allowed =
              redelivery ? redelivery_can_be_asked(item->kind, item->state) && last_code == "EMH"
                         : item->kind == ItemKind::result && item->state == ItemState::delivered && last_code == "EMI";
          if (!allowed) {
            throw conflict("not_now", redelivery ? "A new delivery can be asked for after a failed attempt."
                                                 : "A rating can be given once the result was delivered to you.");
          }
          request.after_event = last_event;
          request.created_at = now_millis();
          Query q(c,
                  "INSERT INTO citizen_requests (item_id, kind, after_event, rating, comment, preferred_date, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
          q->bind(1, item->id);
          q->bind(2, request.kind);
          q->bind(3, request.after_event);
          if (request.rating) {
            q->bind(4, *request.rating);
          } else {
            q->bind(4);
          }
          if (request.comment) {
            q->bind(5, *request.comment);
          } else {
            q->bind(5);
          }
          if (request.preferred_date) {
            q->bind(6, *request.preferred_date);
          } else {
            q->bind(6);
          }
          q->bind(7, static_cast<std::int64_t>(request.created_at));
          try {
            q->exec();
          } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_CONSTRAINT) {
              throw conflict("already_asked",
                             redelivery ? "A new delivery was already asked for." : "You already rated this delivery.");
            }
            throw;
          }
          return request;
        },
        std::move(done));
  }

  void set_user_scope(std::string username, std::vector<std::string> sites, Done<User> done) override {
    submit<User>(
        [this, username = std::move(username), sites = std::move(sites)](Conn& c) {
          std::int64_t user_id = 0;
          std::string role;
          {
            Query q(c, "SELECT id, role FROM users WHERE username = ?");
            q->bind(1, username);
            if (!q->executeStep()) throw not_found("There is no user " + username + ".", "unknown_user");
            user_id = q->getColumn(0).getInt64();
            role = q->getColumn(1).getString();
          }
          if (role != "supervisor") throw unprocessable("wrong_role", "Only supervisors read further sites.");
          std::vector<std::int64_t> rows;
          for (const auto& code : sites) {
            auto row = site_row(c, code);
            if (!row) throw unprocessable("unknown_site", "There is no site with code " + code + ".");
            rows.push_back(*row);
          }
          auth_changed_ = true;
          {
            Query q(c, "DELETE FROM user_sites WHERE user_id = ?");
            q->bind(1, user_id);
            q->exec();
          }
          for (auto row : rows) {
            Query q(c, "INSERT OR IGNORE INTO user_sites (user_id, site_id) VALUES (?, ?)");
            q->bind(1, user_id);
            q->bind(2, row);
            q->exec();
          }
          Query q(c,
                  "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), u.full_name, u.active FROM users u "
                  "LEFT JOIN sites s ON s.id = u.site_id WHERE u.id = ?");
          q->bind(1, user_id);
          q->executeStep();
          auto user = read_user(*q);
          q->reset();
          user.scope = load_scope(c, user_id);
          return user;
        },
        std::move(done));
  }

  // ------------------------------------------------------------------ audit log

  void append_audit(AuditEntry entry, Done<bool> done) override {
    submit<bool>(
        [entry = std::move(entry)](Conn& c) {
          insert_audit(c, entry);
          return true;
        },
        std::move(done));
  }

  std::vector<AuditEntry> list_audit(const AuditQuery& query) override {
    auto conn = lease();
    // The site filter is a JSON array so one cached statement serves any number of sites.
    nlohmann::json sites = query.sites;
    Query q(*conn,
            "SELECT id, at, user_id, username, role, site, device_id, address, action, target, target_site, outcome, "
            "detail FROM audit_log WHERE (? = 0 OR site IN (SELECT value FROM json_each(?)) OR target_site IN "
            "(SELECT value FROM json_each(?))) AND (? IS NULL OR id < ?) AND (? = '' OR action = ?) "
            "AND (? = '' OR username = ?) ORDER BY id DESC LIMIT ?");
    const auto site_json = sites.dump();
    q->bind(1, query.sites.empty() ? 0 : 1);
    q->bind(2, site_json);
    q->bind(3, site_json);
    if (query.before_id) {
      q->bind(4, *query.before_id);
      q->bind(5, *query.before_id);
    } else {
      q->bind(4);
      q->bind(5);
    }
    q->bind(6, query.action);
    q->bind(7, query.action);
    q->bind(8, query.username);
    q->bind(9, query.username);
    q->bind(10, static_cast<std::int64_t>(std::clamp<std::size_t>(query.limit, 1, 1000)));
    std::vector<AuditEntry> out;
    while (q->executeStep()) {
      AuditEntry a;
      a.id = q->getColumn(0).getInt64();
      a.at = q->getColumn(1).getInt64();
      if (!q->getColumn(2).isNull()) a.user_id = q->getColumn(2).getInt64();
      a.username = q->getColumn(3).getString();
      a.role = q->getColumn(4).getString();
      a.site = q->getColumn(5).getString();
      if (!q->getColumn(6).isNull()) a.device_id = q->getColumn(6).getInt64();
      a.address = q->getColumn(7).getString();
      a.action = q->getColumn(8).getString();
      a.target = q->getColumn(9).getString();
      a.target_site = q->getColumn(10).getString();
      a.outcome = q->getColumn(11).getString();
      a.detail = q->getColumn(12).getString();
      out.push_back(std::move(a));
    }
    return out;
  }

  // ------------------------------------------------------------------ two-party handoffs

  std::vector<PendingHandoff> pending_handoffs(const std::vector<std::string>& sites) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    const auto site_json = nlohmann::json(sites).dump();
    std::vector<PendingHandoff> out;
    // Dossiers delivered to an office's counter (EMI) and results handed to the post (RES): each waits for
    // the other side's confirmation. The handing side and the confirming side both see it.
    Query q(*conn,
            "SELECT i.item_id, i.kind, i.state, ls.code, COALESCE(ds.code, pk.code, ''), i.last_occurred_at, "
            "d.dossier_code FROM items i JOIN dossiers d ON d.id = i.dossier_id "
            "LEFT JOIN sites ds ON ds.id = i.destination_site_id "
            "LEFT JOIN (SELECT r.item_id, s.code FROM item_route r JOIN sites s ON s.id = r.site_id "
            "           WHERE r.role = 'pickup') pk ON pk.item_id = i.id AND i.kind = 'result' "
            "JOIN events le ON le.id = (SELECT e.id FROM events e WHERE e.item_id = i.id "
            "                           ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) "
            "JOIN sites ls ON ls.id = le.site_id "
            "WHERE ((i.kind = 'dossier' AND i.state = 'delivered') OR (i.kind = 'result' AND i.state = "
            "'handed_to_post')) AND (ls.code IN (SELECT value FROM json_each(?)) OR "
            "COALESCE(ds.code, pk.code, '') IN (SELECT value FROM json_each(?))) "
            "ORDER BY i.last_occurred_at LIMIT 1000");
    q->bind(1, site_json);
    q->bind(2, site_json);
    while (q->executeStep()) {
      PendingHandoff p;
      p.item_id = q->getColumn(0).getString();
      p.kind = parse_or_throw(parse_item_kind(q->getColumn(1).getText()), "kind");
      p.state = parse_or_throw(parse_item_state(q->getColumn(2).getText()), "state");
      p.from_site = q->getColumn(3).getString();
      p.to_site = q->getColumn(4).getString();
      p.since = q->getColumn(5).getInt64();
      p.dossier_code = opt_text(q->getColumn(6));
      out.push_back(std::move(p));
    }
    return out;
  }

  std::vector<HandoffProblem> handoff_problems(const std::vector<std::string>& sites, UnixMillis since) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    const auto site_json = nlohmann::json(sites).dump();
    std::vector<HandoffProblem> out;
    {
      Query q(*conn,
              "SELECT i.item_id, e.event_id, s.code, e.occurred_at, e.issue, e.reason, COALESCE(u.username, ''), "
              "COALESCE((SELECT b.bag_id FROM bag_items bi JOIN bags b ON b.id = bi.bag_id "
              "          WHERE bi.event_id = e.event_id LIMIT 1), '') "
              "FROM events e JOIN items i ON i.id = e.item_id JOIN sites s ON s.id = e.site_id "
              "LEFT JOIN users u ON u.id = e.user_id WHERE e.issue IS NOT NULL AND e.occurred_at >= ? "
              "AND s.code IN (SELECT value FROM json_each(?)) ORDER BY e.occurred_at DESC LIMIT 500");
      q->bind(1, static_cast<std::int64_t>(since));
      q->bind(2, site_json);
      while (q->executeStep()) {
        HandoffProblem p;
        p.item_id = q->getColumn(0).getString();
        p.event_id = q->getColumn(1).getString();
        p.site = q->getColumn(2).getString();
        p.at = q->getColumn(3).getInt64();
        p.problem = q->getColumn(4).getString();
        p.note = opt_text(q->getColumn(5));
        p.recorded_by = q->getColumn(6).getString();
        p.bag_id = q->getColumn(7).getString();
        out.push_back(std::move(p));
      }
    }
    Query q(*conn,
            "SELECT i.item_id, COALESCE(bi.event_id, ''), ds.code, COALESCE(bi.scanned_at, b.closed_at), bi.outcome, "
            "b.bag_id, COALESCE(u.username, '') FROM bag_items bi JOIN bags b ON b.id = bi.bag_id "
            "JOIN items i ON i.id = bi.item_id JOIN sites ds ON ds.id = b.destination_site_id "
            "JOIN sites os ON os.id = b.origin_site_id LEFT JOIN users u ON u.id = b.closed_by "
            "WHERE bi.outcome IN ('missing', 'extra') AND COALESCE(bi.scanned_at, b.closed_at) >= ? "
            "AND (ds.code IN (SELECT value FROM json_each(?)) OR os.code IN (SELECT value FROM json_each(?))) "
            "ORDER BY 4 DESC LIMIT 500");
    q->bind(1, static_cast<std::int64_t>(since));
    q->bind(2, site_json);
    q->bind(3, site_json);
    while (q->executeStep()) {
      HandoffProblem p;
      p.item_id = q->getColumn(0).getString();
      p.event_id = q->getColumn(1).getString();
      p.site = q->getColumn(2).getString();
      p.at = q->getColumn(3).getInt64();
      p.problem = q->getColumn(4).getString();
      p.bag_id = q->getColumn(5).getString();
      p.recorded_by = q->getColumn(6).getString();
      out.push_back(std::move(p));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at > b.at; });
    return out;
  }

  std::vector<HandoffRecord> handoff_records(const std::string& site, UnixMillis from, UnixMillis to) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    std::vector<std::pair<std::int64_t, HandoffRecord>> rows;
    {
      // The handoffs between the post and the offices: a dossier delivered to an office (EMI) and confirmed
      // (RCV), a result handed to the post (RES) and accepted (EMA), and a result returned (RCV). `site` is
      // either side: the event's own site or the office the item belongs to.
      Query q(*conn,
              "SELECT e.id, i.kind, d.dossier_code, d.procedure_name, d.due_date, o.code FROM events e "
              "JOIN items i ON i.id = e.item_id JOIN dossiers d ON d.id = i.dossier_id "
              "JOIN sites o ON o.id = d.office_site_id JOIN sites s ON s.id = e.site_id "
              "WHERE e.occurred_at >= ? AND e.occurred_at < ? AND ("
              "  (e.code = 'EMI' AND i.kind = 'dossier') OR e.code IN ('RCV', 'RES') OR "
              "  (e.code = 'EMA' AND i.kind = 'result')) AND (s.code = ? OR o.code = ?) "
              "ORDER BY e.occurred_at, e.id LIMIT 5000");
      q->bind(1, static_cast<std::int64_t>(from));
      q->bind(2, static_cast<std::int64_t>(to));
      q->bind(3, site);
      q->bind(4, site);
      while (q->executeStep()) {
        HandoffRecord r;
        r.kind = parse_or_throw(parse_item_kind(q->getColumn(1).getText()), "kind");
        r.dossier_code = opt_text(q->getColumn(2));
        r.procedure_name = q->getColumn(3).getString();
        r.due_date = opt_text(q->getColumn(4));
        r.counterpart_site = q->getColumn(5).getString();
        rows.emplace_back(q->getColumn(0).getInt64(), std::move(r));
      }
    }
    std::vector<HandoffRecord> out;
    for (auto& [row, record] : rows) {
      Query e(*conn, kEventByRow);
      e->bind(1, row);
      if (!e->executeStep()) continue;
      record.event = read_event_with_leaf(*e);
      // The other side: for the office's own events the post office involved, else the office.
      if (record.event.site == record.counterpart_site) {
        record.counterpart_site.clear();
        Query p(*conn,
                "SELECT s.code FROM events x JOIN sites s ON s.id = x.site_id JOIN items i ON i.id = x.item_id "
                "WHERE i.item_id = ? AND s.kind = 'post_office' AND x.occurred_at <= ? "
                "ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1");
        p->bind(1, record.event.item_id);
        p->bind(2, static_cast<std::int64_t>(record.event.occurred_at + 7LL * 24 * 3600 * 1000));
        if (p->executeStep()) record.counterpart_site = p->getColumn(0).getString();
      }
      out.push_back(std::move(record));
    }
    return out;
  }

  void add_route(Actor actor, ItemId item, std::string site, Done<bool> done) override {
    submit<bool>(
        [actor = std::move(actor), item = std::move(item), site = std::move(site)](Conn& c) {
          auto row = load_item_row(c, item.str());
          if (!row) throw not_found("There is no item " + item.str() + ".", "unknown_item");
          auto target = site_row_with_kind(c, site);
          if (!target || target->second != SiteKind::post_office) {
            throw unprocessable("unknown_post_office", "There is no post office with code " + site + ".");
          }
          add_route_stop(c, row->id, target->first, "transit", now_millis());
          auto entry = audit_of(actor, "reroute", item.str(), "ok", "added " + site + " to the item's route");
          entry.target_site = site;
          insert_audit(c, entry);
          return true;
        },
        std::move(done));
  }

  // ------------------------------------------------------------------ bags

  void create_bag(Actor actor, std::string destination, std::vector<ItemId> items, Done<BagView> done) override {
    submit<BagView>(
        [this, actor = std::move(actor), destination = std::move(destination), items = std::move(items)](Conn& c) {
          const auto origin = site_row_with_kind(c, actor.site);
          if (!origin) throw forbidden("Your account is not bound to a site, so it cannot make up bags.");
          const auto dest = site_row_with_kind(c, destination);
          if (!dest) throw unprocessable("unknown_site", "There is no site with code " + destination + ".");
          if (dest->first == origin->first) throw unprocessable("same_site", "A bag goes to another site.");
          if (origin->second == SiteKind::office && dest->second == SiteKind::office) {
            throw unprocessable("office_to_office", "Bags between two offices go through the post.");
          }
          std::int64_t serial = 0;
          {
            Query q(c,
                    "INSERT INTO serials (service, next_serial) VALUES ('BAG', 1) "
                    "ON CONFLICT (service) DO UPDATE SET next_serial = next_serial + 1 RETURNING next_serial");
            q->executeStep();
            serial = q->getColumn(0).getInt64();
          }
          const auto bag_id = make_bag_id(static_cast<std::uint32_t>(serial));
          const UnixMillis now = now_millis();
          {
            Query q(c,
                    "INSERT INTO bags (bag_id, origin_site_id, destination_site_id, state, created_by, created_at) "
                    "VALUES (?, ?, ?, 'open', ?, ?)");
            q->bind(1, bag_id);
            q->bind(2, origin->first);
            q->bind(3, dest->first);
            q->bind(4, actor.user_id);
            q->bind(5, static_cast<std::int64_t>(now));
            q->exec();
          }
          const auto bag_row = c.db().getLastInsertRowid();
          for (const auto& item : items) put_in_bag(c, actor, bag_row, item, now);
          return load_bag(c, bag_row);
        },
        std::move(done));
  }

  void add_to_bag(Actor actor, std::string bag_id, ItemId item, Done<BagView> done) override {
    submit<BagView>(
        [this, actor = std::move(actor), bag_id = std::move(bag_id), item = std::move(item)](Conn& c) {
          const auto bag = open_bag_of(c, bag_id);
          put_in_bag(c, actor, bag, item, now_millis());
          return load_bag(c, bag);
        },
        std::move(done));
  }

  void remove_from_bag(Actor actor, std::string bag_id, ItemId item, Done<BagView> done) override {
    submit<BagView>(
        [actor = std::move(actor), bag_id = std::move(bag_id), item = std::move(item)](Conn& c) {
          const auto bag = open_bag_of(c, bag_id);
          Query q(c, "DELETE FROM bag_items WHERE bag_id = ? AND item_id = (SELECT id FROM items WHERE item_id = ?)");
          q->bind(1, bag);
          q->bind(2, item.str());
          if (q->exec() == 0) throw not_found("Item " + item.str() + " is not in bag " + bag_id + ".", "not_in_bag");
          return load_bag(c, bag);
        },
        std::move(done));
  }

  void dispatch_bag(Actor actor, std::string bag_id, std::string event_id, UnixMillis occurred_at,
                    Done<BagView> done) override {
    submit<BagView>(
        [this, actor = std::move(actor), bag_id = std::move(bag_id), event_id = std::move(event_id),
         occurred_at](Conn& c) {
          const auto bag = bag_row_of(c, bag_id);
          auto view = load_bag(c, bag);
          if (view.dispatch_event_id) {
            // A retry of the same dispatch gets the stored answer; another dispatch is refused.
            if (*view.dispatch_event_id == event_id) return view;
            throw conflict("bag_not_open", "Bag " + bag_id + " was already dispatched.");
          }
          if (view.state != BagState::open) throw conflict("bag_not_open", "Bag " + bag_id + " is not open.");
          if (view.items.empty()) throw conflict("bag_empty", "Bag " + bag_id + " is empty: add items first.");
          const auto kinds = bag_site_kinds(c, bag);
          const UnixMillis now = now_millis();
          const auto dest_row = site_row(c, view.destination_site);
          for (const auto& item : view.items) {
            auto row = load_item_row(c, item.item_id);
            if (!row) throw std::runtime_error("bag item vanished");
            // Between post offices the bag takes the item through the destination: it joins the route.
            if (kinds.second == SiteKind::post_office) add_route_stop(c, row->id, *dest_row, "transit", now);
            ScanRequest scan{derived_event_id(event_id, item.item_id),
                             *ItemId::parse(item.item_id),
                             dispatch_code(kinds, *row),
                             view.origin_site,
                             occurred_at,
                             std::nullopt,
                             std::nullopt,
                             std::nullopt};
            Actor person = actor;
            person.device_id.reset();  // bag handovers come from a person's session (the API refuses devices)
            auto outcome = apply_scan(c, person, scan, now, std::nullopt);
            if (outcome.status != ScanStatus::recorded && outcome.status != ScanStatus::duplicate) {
              // All or none: the job's savepoint takes back the events already recorded for this bag.
              ApiError e(scan_refusal_status(outcome.status), "bag_item_refused",
                         "Bag " + bag_id + " cannot be dispatched: " + item.item_id + ": " + outcome.message);
              throw e;
            }
          }
          Query q(c,
                  "UPDATE bags SET state = 'dispatched', dispatch_event_id = ?, dispatched_by = ?, dispatched_at = ? "
                  "WHERE id = ?");
          q->bind(1, event_id);
          q->bind(2, actor.user_id);
          q->bind(3, static_cast<std::int64_t>(occurred_at));
          q->bind(4, bag);
          q->exec();
          return load_bag(c, bag);
        },
        std::move(done));
  }

  void receive_bag(Actor actor, std::string bag_id, UnixMillis occurred_at, Done<BagView> done) override {
    submit<BagView>(
        [actor = std::move(actor), bag_id = std::move(bag_id), occurred_at](Conn& c) {
          const auto bag = bag_row_of(c, bag_id);
          auto view = load_bag(c, bag);
          if (view.state == BagState::receiving || view.state == BagState::closed) return view;
          if (view.state != BagState::dispatched) {
            throw conflict("bag_not_dispatched", "Bag " + bag_id + " has not been dispatched yet.");
          }
          mark_received(c, bag, actor, occurred_at);
          return load_bag(c, bag);
        },
        std::move(done));
  }

  void scan_bag_item(Actor actor, std::string bag_id, ScanRequest scan, Done<BagScanOutcome> done) override {
    submit<BagScanOutcome>(
        [this, actor = std::move(actor), bag_id = std::move(bag_id), scan = std::move(scan)](Conn& c) mutable {
          const auto bag = bag_row_of(c, bag_id);
          auto view = load_bag(c, bag);
          if (view.state == BagState::open) {
            throw conflict("bag_not_dispatched", "Bag " + bag_id + " has not been dispatched yet.");
          }
          if (view.state == BagState::closed) {
            throw conflict("bag_closed", "Bag " + bag_id + " was closed: scan the item on its own.");
          }
          if (view.state == BagState::dispatched) mark_received(c, bag, actor, scan.occurred_at);
          BagScanOutcome result;
          auto row = load_item_row(c, scan.item_id.str());
          if (!row) {
            result.scan.event_id = scan.event_id;
            result.scan.status = ScanStatus::unknown_item;
            result.scan.error_code = "unknown_item";
            result.scan.message = "There is no item " + scan.item_id.str() + ".";
            result.outcome = "unknown";
            result.bag = load_bag(c, bag);
            return result;
          }
          const auto kinds = bag_site_kinds(c, bag);
          scan.code = receive_code(c, kinds, *row, view.destination_site);
          scan.site = view.destination_site;
          Actor person = actor;
          person.device_id.reset();
          scan.signature.reset();
          scan.seq.reset();
          const auto expected = std::find_if(view.items.begin(), view.items.end(),
                                             [&](const BagItem& i) { return i.item_id == row->item_id; });
          result.scan = apply_scan(c, person, scan, now_millis(), std::nullopt);
          const bool taken = result.scan.status == ScanStatus::recorded || result.scan.status == ScanStatus::duplicate;
          const bool damaged = scan.issue.has_value() || scan.seal_intact == false;
          if (expected != view.items.end() && expected->expected) {
            result.outcome = taken ? (damaged ? "damaged" : "received") : "refused";
            if (taken) {
              Query q(
                  c, "UPDATE bag_items SET outcome = ?, event_id = ?, scanned_at = ? WHERE bag_id = ? AND item_id = ?");
              q->bind(1, result.outcome);
              q->bind(2, scan.event_id);
              q->bind(3, static_cast<std::int64_t>(scan.occurred_at));
              q->bind(4, bag);
              q->bind(5, row->id);
              q->exec();
            }
          } else {
            // Found in the bag without being on its manifest: on record as extra, confirmed when allowed.
            result.outcome = "extra";
            Query q(c,
                    "INSERT INTO bag_items (bag_id, item_id, added_at, added_by, expected, outcome, event_id, "
                    "scanned_at) VALUES (?, ?, ?, ?, 0, 'extra', ?, ?) ON CONFLICT (bag_id, item_id) DO NOTHING");
            q->bind(1, bag);
            q->bind(2, row->id);
            q->bind(3, static_cast<std::int64_t>(now_millis()));
            q->bind(4, actor.user_id);
            if (taken) {
              q->bind(5, scan.event_id);
            } else {
              q->bind(5);
            }
            q->bind(6, static_cast<std::int64_t>(scan.occurred_at));
            q->exec();
          }
          result.bag = load_bag(c, bag);
          return result;
        },
        std::move(done));
  }

  void close_bag(Actor actor, std::string bag_id, Done<BagView> done) override {
    submit<BagView>(
        [actor = std::move(actor), bag_id = std::move(bag_id)](Conn& c) {
          const auto bag = bag_row_of(c, bag_id);
          auto view = load_bag(c, bag);
          if (view.state == BagState::closed) return view;
          if (view.state == BagState::open) {
            throw conflict("bag_not_dispatched", "Bag " + bag_id + " has not been dispatched yet.");
          }
          const UnixMillis now = now_millis();
          if (view.state == BagState::dispatched) mark_received(c, bag, actor, now);
          {
            Query q(c,
                    "UPDATE bag_items SET outcome = 'missing' WHERE bag_id = ? AND expected = 1 AND outcome IS NULL");
            q->bind(1, bag);
            q->exec();
          }
          Query q(c, "UPDATE bags SET state = 'closed', closed_by = ?, closed_at = ? WHERE id = ?");
          q->bind(1, actor.user_id);
          q->bind(2, static_cast<std::int64_t>(now));
          q->bind(3, bag);
          q->exec();
          auto closed = load_bag(c, bag);
          const auto missing = std::count_if(closed.items.begin(), closed.items.end(),
                                             [](const BagItem& i) { return i.outcome == "missing"; });
          if (missing > 0) {
            auto entry = audit_of(actor, "bag_discrepancy", bag_id, "ok",
                                  std::to_string(missing) + " item(s) on the manifest were not in the bag");
            entry.target_site = closed.destination_site;
            insert_audit(c, entry);
          }
          return closed;
        },
        std::move(done));
  }

  std::optional<BagView> find_bag(std::string_view bag_id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    Query q(*conn, "SELECT id FROM bags WHERE bag_id = ?");
    q->bind(1, std::string(bag_id));
    if (!q->executeStep()) return std::nullopt;
    const auto row = q->getColumn(0).getInt64();
    q->reset();
    return load_bag(*conn, row);
  }

  std::vector<BagView> list_bags(const std::vector<std::string>& sites, std::size_t limit) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    std::vector<std::int64_t> rows;
    {
      const auto site_json = nlohmann::json(sites).dump();
      Query q(*conn,
              "SELECT b.id FROM bags b JOIN sites o ON o.id = b.origin_site_id JOIN sites d ON d.id = "
              "b.destination_site_id WHERE o.code IN (SELECT value FROM json_each(?)) OR d.code IN (SELECT value "
              "FROM json_each(?)) ORDER BY b.id DESC LIMIT ?");
      q->bind(1, site_json);
      q->bind(2, site_json);
      q->bind(3, static_cast<std::int64_t>(limit));
      while (q->executeStep()) rows.push_back(q->getColumn(0).getInt64());
    }
    std::vector<BagView> out;
    for (auto row : rows) out.push_back(load_bag(*conn, row));
    return out;
  }

  // ------------------------------------------------------------------ ledger

  std::optional<LedgerCheckpoint> latest_checkpoint() override {
    auto conn = lease();
    return ledger_latest_checkpoint(*conn);
  }

  std::vector<LedgerCheckpoint> list_checkpoints(std::size_t limit) override {
    auto conn = lease();
    return ledger_checkpoints(*conn, limit);
  }

  void checkpoint_now(Done<LedgerCheckpoint> done) override {
    submit<LedgerCheckpoint>(
        [this](Conn& c) {
          auto cp = ledger_sign_checkpoint(c, ledger_key_, now_millis());
          if (!cp) throw not_found("The ledger is empty: nothing to sign yet.", "empty_ledger");
          last_checkpoint_at_ = cp->created_at;
          return *cp;
        },
        std::move(done));
  }

  std::optional<InclusionProof> inclusion_proof(std::string_view event_id, std::uint64_t tree_size) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    InclusionProof p;
    std::string salt;
    std::int64_t event_row = 0;
    {
      Query q(*conn,
              "SELECT l.seq, l.salt, e.id FROM events e JOIN ledger_leaves l ON l.event_row = e.id "
              "WHERE e.event_id = ?");
      q->bind(1, std::string(event_id));
      if (!q->executeStep()) return std::nullopt;
      p.leaf_index = static_cast<std::uint64_t>(q->getColumn(0).getInt64());
      salt = blob(q->getColumn(1));
      event_row = q->getColumn(2).getInt64();
    }
    EventRecord e;
    {
      Query q(*conn, kEventByRow);
      q->bind(1, event_row);
      if (!q->executeStep()) return std::nullopt;
      e = read_event(*q);
    }
    const auto size = sqlite::ledger_size(*conn);
    if (tree_size == 0) {
      auto latest = ledger_latest_checkpoint(*conn);
      tree_size = latest && latest->tree_size > p.leaf_index ? latest->tree_size : size;
    }
    if (tree_size <= p.leaf_index || tree_size > size) return std::nullopt;
    p.event_id = e.event_id;
    p.item_id = e.item_id;
    p.tree_size = tree_size;
    const auto nodes = ledger_nodes(*conn);
    p.leaf_hash = nodes(0, p.leaf_index);
    p.path = merkle::inclusion_proof(p.leaf_index, tree_size, nodes);
    p.root_hash = merkle::root(tree_size, nodes);
    p.leaf_public = leaf_public_text(e);
    p.personal_commitment = personal_commitment(e, salt);
    p.checkpoint = ledger_checkpoint_of_size(*conn, tree_size);
    return p;
  }

  std::optional<std::vector<std::array<unsigned char, 32>>> consistency_proof(std::uint64_t first,
                                                                              std::uint64_t second) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    if (first > second || second > sqlite::ledger_size(*conn)) return std::nullopt;
    return merkle::consistency_proof(first, second, ledger_nodes(*conn));
  }

  std::uint64_t ledger_size() override {
    auto conn = lease();
    return sqlite::ledger_size(*conn);
  }

  std::optional<std::array<unsigned char, 32>> ledger_root(std::uint64_t tree_size) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    if (tree_size > sqlite::ledger_size(*conn)) return std::nullopt;
    return merkle::root(tree_size, ledger_nodes(*conn));
  }

  std::array<unsigned char, 32> ledger_public_key() override { return ledger_key_.pair.public_key; }

  // ------------------------------------------------------------------ notifications

  void configure_notifications(NotificationConfig config) override {
    std::lock_guard lock(mutex_);
    notify_config_ = std::move(config);
  }

  std::vector<Notification> due_notifications(NotificationChannel channel, std::size_t limit, UnixMillis now) override {
    auto conn = lease();
    Query q(*conn,
            "SELECT id, event_id, recipient, body, created_at, attempts, next_attempt_at FROM notifications "
            "WHERE channel = ? AND delivered_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id "
            "LIMIT ?");
    q->bind(1, std::string(to_string(channel)));
    q->bind(2, static_cast<std::int64_t>(now));
    q->bind(3, static_cast<std::int64_t>(limit));
    std::vector<Notification> out;
    while (q->executeStep()) {
      Notification n;
      n.id = q->getColumn(0).getInt64();
      n.event_id = q->getColumn(1).getString();
      n.channel = channel;
      n.recipient = q->getColumn(2).getString();
      n.body = q->getColumn(3).getString();
      n.created_at = q->getColumn(4).getInt64();
      n.attempts = q->getColumn(5).getInt();
      n.next_attempt_at = q->getColumn(6).getInt64();
      out.push_back(std::move(n));
    }
    return out;
  }

  void mark_notification(std::int64_t id, NotificationMark mark, Done<bool> done) override {
    submit<bool>(
        [id, mark = std::move(mark)](Conn& c) {
          if (mark.delivered) {
            Query q(c,
                    "UPDATE notifications SET attempts = attempts + 1, delivered_at = ?, last_error = NULL "
                    "WHERE id = ? AND delivered_at IS NULL");
            q->bind(1, static_cast<std::int64_t>(mark.at));
            q->bind(2, id);
            return q->exec() > 0;
          }
          Query q(c,
                  "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                  "WHERE id = ? AND delivered_at IS NULL");
          q->bind(1, static_cast<std::int64_t>(mark.at));
          q->bind(2, mark.error);
          q->bind(3, id);
          return q->exec() > 0;
        },
        std::move(done));
  }

  // ------------------------------------------------------------------ operations

  std::vector<std::string> verify() override {
    std::vector<std::string> problems;
    Conn conn(options_.path, SQLite::OPEN_READONLY);
    SQLite::Transaction snapshot(conn.db());  // one consistent view, even while the server writes
    {
      // A byte changed in the file may break SQLite's own structure before it reaches a row.
      SQLite::Statement check(conn.db(), "PRAGMA quick_check(20)");
      while (check.executeStep()) {
        const auto line = check.getColumn(0).getString();
        if (line != "ok") problems.push_back("the database file is damaged: " + line);
      }
    }
    LedgerVerifier ledger(conn);
    SQLite::Statement q(conn.db(), kEventsForVerify);
    constexpr int kChain = 1 + kEventColumns;
    std::string previous;
    while (q.executeStep()) {
      const auto row_id = q.getColumn(0).getInt64();
      const std::string stored = blob(q.getColumn(kChain));
      std::string expected;
      std::optional<EventRecord> event;
      try {
        if (q.getColumn(2).isNull() || q.getColumn(4).isNull()) throw std::runtime_error("dangling reference");
        event = read_event(q, 1);
        expected = chain_next(previous, *event);
      } catch (const std::exception& e) {
        problems.push_back("event row " + std::to_string(row_id) + ": unreadable (" + e.what() + ")");
      }
      if (!expected.empty() && expected != stored && problems.size() < 20) {
        problems.push_back("event row " + std::to_string(row_id) + " (event " + q.getColumn(1).getString() +
                           "): hash chain broken: the row, or one before it, was edited, deleted or reordered");
      }
      if (event) {
        std::optional<std::int64_t> seq;
        std::optional<std::string> salt;
        if (!q.getColumn(kChain + 1).isNull()) seq = q.getColumn(kChain + 1).getInt64();
        if (!q.getColumn(kChain + 2).isNull()) salt = blob(q.getColumn(kChain + 2));
        ledger.event(row_id, *event, seq, salt);
      }
      previous = stored;
    }
    for (auto& p : ledger.finish()) problems.push_back("ledger: " + p);
    // The cached item state must be what its events say.
    SQLite::Statement items(conn.db(), "SELECT id, item_id, kind, state FROM items ORDER BY id");
    while (items.executeStep() && problems.size() < 80) {
      const auto kind = parse_item_kind(items.getColumn(2).getText());
      const auto state = parse_item_state(items.getColumn(3).getText());
      if (!kind || !state) {
        problems.push_back("item " + items.getColumn(1).getString() + ": unknown kind or state");
        continue;
      }
      SQLite::Statement ev(conn.db(), "SELECT code FROM events WHERE item_id = ? ORDER BY occurred_at, id");
      ev.bind(1, items.getColumn(0).getInt64());
      std::vector<EventCode> codes;
      while (ev.executeStep()) {
        if (auto code = parse_event_code(ev.getColumn(0).getText())) codes.push_back(*code);
      }
      const auto r = replay(*kind, codes);
      if (r.first_illegal || r.state != *state) {
        problems.push_back("item " + items.getColumn(1).getString() + ": stored state " +
                           std::string(to_string(*state)) + " does not follow from its events");
      }
    }
    return problems;
  }

  void backup_to(const std::string& path) override {
    // VACUUM INTO reads one consistent snapshot while the writer goes on, and writes a compact copy.
    Conn conn(options_.path, SQLite::OPEN_READONLY);
    SQLite::Statement q(conn.db(), "VACUUM INTO ?");
    q.bind(1, path);
    q.exec();
  }

  void close() override {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      closing_ = true;
    }
    cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    completions_.join();  // every caller has heard how its write ended
  }

 private:
  struct WriteJob {
    std::function<void(Conn&)> apply;
    std::function<void(std::exception_ptr)> finish;
  };

  // --- read connection pool

  class Lease {
   public:
    Lease(SqliteStorage& owner, std::unique_ptr<Conn> conn) : owner_(owner), conn_(std::move(conn)) {}
    ~Lease() { owner_.give_back(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }

   private:
    SqliteStorage& owner_;
    std::unique_ptr<Conn> conn_;
  };

  Lease lease() {
    {
      std::lock_guard lock(pool_mutex_);
      if (!pool_.empty()) {
        auto conn = std::move(pool_.back());
        pool_.pop_back();
        return Lease(*this, std::move(conn));
      }
    }
    auto conn = std::make_unique<Conn>(options_.path, SQLite::OPEN_READWRITE);
    conn->db().exec("PRAGMA query_only=ON");
    // Readers map the file: a page read is a memory access instead of a read() system call.
    conn->db().exec("PRAGMA mmap_size=1073741824");
    return Lease(*this, std::move(conn));
  }

  void give_back(std::unique_ptr<Conn> conn) {
    if (!conn) return;
    conn->reset_all();
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(conn));
  }

  // --- writer

  template <class T, class Apply>
  void submit(Apply apply, Done<T> done) {
    auto result = std::make_shared<std::optional<T>>();
    WriteJob job{[apply = std::move(apply), result](Conn& c) mutable { result->emplace(apply(c)); },
                 [done = std::move(done), result](std::exception_ptr error) {
                   if (error) {
                     done(Outcome<T>(boost::system::in_place_error, error));
                   } else {
                     done(Outcome<T>(boost::system::in_place_value, std::move(**result)));
                   }
                 }};
    {
      std::lock_guard lock(mutex_);
      if (!closing_ && writer_) {
        queue_.push_back(std::move(job));
        cv_.notify_one();
        return;
      }
    }
    job.finish(std::make_exception_ptr(unavailable("The server is shutting down: try again in a moment.")));
  }

  // Group commit: everything queued while the previous commit was syncing goes into the next transaction,
  // each job inside its own savepoint so that one refused job does not undo the others. Jobs are told the
  // outcome only after COMMIT returned, so nothing is acknowledged before it is durable.
  // Inside the group's transaction: signs a checkpoint when events were appended and the last one is older than
  // the interval (or always, when `force`). In its own savepoint: a failed signature never fails the group.
  bool maybe_checkpoint(bool force) {
    if (!unsigned_leaves_) return false;
    const UnixMillis now = now_millis();
    if (!force && now - last_checkpoint_at_ < options_.checkpoint_interval_ms) return false;
    auto& db = writer_->db();
    db.exec("SAVEPOINT checkpoint");
    try {
      ledger_sign_checkpoint(*writer_, ledger_key_, now);
      db.exec("RELEASE checkpoint");
      last_checkpoint_at_ = now;
      return true;
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "ledger_checkpoint_failed", {{"error", e.what()}});
      writer_->reset_all();
      db.exec("ROLLBACK TO checkpoint");
      db.exec("RELEASE checkpoint");
      return false;
    }
  }

  // At shutdown: the last events get their signed checkpoint.
  void final_checkpoint() {
    if (!unsigned_leaves_) return;
    auto& db = writer_->db();
    try {
      db.exec("BEGIN IMMEDIATE");
      maybe_checkpoint(true);
      db.exec("COMMIT");
    } catch (const std::exception& e) {
      log_event(LogLevel::error, "ledger_checkpoint_failed", {{"error", e.what()}, {"final", "true"}});
      try {
        if (sqlite3_get_autocommit(db.getHandle()) == 0) db.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }

  // One group commit, from BEGIN to the fsync of COMMIT, for dpost_storage_commit_duration_seconds.
  void observe_commit(std::chrono::steady_clock::duration took, std::size_t jobs) {
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    const double seconds = static_cast<double>(nanos) / 1e9;
    std::size_t bucket = 0;
    while (bucket < StorageStats::kCommitBuckets.size() && seconds > StorageStats::kCommitBuckets[bucket]) ++bucket;
    commit_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    commit_nanos_.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
    jobs_.fetch_add(jobs, std::memory_order_relaxed);
    commits_.fetch_add(1, std::memory_order_relaxed);
  }

  void writer_loop() {
    auto& db = writer_->db();
    for (;;) {
      std::vector<WriteJob> group;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) {  // closing and drained
          lock.unlock();
          final_checkpoint();
          break;
        }
        const auto n = std::min(queue_.size(), options_.max_group);
        group.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<std::exception_ptr> errors(group.size());
      queued_in_group_ = false;
      bool committed = false;
      const auto started = std::chrono::steady_clock::now();
      try {
        db.exec("BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < group.size(); ++i) {
          Query(*writer_, "SAVEPOINT job")->exec();  // prepared once: two statements per job otherwise parsed
          try {
            group[i].apply(*writer_);
            Query(*writer_, "RELEASE job")->exec();
          } catch (...) {
            errors[i] = std::current_exception();
            writer_->reset_all();
            db.exec("ROLLBACK TO job");
            db.exec("RELEASE job");
          }
          // Refusals stay on record even when the job that found them is taken back (a bag dispatch refused
          // as a whole): written after the job's savepoint, committed with the group.
          for (const auto& entry : refusal_audits_) insert_audit(*writer_, entry);
          refusal_audits_.clear();
        }
        const bool signed_checkpoint = maybe_checkpoint(false);
        db.exec("COMMIT");
        committed = true;
        if (signed_checkpoint) unsigned_leaves_ = false;
        observe_commit(std::chrono::steady_clock::now() - started, group.size());
      } catch (const std::exception& e) {
        // The commit (or the transaction around it) failed, e.g. an I/O error or a full disk: nothing of
        // this group is durable, so nothing of it is acknowledged.
        log_event(LogLevel::error, "storage_commit_failed", {{"error", e.what()}});
        failed_commits_.fetch_add(1, std::memory_order_relaxed);
        writer_->reset_all();
        try {
          if (!db.getHandle() || sqlite3_get_autocommit(db.getHandle()) == 0) db.exec("ROLLBACK");
        } catch (...) {
        }
        const auto error = std::make_exception_ptr(unavailable("Storage is unavailable: the change was not saved."));
        std::fill(errors.begin(), errors.end(), error);
      }
      // Cached sessions are dropped once the change is durable (or was rolled back: dropping is always safe).
      if (auth_changed_) {
        auth_changed_ = false;
        sessions_.invalidate();
      }
      if (committed && queued_in_group_) {
        std::function<void()> wake;
        {
          std::lock_guard lock(mutex_);
          wake = notify_config_.on_queued;
        }
        if (wake) wake();
      }
      // The callers are told on another thread (building and sending answers is ~1/7 of the writer's time
      // under a scan load): the writer goes straight on to the next group. One thread, so in commit order.
      completions_.post([group = std::move(group), errors = std::move(errors)] {
        for (std::size_t i = 0; i < group.size(); ++i) {
          try {
            group[i].finish(errors[i]);
          } catch (const std::exception& e) {
            log_event(LogLevel::error, "storage_completion_failed", {{"error", e.what()}});
          }
        }
      });
    }
  }

  // --- bag helpers (writer thread)

  static std::int64_t bag_row_of(Conn& c, const std::string& bag_id) {
    Query q(c, "SELECT id FROM bags WHERE bag_id = ?");
    q->bind(1, bag_id);
    if (!q->executeStep()) throw not_found("There is no bag " + bag_id + ".", "unknown_bag");
    return q->getColumn(0).getInt64();
  }

  static std::int64_t open_bag_of(Conn& c, const std::string& bag_id) {
    const auto row = bag_row_of(c, bag_id);
    Query q(c, "SELECT state FROM bags WHERE id = ?");
    q->bind(1, row);
    q->executeStep();
    if (q->getColumn(0).getString() != "open") {
      throw conflict("bag_not_open", "Bag " + bag_id + " was dispatched: its content can no longer change.");
    }
    return row;
  }

  static std::pair<SiteKind, SiteKind> bag_site_kinds(Conn& c, std::int64_t bag_row) {
    Query q(c,
            "SELECT o.kind, d.kind FROM bags b JOIN sites o ON o.id = b.origin_site_id "
            "JOIN sites d ON d.id = b.destination_site_id WHERE b.id = ?");
    q->bind(1, bag_row);
    if (!q->executeStep()) throw std::runtime_error("bag vanished");
    return {parse_or_throw(parse_site_kind(q->getColumn(0).getText()), "site kind"),
            parse_or_throw(parse_site_kind(q->getColumn(1).getText()), "site kind")};
  }

  // The event that hands an item over when its bag leaves: delivered to the office's counter (EMI; EDG for a
  // result coming back to its office), handed by the office to the post (RES), or out of a post office (EDE).
  static EventCode dispatch_code(std::pair<SiteKind, SiteKind> kinds, const ItemRow& item) {
    if (kinds.first == SiteKind::office) return EventCode::RES;
    if (kinds.second == SiteKind::office) return item.kind == ItemKind::dossier ? EventCode::EMI : EventCode::EDG;
    return EventCode::EDE;
  }

  // The event that confirms it on arrival: the office's receipt (RCV), the post's acceptance of a result (EMA),
  // or arrival at a post office (EMG where it is delivered from, EDD where it is sorted on).
  static EventCode receive_code(Conn& c, std::pair<SiteKind, SiteKind> kinds, const ItemRow& item,
                                const std::string& destination) {
    if (kinds.second == SiteKind::office) return EventCode::RCV;
    if (kinds.first == SiteKind::office) return EventCode::EMA;
    for (const auto& stop : load_route(c, item.id)) {
      if (stop.site == destination && stop.role == "delivery") return EventCode::EMG;
    }
    return EventCode::EDD;
  }

  // The event ids of a bag's per-item events come from the dispatch's own id, so a retried dispatch finds them.
  static std::string derived_event_id(const std::string& event_id, const std::string& item_id) {
    const auto hex = to_hex(sha256("bag-dispatch\n" + event_id + "\n" + item_id).data(), 16);
    std::string u = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-5" + hex.substr(13, 3) + "-" + hex.substr(16, 4) +
                    "-" + hex.substr(20, 12);
    static constexpr char kVariant[] = "89ab";
    u[19] = kVariant[(u[19] >= 'a' ? u[19] - 'a' + 10 : u[19] - '0') % 4];
    return u;
  }

  static unsigned scan_refusal_status(ScanStatus s) {
    switch (s) {
      case ScanStatus::forbidden:
        return 403;
      case ScanStatus::unknown_item:
        return 404;
      case ScanStatus::invalid:
        return 422;
      default:
        return 409;
    }
  }

  static void mark_received(Conn& c, std::int64_t bag, const Actor& actor, UnixMillis at) {
    Query q(
        c,
        "UPDATE bags SET state = 'receiving', received_by = ?, received_at = ? WHERE id = ? AND state = 'dispatched'");
    q->bind(1, actor.user_id);
    q->bind(2, static_cast<std::int64_t>(at));
    q->bind(3, bag);
    q->exec();
  }

  void put_in_bag(Conn& c, const Actor& actor, std::int64_t bag, const ItemId& id, UnixMillis now) {
    auto item = load_item_row(c, id.str());
    if (!item) throw not_found("There is no item " + id.str() + ".", "unknown_item");
    const auto kinds = bag_site_kinds(c, bag);
    std::string origin;
    std::string destination;
    {
      Query q(c,
              "SELECT o.code, d.code FROM bags b JOIN sites o ON o.id = b.origin_site_id "
              "JOIN sites d ON d.id = b.destination_site_id WHERE b.id = ?");
      q->bind(1, bag);
      q->executeStep();
      origin = q->getColumn(0).getString();
      destination = q->getColumn(1).getString();
    }
    if (kinds.second == SiteKind::office) {
      const bool addressed =
          item->kind == ItemKind::dossier ? item->destination_site == destination : item->origin_site == destination;
      if (!addressed) {
        throw conflict("wrong_bag", "Item " + id.str() + " is not addressed to " + destination + ".");
      }
    }
    const auto code = dispatch_code(kinds, *item);
    if (!next_state(item->kind, item->state, code)) {
      throw conflict("wrong_state", "Item " + id.str() + " cannot leave in this bag now: it is " +
                                        std::string(to_string(item->state)) + " and the bag hands it over with " +
                                        std::string(to_string(code)) + ".");
    }
    if (options_.policy) {
      ScanRequest probe{"", id, code, origin, now, std::nullopt, std::nullopt, std::nullopt};
      if (auto why = options_.policy(actor, probe,
                                     ScanTarget{item->kind, item->state, item->origin_site, item->destination_site,
                                                item->office, item->route})) {
        auto entry = audit_of(actor, "denied", id.str(), "denied", "manage_bag: " + *why);
        entry.target_site = item->office;
        refusal_audit(entry);
        throw forbidden(*why);
      }
    }
    {
      Query q(c,
              "SELECT b.bag_id FROM bag_items bi JOIN bags b ON b.id = bi.bag_id WHERE bi.item_id = ? "
              "AND b.id <> ? AND b.state IN ('open', 'dispatched', 'receiving') AND bi.expected = 1");
      q->bind(1, item->id);
      q->bind(2, bag);
      if (q->executeStep()) {
        throw conflict("in_another_bag",
                       "Item " + id.str() + " is already in bag " + q->getColumn(0).getString() + ".");
      }
    }
    Query q(c, "INSERT OR IGNORE INTO bag_items (bag_id, item_id, added_at, added_by) VALUES (?, ?, ?, ?)");
    q->bind(1, bag);
    q->bind(2, item->id);
    q->bind(3, static_cast<std::int64_t>(now));
    q->bind(4, actor.user_id);
    q->exec();
  }

  static BagView load_bag(Conn& c, std::int64_t row) {
    BagView v;
    {
      Query q(c,
              "SELECT b.bag_id, o.code, d.code, b.state, b.created_at, COALESCE(cu.username, ''), b.dispatch_event_id, "
              "b.dispatched_at, COALESCE(du.username, ''), b.received_at, COALESCE(ru.username, ''), b.closed_at, "
              "COALESCE(xu.username, '') FROM bags b JOIN sites o ON o.id = b.origin_site_id "
              "JOIN sites d ON d.id = b.destination_site_id LEFT JOIN users cu ON cu.id = b.created_by "
              "LEFT JOIN users du ON du.id = b.dispatched_by LEFT JOIN users ru ON ru.id = b.received_by "
              "LEFT JOIN users xu ON xu.id = b.closed_by WHERE b.id = ?");
      q->bind(1, row);
      if (!q->executeStep()) throw std::runtime_error("bag vanished");
      v.bag_id = q->getColumn(0).getString();
      v.origin_site = q->getColumn(1).getString();
      v.destination_site = q->getColumn(2).getString();
      const auto state = q->getColumn(3).getString();
      v.state = state == "dispatched"  ? BagState::dispatched
                : state == "receiving" ? BagState::receiving
                : state == "closed"    ? BagState::closed
                                       : BagState::open;
      v.created_at = q->getColumn(4).getInt64();
      v.created_by = q->getColumn(5).getString();
      v.dispatch_event_id = opt_text(q->getColumn(6));
      if (!q->getColumn(7).isNull()) v.dispatched_at = q->getColumn(7).getInt64();
      v.dispatched_by = q->getColumn(8).getString();
      if (!q->getColumn(9).isNull()) v.received_at = q->getColumn(9).getInt64();
      v.received_by = q->getColumn(10).getString();
      if (!q->getColumn(11).isNull()) v.closed_at = q->getColumn(11).getInt64();
      v.closed_by = q->getColumn(12).getString();
    }
    Query q(
        c,
        "SELECT i.item_id, i.kind, i.state, bi.expected, bi.outcome, bi.scanned_at, d.dossier_code, "
        "d.procedure_name, d.due_date FROM bag_items bi JOIN items i ON i.id = bi.item_id "
        "JOIN dossiers d ON d.id = i.dossier_id WHERE bi.bag_id = ? ORDER BY bi.expected DESC, bi.added_at, i.item_id");
    q->bind(1, row);
    while (q->executeStep()) {
      BagItem item;
      item.item_id = q->getColumn(0).getString();
      item.kind = parse_or_throw(parse_item_kind(q->getColumn(1).getText()), "kind");
      item.state = parse_or_throw(parse_item_state(q->getColumn(2).getText()), "state");
      item.expected = q->getColumn(3).getInt() != 0;
      item.outcome = opt_text(q->getColumn(4));
      if (!q->getColumn(5).isNull()) item.scanned_at = q->getColumn(5).getInt64();
      item.dossier_code = opt_text(q->getColumn(6));
      item.procedure_name = q->getColumn(7).getString();
      item.due_date = opt_text(q->getColumn(8));
      v.items.push_back(std::move(item));
    }
    return v;
  }

  // --- helpers used inside write jobs (writer thread only)

  static std::optional<std::int64_t> site_row(Conn& c, const std::string& code) {
    auto r = site_row_with_kind(c, code);
    if (!r) return std::nullopt;
    return r->first;
  }

  static std::optional<std::pair<std::int64_t, SiteKind>> site_row_with_kind(Conn& c, const std::string& code) {
    Query q(c, "SELECT id, kind FROM sites WHERE code = ?");
    q->bind(1, code);
    if (!q->executeStep()) return std::nullopt;
    return std::pair{q->getColumn(0).getInt64(), parse_or_throw(parse_site_kind(q->getColumn(1).getText()), "kind")};
  }

  // Routes (item_route) are filled here: where the item starts and where it is delivered from.
  static ItemSummary insert_item(Conn& c, std::int64_t dossier_id, ItemKind kind, std::int64_t origin,
                                 std::optional<std::int64_t> destination, UnixMillis now,
                                 const std::vector<std::pair<std::int64_t, std::string>>& route) {
    const auto service = std::string(service_indicator(kind));
    std::int64_t serial = 0;
    {
      Query q(c,
              "INSERT INTO serials (service, next_serial) VALUES (?, 1) "
              "ON CONFLICT (service) DO UPDATE SET next_serial = next_serial + 1 RETURNING next_serial");
      q->bind(1, service);
      q->executeStep();
      serial = q->getColumn(0).getInt64();
    }
    const auto id = ItemId::make(service, static_cast<std::uint32_t>(serial));
    if (!id) throw unavailable("The item number range " + service + " is exhausted.");
    Query q(c,
            "INSERT INTO items (item_id, dossier_id, kind, state, origin_site_id, destination_site_id, "
            "tracking_token, created_at, lookup_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, id->str());
    q->bind(2, dossier_id);
    q->bind(3, std::string(to_string(kind)));
    q->bind(4, std::string(to_string(initial_state(kind))));
    q->bind(5, origin);
    if (destination) {
      q->bind(6, *destination);
    } else {
      q->bind(6);
    }
    q->bind(7, random_token(kTrackingTokenBytes));
    q->bind(8, static_cast<std::int64_t>(now));
    q->bind(9, random_digits(kLookupCodeDigits));
    q->exec();
    const auto row = c.db().getLastInsertRowid();
    for (const auto& [site, role] : route) add_route_stop(c, row, site, role, now);
    return ItemSummary{id->str(), kind, initial_state(kind)};
  }

  // The post office serving an office (its mail goes through there), when set.
  static std::optional<std::int64_t> serving_post_office(Conn& c, std::int64_t office_row) {
    Query q(c, "SELECT serving_post_office_id FROM sites WHERE id = ?");
    q->bind(1, office_row);
    if (!q->executeStep() || q->getColumn(0).isNull()) return std::nullopt;
    return q->getColumn(0).getInt64();
  }

  static bool is_post_office(Conn& c, std::int64_t site_row) {
    Query q(c, "SELECT kind FROM sites WHERE id = ?");
    q->bind(1, site_row);
    return q->executeStep() && q->getColumn(0).getString() == "post_office";
  }

  static std::optional<ItemRow> load_item_row(Conn& c, const std::string& item_id) {
    ItemRow r;
    {
      Query q(c,
              "SELECT i.id, i.kind, i.state, os.code, COALESCE(ds.code, ''), i.last_occurred_at, o.code, "
              "i.dossier_id FROM items i JOIN sites os ON os.id = i.origin_site_id "
              "LEFT JOIN sites ds ON ds.id = i.destination_site_id JOIN dossiers d ON d.id = i.dossier_id "
              "JOIN sites o ON o.id = d.office_site_id WHERE i.item_id = ?");
      q->bind(1, item_id);
      if (!q->executeStep()) return std::nullopt;
      r.id = q->getColumn(0).getInt64();
      r.item_id = item_id;
      r.kind = parse_or_throw(parse_item_kind(q->getColumn(1).getText()), "kind");
      r.state = parse_or_throw(parse_item_state(q->getColumn(2).getText()), "state");
      r.origin_site = q->getColumn(3).getString();
      r.destination_site = q->getColumn(4).getString();
      if (!q->getColumn(5).isNull()) r.last_occurred_at = q->getColumn(5).getInt64();
      r.office = q->getColumn(6).getString();
      r.dossier_id = q->getColumn(7).getInt64();
    }
    for (auto& stop : load_route(c, r.id)) r.route.push_back(std::move(stop.site));
    return r;
  }

  static std::vector<RouteStop> load_route(Conn& c, std::int64_t item_row) {
    Query q(c,
            "SELECT s.code, r.role FROM item_route r JOIN sites s ON s.id = r.site_id WHERE r.item_id = ? "
            "ORDER BY r.added_at, s.code");
    q->bind(1, item_row);
    std::vector<RouteStop> out;
    while (q->executeStep()) out.push_back(RouteStop{q->getColumn(0).getString(), q->getColumn(1).getString()});
    return out;
  }

  static void add_route_stop(Conn& c, std::int64_t item_row, std::int64_t site_row, std::string_view role,
                             UnixMillis now) {
    Query q(c, "INSERT OR IGNORE INTO item_route (item_id, site_id, role, added_at) VALUES (?, ?, ?, ?)");
    q->bind(1, item_row);
    q->bind(2, site_row);
    q->bind(3, std::string(role));
    q->bind(4, static_cast<std::int64_t>(now));
    q->exec();
  }

  // Written by the writer inside the job's transaction: a refusal is on record exactly when it was answered.
  // A refusal found inside a write job: written once the job ends, whether it commits or is taken back.
  void refusal_audit(AuditEntry entry) { refusal_audits_.push_back(std::move(entry)); }

  static void insert_audit(Conn& c, const AuditEntry& a) {
    Query q(c,
            "INSERT INTO audit_log (at, user_id, username, role, site, device_id, address, action, target, "
            "target_site, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, static_cast<std::int64_t>(a.at));
    if (a.user_id && *a.user_id != 0) {
      q->bind(2, *a.user_id);
    } else {
      q->bind(2);
    }
    q->bind(3, a.username);
    q->bind(4, a.role);
    q->bind(5, a.site);
    if (a.device_id) {
      q->bind(6, *a.device_id);
    } else {
      q->bind(6);
    }
    q->bind(7, a.address);
    q->bind(8, a.action);
    q->bind(9, a.target);
    q->bind(10, a.target_site);
    q->bind(11, a.outcome);
    q->bind(12, a.detail);
    q->exec();
  }

  static AuditEntry audit_of(const Actor& actor, std::string action, std::string target, std::string outcome,
                             std::string detail) {
    AuditEntry a;
    a.at = now_millis();
    a.user_id = actor.user_id;
    a.username = actor.username;
    a.role = std::string(to_string(actor.role));
    a.site = actor.site;
    a.device_id = actor.device_id;
    a.address = actor.address;
    a.action = std::move(action);
    a.target = std::move(target);
    a.outcome = std::move(outcome);
    a.detail = std::move(detail);
    return a;
  }

  // Scans through a device token must carry the device's signature over exactly what is recorded, and a device
  // counter never used before (design: a signed scan cannot be forged, altered or replayed as a new event).
  // Returns the refusal, or nullopt when the scan may go on. `out_signature` gets the raw signature.
  static std::optional<std::pair<std::string, std::string>> check_device_signature(Conn& c, const Actor& actor,
                                                                                   const ScanRequest& scan,
                                                                                   std::string& out_signature) {
    if (!actor.device_id) return std::nullopt;
    std::optional<signing::PublicKey> key;
    {
      Query q(c, "SELECT public_key FROM devices WHERE id = ?");
      q->bind(1, *actor.device_id);
      if (q->executeStep() && q->getColumn(0).getBytes() == 32) key = blob_array<32>(q->getColumn(0));
    }
    if (!key) {
      return std::pair{std::string("device_key_missing"),
                       std::string("This device was enrolled without a signing key: enrol it again.")};
    }
    if (!scan.signature || !scan.seq) {
      return std::pair{std::string("unsigned_scan"),
                       std::string("Scans from a scanner device must carry its signature (\"seq\", \"signature\").")};
    }
    const auto signature = signing::base64_decode_fixed<64>(*scan.signature);
    if (!signature || !signing::verify(signing::scan_signing_text(scan, *scan.seq), *signature, *key)) {
      return std::pair{std::string("bad_signature"),
                       std::string("The scan's signature does not match this device's key: it was altered or "
                                   "signed by another device.")};
    }
    {
      Query q(c, "SELECT event_id FROM events WHERE device_id = ? AND device_seq = ?");
      q->bind(1, *actor.device_id);
      q->bind(2, *scan.seq);
      if (q->executeStep() && q->getColumn(0).getString() != scan.event_id) {
        return std::pair{std::string("replayed_scan"), "This device already signed scan number " +
                                                           std::to_string(*scan.seq) +
                                                           " for another event: a replayed signature is refused."};
      }
    }
    out_signature.assign(reinterpret_cast<const char*>(signature->data()), signature->size());
    return std::nullopt;
  }

  // The rules beyond the table for failed attempts and returns (delivery_rules.hpp), against the failed attempts
  // that happened before the scan. Returns the refusal and the codes the rules leave allowed in `from`.
  // Working days are counted with the calendar frozen with the item's dossier (rule_sets), so a later change of
  // the calendar does not change what was allowed for dossiers received before it.
  std::optional<std::pair<RuleRefusal, std::vector<EventCode>>> check_failure_rules(Conn& c, const ItemRow& item,
                                                                                    ItemState from,
                                                                                    const ScanRequest& scan) {
    if (scan.code != EventCode::RTS && scan.code != EventCode::EDG) return std::nullopt;
    if (from != ItemState::attempt_failed && from != ItemState::attempts_exhausted) return std::nullopt;
    std::vector<FailedAttempt> failures;
    {
      Query q(c,
              "SELECT occurred_at, reason_code FROM events WHERE item_id = ? AND code = 'EMH' AND occurred_at <= ? "
              "ORDER BY occurred_at, id");
      q->bind(1, item.id);
      q->bind(2, static_cast<std::int64_t>(scan.occurred_at));
      while (q->executeStep()) {
        FailedAttempt f;
        f.occurred_at = q->getColumn(0).getInt64();
        f.reason_code = opt_enum(q->getColumn(1), parse_failure_reason, "reason_code");
        failures.push_back(f);
      }
    }
    const auto calendar = dossier_calendar(c, item.dossier_id);
    auto refusal = check_delivery_rules(from, scan.code, failures, *calendar);
    if (!refusal) return std::nullopt;
    std::vector<EventCode> allowed;
    for (auto code : allowed_codes(item.kind, from)) {
      if (!check_delivery_rules(from, code, failures, *calendar)) allowed.push_back(code);
    }
    return std::pair{std::move(*refusal), std::move(allowed)};
  }

  // The working calendar of the rule set a dossier was received under; the current one for a dossier without.
  // Rule sets never change once stored, so each is parsed once.
  std::shared_ptr<const WorkingCalendar> dossier_calendar(Conn& c, std::int64_t dossier_id) {
    std::int64_t id = rule_set_id_;
    {
      Query q(c, "SELECT rule_set_id FROM dossiers WHERE id = ? AND rule_set_id IS NOT NULL");
      q->bind(1, dossier_id);
      if (q->executeStep()) id = q->getColumn(0).getInt64();
    }
    {
      std::lock_guard lock(calendars_mutex_);
      if (auto it = calendars_.find(id); it != calendars_.end()) return it->second;
    }
    std::shared_ptr<const WorkingCalendar> calendar;
    {
      Query q(c, "SELECT calendar FROM rule_sets WHERE id = ?");
      q->bind(1, id);
      calendar = q->executeStep()
                     ? std::make_shared<const WorkingCalendar>(WorkingCalendar::parse(q->getColumn(0).getString()))
                     : std::make_shared<const WorkingCalendar>(WorkingCalendar::vietnam());
    }
    std::lock_guard lock(calendars_mutex_);
    return calendars_.emplace(id, std::move(calendar)).first->second;
  }

  static std::optional<EventRecord> load_event_by_event_id(Conn& c, const std::string& event_id) {
    Query q(c, kEventById);
    q->bind(1, event_id);
    if (!q->executeStep()) return std::nullopt;
    return read_event_with_leaf(*q);
  }

  ScanOutcome apply_scan(Conn& c, const Actor& actor, const ScanRequest& scan, UnixMillis now,
                         std::optional<UnixMillis> clock_offset_ms) {
    ScanOutcome out;
    out.event_id = scan.event_id;
    auto refuse = [&out](ScanStatus status, std::string code, std::string message) {
      out.status = status;
      out.error_code = std::move(code);
      out.message = std::move(message);
      return out;
    };

    std::string device_signature;
    if (auto refusal = check_device_signature(c, actor, scan, device_signature)) {
      refusal_audit(audit_of(actor, "device_signature", scan.item_id.str(), "denied",
                             refusal->first + ": " + refusal->second + " (event " + scan.event_id + ")"));
      return refuse(ScanStatus::forbidden, refusal->first, refusal->second);
    }

    // Whether the actor may record this scan on the item (roles and sites, authorize.hpp); audited when not.
    auto policy_refusal = [&](const ItemRow& item) -> std::optional<ScanOutcome> {
      if (!options_.policy) return std::nullopt;
      auto why = options_.policy(
          actor, scan,
          ScanTarget{item.kind, item.state, item.origin_site, item.destination_site, item.office, item.route});
      if (!why) return std::nullopt;
      auto entry = audit_of(actor, "denied", item.item_id, "denied",
                            "record_event " + std::string(to_string(scan.code)) + " at " + scan.site + ": " + *why);
      entry.target_site = item.office;
      refusal_audit(entry);
      return refuse(ScanStatus::forbidden, "forbidden", *why);
    };

    // Devices retry freely: the same event_id gets the stored answer and records nothing.
    if (auto existing = load_event_by_event_id(c, scan.event_id)) {
      if (existing->item_id != scan.item_id.str() || existing->code != scan.code || existing->site != scan.site ||
          existing->occurred_at != scan.occurred_at) {
        return refuse(ScanStatus::event_id_conflict, "event_id_conflict",
                      "Event " + scan.event_id + " was already recorded with different content (" +
                          std::string(to_string(existing->code)) + " on " + existing->item_id +
                          "): a new scan needs a new event_id.");
      }
      auto item = load_item_row(c, existing->item_id);
      // The stored answer holds the event (a recipient's name, a masked ID): only its recorder's retry gets it
      // as of right; anyone else must be allowed to record that scan now, or a public event id would read it.
      if (item && existing->recorded_by != actor.username) {
        if (auto refused = policy_refusal(*item)) return *refused;
      }
      out.status = ScanStatus::duplicate;
      if (item) out.item = ItemSummary{item->item_id, item->kind, item->state};
      out.event = std::move(existing);
      return out;
    }

    auto item = load_item_row(c, scan.item_id.str());
    if (!item) {
      return refuse(ScanStatus::unknown_item, "unknown_item", "There is no item " + scan.item_id.str() + ".");
    }
    out.item = ItemSummary{item->item_id, item->kind, item->state};

    const auto site_id = site_row(c, scan.site);
    if (!site_id) return refuse(ScanStatus::invalid, "unknown_site", "There is no site with code " + scan.site + ".");
    if (auto refused = policy_refusal(*item)) return *refused;
    if (requires_recipient(item->kind, scan.code) && !scan.recipient) {
      return refuse(ScanStatus::invalid, "recipient_required",
                    "A delivery (EMI) of a " + std::string(to_string(item->kind)) +
                        " item must name the recipient and say whether their ID was checked.");
    }
    if (requires_id_check(item->kind, scan.code) &&
        (!scan.recipient || !scan.recipient->id_checked || !scan.recipient->id_document)) {
      return refuse(ScanStatus::invalid, "id_check_required",
                    "A result is handed only to the applicant or an authorised person: its delivery (EMI) must record "
                    "the ID document checked (recipient.id_checked true, recipient.id_document {\"type\", "
                    "\"number\"}).");
    }
    switch (check_recorded_time(scan.occurred_at, now)) {
      case TimeCheck::in_future:
        return refuse(ScanStatus::invalid, "occurred_at_in_future",
                      "occurred_at is more than 10 minutes ahead of the server clock: check the device's clock.");
      case TimeCheck::too_old:
        return refuse(ScanStatus::invalid, "occurred_at_too_old",
                      "occurred_at is before 2020-01-01: check the device's clock.");
      case TimeCheck::ok:
        break;
    }

    ItemState state_after = item->state;
    ItemState item_state = item->state;
    ItemState state_before_late = item->state;
    bool late = false;
    // Refusals of the delivery rules (issue 7): 409 like the table's, listing what the rules leave allowed.
    auto refuse_rules = [&](const std::pair<RuleRefusal, std::vector<EventCode>>& refusal) {
      out.allowed = refusal.second;
      return refuse(ScanStatus::illegal_transition, refusal.first.code,
                    refusal.first.message + " Item " + item->item_id + " is " +
                        std::string(to_string(out.item->state)) + "; allowed next: " + join_codes(out.allowed) + ".");
    };
    if (!item->last_occurred_at || scan.occurred_at >= *item->last_occurred_at) {
      const auto next = next_state(item->kind, item->state, scan.code);
      if (!next) {
        out.allowed = allowed_codes(item->kind, item->state);
        return refuse(ScanStatus::illegal_transition, "illegal_transition",
                      std::string(to_string(scan.code)) + " is not allowed for item " + item->item_id + " in state " +
                          std::string(to_string(item->state)) + "; allowed next: " + join_codes(out.allowed) + ".");
      }
      state_after = item_state = *next;
    } else {
      // Arrived late: it happened before events already recorded. It is accepted when the history, replayed
      // in order of occurrence with it in place, is still allowed by the transition table.
      late = true;
      std::vector<EventCode> codes;
      std::size_t position = 0;
      {
        Query q(c, "SELECT code, occurred_at FROM events WHERE item_id = ? ORDER BY occurred_at, id");
        q->bind(1, item->id);
        while (q->executeStep()) {
          codes.push_back(parse_or_throw(parse_event_code(q->getColumn(0).getText()), "event code"));
          if (q->getColumn(1).getInt64() <= scan.occurred_at) position = codes.size();
        }
      }
      const auto before = replay(item->kind, std::span(codes).first(position));
      state_before_late = before.state;
      const auto next = before.first_illegal ? std::nullopt : next_state(item->kind, before.state, scan.code);
      codes.insert(codes.begin() + static_cast<std::ptrdiff_t>(position), scan.code);
      const auto after = replay(item->kind, codes);
      if (!next || after.first_illegal) {
        out.allowed = allowed_codes(item->kind, before.state);
        return refuse(ScanStatus::illegal_transition, "illegal_transition",
                      std::string(to_string(scan.code)) + " happened before events already recorded for item " +
                          item->item_id + " and does not fit its history (state then: " +
                          std::string(to_string(before.state)) + ", allowed then: " + join_codes(out.allowed) +
                          "; state now: " + std::string(to_string(item->state)) + ").");
      }
      state_after = *next;
      item_state = after.state;
    }
    const ItemState state_before = late ? state_before_late : item->state;
    if (auto refusal = check_failure_rules(c, *item, state_before, scan)) return refuse_rules(*refusal);

    EventRecord e;
    e.event_id = scan.event_id;
    e.item_id = item->item_id;
    e.code = scan.code;
    e.site = scan.site;
    e.occurred_at = scan.occurred_at;
    e.received_at = now;
    e.late = late;
    e.reason = scan.reason;
    e.reason_code = scan.reason_code;
    e.action = scan.action;
    e.recipient = scan.recipient;
    e.recorded_by = actor.username;
    e.device = scan.device;
    if (!e.device && actor.device_id) e.device = "device-" + std::to_string(*actor.device_id);
    e.state_after = state_after;
    e.clock_offset_ms = clock_offset_ms;
    e.seal_intact = scan.seal_intact;
    e.issue = scan.issue;
    if (actor.device_id) {
      e.device_id = actor.device_id;
      e.device_seq = scan.seq;
      e.device_signature = device_signature;
    }
    {
      Query name(c, "SELECT name FROM sites WHERE id = ?");
      name->bind(1, *site_id);
      if (name->executeStep()) e.site_name = name->getColumn(0).getString();
    }
    std::string previous;
    {
      Query q(c, "SELECT chain FROM events ORDER BY id DESC LIMIT 1");
      if (q->executeStep()) {
        previous.assign(static_cast<const char*>(q->getColumn(0).getBlob()), q->getColumn(0).getBytes());
      }
    }
    const auto chain = chain_next(previous, e);
    {
      Query q(c,
              "INSERT INTO events (event_id, item_id, code, site_id, user_id, device, occurred_at, received_at, late, "
              "reason, recipient_name, recipient_id_checked, recipient_relation, state_after, chain, clock_offset_ms, "
              "seal_intact, issue, device_id, device_seq, device_signature, reason_code, action, recipient_id_type, "
              "recipient_id_number_masked, authorization_number, authorization_date) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      q->bind(1, e.event_id);
      q->bind(2, item->id);
      q->bind(3, std::string(to_string(e.code)));
      q->bind(4, *site_id);
      if (actor.user_id != 0) {
        q->bind(5, actor.user_id);
      } else {
        q->bind(5);
      }
      bind_opt(*q, 6, e.device);
      q->bind(7, static_cast<std::int64_t>(e.occurred_at));
      q->bind(8, static_cast<std::int64_t>(e.received_at));
      q->bind(9, late ? 1 : 0);
      bind_opt(*q, 10, e.reason);
      if (e.recipient) {
        q->bind(11, e.recipient->name);
        q->bind(12, e.recipient->id_checked ? 1 : 0);
        bind_opt(*q, 13, e.recipient->relation);
      } else {
        q->bind(11);
        q->bind(12);
        q->bind(13);
      }
      q->bind(14, std::string(to_string(e.state_after)));
      q->bind(15, chain.data(), static_cast<int>(chain.size()));
      if (e.clock_offset_ms) {
        q->bind(16, static_cast<std::int64_t>(*e.clock_offset_ms));
      } else {
        q->bind(16);
      }
      if (e.seal_intact) {
        q->bind(17, *e.seal_intact ? 1 : 0);
      } else {
        q->bind(17);
      }
      bind_opt(*q, 18, e.issue ? std::optional<std::string>(std::string(to_string(*e.issue))) : std::nullopt);
      if (e.device_id) {
        q->bind(19, *e.device_id);
        q->bind(20, *e.device_seq);
        q->bind(21, e.device_signature->data(), static_cast<int>(e.device_signature->size()));
      } else {
        q->bind(19);
        q->bind(20);
        q->bind(21);
      }
      auto text_of = [](auto v) { return v ? std::optional<std::string>(std::string(to_string(*v))) : std::nullopt; };
      bind_opt(*q, 22, text_of(e.reason_code));
      bind_opt(*q, 23, text_of(e.action));
      const auto* doc = e.recipient && e.recipient->id_document ? &*e.recipient->id_document : nullptr;
      const auto* auth = e.recipient && e.recipient->authorization ? &*e.recipient->authorization : nullptr;
      bind_opt(*q, 24, doc ? std::optional<std::string>(std::string(to_string(doc->type))) : std::nullopt);
      bind_opt(*q, 25, doc ? std::optional<std::string>(doc->number_masked) : std::nullopt);
      bind_opt(*q, 26, auth ? std::optional<std::string>(auth->number) : std::nullopt);
      bind_opt(*q, 27, auth ? std::optional<std::string>(auth->date) : std::nullopt);
      q->exec();
    }
    const auto event_row = c.db().getLastInsertRowid();
    ledger_append(c, event_row, e);
    e.ledger_index = static_cast<std::int64_t>(sqlite::ledger_size(c)) - 1;
    unsigned_leaves_ = true;
    {
      Query q(c, "UPDATE items SET state = ?, last_occurred_at = MAX(COALESCE(last_occurred_at, ?), ?) WHERE id = ?");
      q->bind(1, std::string(to_string(item_state)));
      q->bind(2, static_cast<std::int64_t>(scan.occurred_at));
      q->bind(3, static_cast<std::int64_t>(scan.occurred_at));
      q->bind(4, item->id);
      q->exec();
    }
    // Same transaction as the event: an acknowledged event has its notifications queued, a refused or rolled
    // back one never does, and UNIQUE (event_id, channel) rules out a second row for the same event.
    if (is_notified(e.code)) queue_notifications(c, item->id, e);
    out.status = ScanStatus::recorded;
    out.item->state = item_state;
    out.event = std::move(e);
    return out;
  }

  void queue_notifications(Conn& c, std::int64_t item_row, const EventRecord& e) {
    NotificationConfig config;
    {
      std::lock_guard lock(mutex_);
      config.citizen = notify_config_.citizen;
      config.webhook = notify_config_.webhook;
      if (config.citizen) config.public_base_url = notify_config_.public_base_url;
    }
    if (!config.citizen && !config.webhook) return;
    NotificationFacts facts;
    std::string phone;
    {
      Query q(c,
              "SELECT i.kind, i.tracking_token, d.procedure_name, d.dossier_code, d.applicant_phone, "
              "COALESCE(o.name, '') FROM items i "
              "JOIN dossiers d ON d.id = i.dossier_id LEFT JOIN sites o ON o.id = d.office_site_id WHERE i.id = ?");
      q->bind(1, item_row);
      if (!q->executeStep()) throw std::runtime_error("item vanished while recording its event");
      facts.kind = parse_or_throw(parse_item_kind(q->getColumn(0).getText()), "kind");
      facts.tracking_token = q->getColumn(1).getString();
      facts.procedure_name = q->getColumn(2).getString();
      facts.dossier_code = opt_text(q->getColumn(3));
      phone = q->getColumn(4).getString();
      facts.office_name = q->getColumn(5).getString();
    }
    if (e.code == EventCode::RTS) {
      Query q(c,
              "SELECT reason_code, reason FROM events WHERE item_id = ? AND code = 'EMH' AND occurred_at <= ? "
              "ORDER BY occurred_at DESC, id DESC LIMIT 1");
      q->bind(1, item_row);
      q->bind(2, static_cast<std::int64_t>(e.occurred_at));
      if (q->executeStep()) {
        NotificationFacts::Failure f;
        f.reason_code = opt_enum(q->getColumn(0), parse_failure_reason, "reason_code");
        f.reason = opt_text(q->getColumn(1));
        facts.last_failure = std::move(f);
      }
    }
    facts.event = e;
    auto insert = [&](NotificationChannel channel, const std::string& recipient, const std::string& body) {
      Query q(c,
              "INSERT INTO notifications (event_id, channel, recipient, body, created_at, next_attempt_at) "
              "VALUES (?, ?, ?, ?, ?, ?)");
      q->bind(1, e.event_id);
      q->bind(2, std::string(to_string(channel)));
      q->bind(3, recipient);
      q->bind(4, body);
      q->bind(5, static_cast<std::int64_t>(e.received_at));
      q->bind(6, static_cast<std::int64_t>(e.received_at));
      q->exec();
      queued_in_group_ = true;
    };
    if (config.citizen && !phone.empty()) {
      if (auto text = citizen_text(facts, config.public_base_url)) insert(NotificationChannel::citizen, phone, *text);
    }
    if (config.webhook) insert(NotificationChannel::webhook, "", webhook_body(facts));
  }

  // --- read helpers

  static Actor read_actor(SQLite::Statement& q) {
    Actor a;
    a.user_id = q.getColumn(0).getInt64();
    a.username = q.getColumn(1).getString();
    a.role = parse_or_throw(parse_role(q.getColumn(2).getText()), "role");
    a.site = q.getColumn(3).getString();
    return a;
  }

  static std::optional<Device> load_device(Conn& c, std::int64_t id) {
    Query q(c,
            "SELECT x.id, x.name, u.username, COALESCE(s.code, ''), x.created_at, x.revoked_at, x.public_key "
            "FROM devices x "
            "JOIN users u ON u.id = x.user_id LEFT JOIN sites s ON s.id = u.site_id WHERE x.id = ?");
    q->bind(1, id);
    if (!q->executeStep()) return std::nullopt;
    Device d;
    d.id = q->getColumn(0).getInt64();
    d.name = q->getColumn(1).getString();
    d.username = q->getColumn(2).getString();
    d.site = q->getColumn(3).getString();
    d.created_at = q->getColumn(4).getInt64();
    if (!q->getColumn(5).isNull()) d.revoked_at = q->getColumn(5).getInt64();
    if (q->getColumn(6).getBytes() == 32) d.public_key = blob_array<32>(q->getColumn(6));
    return d;
  }

  static std::vector<std::string> load_scope(Conn& c, std::int64_t user_id) {
    Query q(c, "SELECT s.code FROM user_sites x JOIN sites s ON s.id = x.site_id WHERE x.user_id = ? ORDER BY s.code");
    q->bind(1, user_id);
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  }

  static bool dossier_exists(Conn& c, std::int64_t id) {
    Query q(c, "SELECT 1 FROM dossiers WHERE id = ?");
    q->bind(1, id);
    return q->executeStep();
  }

  static std::vector<DossierPause> read_pauses(Conn& c, std::int64_t dossier_id) {
    Query q(c,
            "SELECT p.dossier_id, p.paused_at, p.reason, COALESCE(a.username, ''), p.resumed_at, "
            "COALESCE(b.username, '') FROM dossier_pauses p LEFT JOIN users a ON a.id = p.paused_by "
            "LEFT JOIN users b ON b.id = p.resumed_by WHERE p.dossier_id = ? ORDER BY p.id");
    q->bind(1, dossier_id);
    std::vector<DossierPause> out;
    while (q->executeStep()) {
      DossierPause p;
      p.dossier_id = q->getColumn(0).getInt64();
      p.paused_at = q->getColumn(1).getInt64();
      p.reason = q->getColumn(2).getString();
      p.paused_by = q->getColumn(3).getString();
      if (!q->getColumn(4).isNull()) p.resumed_at = q->getColumn(4).getInt64();
      p.resumed_by = q->getColumn(5).getString();
      out.push_back(std::move(p));
    }
    return out;
  }

  // The rules in force: stored once per content, attached to dossiers that predate schema 0006.
  void register_rules(SQLite::Database& db) {
    const RuleSet rules = options_.rules ? *options_.rules
                                         : RuleSet::from_texts(std::string(WorkingCalendar::vietnam_source()),
                                                               std::string(LegLimits::defaults_source()));
    SQLite::Transaction tx(db);
    SQLite::Statement ins(
        db, "INSERT OR IGNORE INTO rule_sets (hash, calendar, leg_limits, first_used) VALUES (?, ?, ?, ?)");
    ins.bind(1, rules.hash);
    ins.bind(2, rules.calendar_text);
    ins.bind(3, rules.limits_text);
    ins.bind(4, static_cast<std::int64_t>(now_millis()));
    ins.exec();
    SQLite::Statement id(db, "SELECT id FROM rule_sets WHERE hash = ?");
    id.bind(1, rules.hash);
    id.executeStep();
    rule_set_id_ = id.getColumn(0).getInt64();
    SQLite::Statement old(db, "UPDATE dossiers SET rule_set_id = ? WHERE rule_set_id IS NULL");
    old.bind(1, rule_set_id_);
    old.exec();
    tx.commit();
  }

  static Site read_site(SQLite::Statement& q) {
    Site s;
    s.code = q.getColumn(0).getString();
    s.kind = parse_or_throw(parse_site_kind(q.getColumn(1).getText()), "site kind");
    s.name = q.getColumn(2).getString();
    s.agency_id = q.getColumn(3).getString();
    s.address = q.getColumn(4).getString();
    s.serving_post_office = q.getColumn(5).getString();
    s.province_code = q.getColumn(6).getString();
    if (!q.getColumn(7).isNull()) s.area = parse_area(q.getColumn(7).getText());
    return s;
  }

  static User read_user(SQLite::Statement& q) {
    User u;
    u.id = q.getColumn(0).getInt64();
    u.username = q.getColumn(1).getString();
    u.role = parse_or_throw(parse_role(q.getColumn(2).getText()), "role");
    u.site = q.getColumn(3).getString();
    u.full_name = q.getColumn(4).getString();
    u.active = q.getColumn(5).getInt() != 0;
    return u;
  }

  static std::optional<DossierInfo> load_dossier(Conn& c, std::int64_t id) {
    DossierInfo d;
    {
      Query q(
          c,
          "SELECT d.id, d.dossier_code, d.procedure_code, d.procedure_name, d.applicant_name, d.applicant_phone, "
          "d.applicant_address, d.applicant_id_number, o.code, o.name, g.code, d.service, d.due_date, "
          "d.created_at, d.fee_vnd, COALESCE(u.username, ''), d.procedure_category, d.processing_days FROM dossiers d "
          "JOIN sites o ON o.id = d.office_site_id JOIN sites g ON g.id = d.origin_site_id "
          "LEFT JOIN users u ON u.id = d.created_by WHERE d.id = ?");
      q->bind(1, id);
      if (!q->executeStep()) return std::nullopt;
      d.id = q->getColumn(0).getInt64();
      d.dossier_code = opt_text(q->getColumn(1));
      d.procedure_code = q->getColumn(2).getString();
      d.procedure_name = q->getColumn(3).getString();
      d.applicant.name = q->getColumn(4).getString();
      d.applicant.phone = q->getColumn(5).getString();
      d.applicant.address = q->getColumn(6).getString();
      d.applicant.id_number = q->getColumn(7).getString();
      d.office = q->getColumn(8).getString();
      d.office_name = q->getColumn(9).getString();
      d.origin_site = q->getColumn(10).getString();
      d.service = parse_or_throw(parse_service_option(q->getColumn(11).getText()), "service");
      d.due_date = opt_text(q->getColumn(12));
      d.created_at = q->getColumn(13).getInt64();
      if (!q->getColumn(14).isNull()) d.fee_vnd = q->getColumn(14).getInt64();
      d.created_by = q->getColumn(15).getString();
      d.procedure_category = opt_text(q->getColumn(16));
      if (!q->getColumn(17).isNull()) d.processing_days = q->getColumn(17).getInt();
    }
    {
      Query docs(c, "SELECT name, kind, count FROM dossier_documents WHERE dossier_id = ? ORDER BY position");
      docs->bind(1, id);
      while (docs->executeStep()) {
        d.documents.push_back(DossierDocument{
            docs->getColumn(0).getString(), parse_or_throw(parse_copy_kind(docs->getColumn(1).getText()), "copy kind"),
            docs->getColumn(2).getInt()});
      }
    }
    Query items(c, "SELECT item_id, kind, state FROM items WHERE dossier_id = ? ORDER BY id");
    items->bind(1, id);
    while (items->executeStep()) {
      d.items.push_back(ItemSummary{items->getColumn(0).getString(),
                                    parse_or_throw(parse_item_kind(items->getColumn(1).getText()), "kind"),
                                    parse_or_throw(parse_item_state(items->getColumn(2).getText()), "state")});
    }
    return d;
  }

  static std::optional<PublicItemView> read_public(Conn& c, SQLite::Statement& q) {
    if (!q.executeStep()) return std::nullopt;
    const auto row_id = q.getColumn(0).getInt64();
    PublicItemView v;
    v.item_id = q.getColumn(1).getString();
    v.kind = parse_or_throw(parse_item_kind(q.getColumn(2).getText()), "kind");
    v.state = parse_or_throw(parse_item_state(q.getColumn(3).getText()), "state");
    v.procedure_name = q.getColumn(4).getString();
    if (v.kind == ItemKind::dossier) v.destination_name = q.getColumn(5).getString();
    v.procedure_category =
        q.getColumn(6).isNull() ? std::string(kDefaultProcedureCategory) : q.getColumn(6).getString();
    q.reset();
    Query e(c,
            "SELECT e.event_id, e.code, s.code, s.name, e.occurred_at, e.received_at, e.action, e.reason_code "
            "FROM events e JOIN sites s ON s.id = e.site_id WHERE e.item_id = ? ORDER BY e.occurred_at, e.id");
    e->bind(1, row_id);
    while (e->executeStep()) {
      PublicEvent p;
      p.event_id = e->getColumn(0).getString();
      p.code = parse_or_throw(parse_event_code(e->getColumn(1).getText()), "event code");
      p.site = e->getColumn(2).getString();
      p.site_name = e->getColumn(3).getString();
      p.occurred_at = e->getColumn(4).getInt64();
      p.received_at = e->getColumn(5).getInt64();
      p.action = opt_enum(e->getColumn(6), parse_failure_action, "action");
      p.reason_code = opt_enum(e->getColumn(7), parse_failure_reason, "reason_code");
      v.events.push_back(std::move(p));
    }
    return v;
  }

  SqliteOptions options_;
  std::mutex calendars_mutex_;
  std::map<std::int64_t, std::shared_ptr<const WorkingCalendar>> calendars_;  // parsed rule_sets.calendar by id
  std::int64_t rule_set_id_ = 0;  // the rule set new dossiers are received under (register_rules)
  // Commit statistics (writer thread writes, /metrics reads).
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> failed_commits_{0};
  std::atomic<std::uint64_t> jobs_{0};
  std::atomic<std::uint64_t> commit_nanos_{0};
  std::array<std::atomic<std::uint64_t>, StorageStats::kCommitBuckets.size() + 1> commit_buckets_{};
  std::unique_ptr<Conn> writer_;
  std::thread writer_thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool closing_ = false;
  NotificationConfig notify_config_;        // guarded by mutex_
  bool queued_in_group_ = false;            // writer thread only: this group queued notifications
  bool auth_changed_ = false;               // writer thread only: this group changed who a token stands for
  SessionCache sessions_;                   // find_session's answers (session_cache.hpp)
  std::vector<AuditEntry> refusal_audits_;  // writer thread only: the current job's refusals, kept on rollback
  LedgerKey ledger_key_;
  bool unsigned_leaves_ = false;  // writer thread only: events appended since the last signed checkpoint
  UnixMillis last_checkpoint_at_ = 0;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Conn>> pool_;
  WorkerPool completions_{1, "dpost-done"};  // runs each group's `finish` calls after its commit (writer_loop)
};

}  // namespace

std::unique_ptr<Storage> open_sqlite_storage(SqliteOptions options) {
  try {
    return std::make_unique<SqliteStorage>(std::move(options));
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error(std::string("cannot use the database: ") + e.what());
  }
}

}  // namespace dpost::server
