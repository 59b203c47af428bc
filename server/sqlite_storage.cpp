#include "sqlite_storage.hpp"

#include "api_error.hpp"
#include "auth.hpp"
#include "embedded_file.hpp"
#include "notify.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

namespace dpost::server {

std::span<const dpost::EmbeddedFile> schema_files();  // generated from schema/*.sql

namespace {

constexpr UnixMillis kFutureTolerance = 10 * 60 * 1000;  // device clocks drift; a scan 10 min ahead is refused
constexpr std::size_t kTrackingTokenBytes = 16;          // 128 random bits in the QR URL
constexpr std::size_t kSessionTokenBytes = 32;

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

// A connection with its prepared statements, used by one thread at a time.
class Conn {
 public:
  Conn(const std::string& path, int flags) : db_(path, flags) { db_.setBusyTimeout(5000); }
  SQLite::Database& db() { return db_; }

  // Statements are cached by the address of their SQL literal: every call site passes a literal.
  SQLite::Statement& stmt(const char* sql) {
    auto& slot = cache_[sql];
    if (!slot) {
      slot = std::make_unique<SQLite::Statement>(db_, sql);
    } else {
      slot->reset();
      slot->clearBindings();
    }
    return *slot;
  }
  void reset_all() {
    for (auto& [sql, s] : cache_) s->reset();
  }

 private:
  SQLite::Database db_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> cache_;
};

// Resets a cached statement when the query is done, so a read transaction is never left open (an open
// reader would keep WAL checkpoints from completing).
class Query {
 public:
  Query(Conn& conn, const char* sql) : s_(conn.stmt(sql)) {}
  ~Query() {
    try {
      s_.reset();
    } catch (...) {
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  SQLite::Statement* operator->() { return &s_; }
  SQLite::Statement& operator*() { return s_; }

 private:
  SQLite::Statement& s_;
};

// Several queries that must see one consistent state (an item and its events) share one read transaction;
// it also saves taking the WAL read lock once per query.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Conn& conn) : conn_(conn) { Query(conn_, "BEGIN")->exec(); }
  ~ReadSnapshot() {
    try {
      Query(conn_, "COMMIT")->exec();
    } catch (...) {
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Conn& conn_;
};

void bind_opt(SQLite::Statement& s, int index, const std::optional<std::string>& value) {
  if (value) {
    s.bind(index, *value);
  } else {
    s.bind(index);
  }
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}

template <class E>
E parse_or_throw(std::optional<E> value, std::string_view what) {
  if (!value) throw std::runtime_error("stored " + std::string(what) + " is not recognised");
  return *value;
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
#define DPOST_EVENT_SELECT                                                                                 \
  "SELECT e.event_id, i.item_id, e.code, s.code, s.name, e.occurred_at, e.received_at, e.late, e.reason, " \
  "e.recipient_name, e.recipient_id_checked, e.recipient_relation, COALESCE(u.username, ''), e.device, "   \
  "e.state_after, e.clock_offset_ms FROM events e JOIN items i ON i.id = e.item_id "                       \
  "JOIN sites s ON s.id = e.site_id LEFT JOIN users u ON u.id = e.user_id "
constexpr const char* kEventsOfItem = DPOST_EVENT_SELECT "WHERE e.item_id = ? ORDER BY e.occurred_at, e.id";
constexpr const char* kEventById = DPOST_EVENT_SELECT "WHERE e.event_id = ?";
#undef DPOST_EVENT_SELECT

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
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(SqliteOptions options) : options_(std::move(options)) {
    if (options_.read_only) {
      // Tools: check the file is a database we know without changing it.
      Conn probe(options_.path, SQLite::OPEN_READONLY);
      probe.db().execAndGet("SELECT COUNT(*) FROM schema_migrations");
      return;
    }
    writer_ = std::make_unique<Conn>(options_.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    auto& db = writer_->db();
    // Durability: WAL with synchronous=FULL fsyncs the log at every commit, so a commit that returned has
    // survived power loss; group commit (writer_loop) spreads that fsync over every write queued meanwhile.
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=FULL");
    db.exec("PRAGMA foreign_keys=ON");
    apply_migrations(db);
    writer_thread_ = std::thread([this] { writer_loop(); });
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

  std::optional<Actor> find_session(std::string_view token, UnixMillis now) override {
    const auto hash = sha256(token);
    auto conn = lease();
    Query q(*conn,
            "SELECT u.id, u.username, u.role, COALESCE(s.code, '') FROM sessions x JOIN users u ON u.id = x.user_id "
            "LEFT JOIN sites s ON s.id = u.site_id WHERE x.token_hash = ? AND x.expires_at > ? AND u.active = 1");
    q->bind(1, hash.data(), static_cast<int>(hash.size()));
    q->bind(2, static_cast<std::int64_t>(now));
    if (q->executeStep()) return read_actor(*q);
    // Not a login session: perhaps a scanner's device token (valid until revoked).
    Query d(
        *conn,
        "SELECT u.id, u.username, u.role, COALESCE(s.code, ''), x.id FROM devices x JOIN users u ON u.id = x.user_id "
        "LEFT JOIN sites s ON s.id = u.site_id WHERE x.token_hash = ? AND x.revoked_at IS NULL AND u.active = 1");
    d->bind(1, hash.data(), static_cast<int>(hash.size()));
    if (!d->executeStep()) return std::nullopt;
    auto a = read_actor(*d);
    a.device_id = d->getColumn(4).getInt64();
    return a;
  }

  bool is_revoked_device(std::string_view token) override {
    const auto hash = sha256(token);
    auto conn = lease();
    Query q(*conn, "SELECT 1 FROM devices WHERE token_hash = ? AND revoked_at IS NOT NULL");
    q->bind(1, hash.data(), static_cast<int>(hash.size()));
    return q->executeStep();
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
    Query q(*conn, "SELECT code, kind, name, agency_id, address FROM sites WHERE code = ?");
    q->bind(1, std::string(code));
    if (!q->executeStep()) return std::nullopt;
    return read_site(*q);
  }

  std::vector<Site> list_sites() override {
    auto conn = lease();
    Query q(*conn, "SELECT code, kind, name, agency_id, address FROM sites ORDER BY code");
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
              "i.created_at, i.dossier_id FROM items i JOIN sites os ON os.id = i.origin_site_id "
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
    }
    auto dossier = load_dossier(*conn, dossier_id);
    if (dossier) v.dossier = std::move(*dossier);
    Query e(*conn, kEventsOfItem);
    e->bind(1, row_id);
    while (e->executeStep()) v.events.push_back(read_event(*e));
    return v;
  }

  std::optional<PublicItemView> track_item(const ItemId& id) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    Query q(*conn,
            "SELECT i.id, i.item_id, i.kind, i.state, d.procedure_name, os.name FROM items i "
            "JOIN dossiers d ON d.id = i.dossier_id JOIN sites os ON os.id = d.office_site_id WHERE i.item_id = ?");
    q->bind(1, id.str());
    return read_public(*conn, *q);
  }

  std::optional<PublicItemView> track_token(std::string_view token) override {
    auto conn = lease();
    ReadSnapshot snapshot(*conn);
    Query q(*conn,
            "SELECT i.id, i.item_id, i.kind, i.state, d.procedure_name, os.name FROM items i "
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
          Query q(c, "INSERT INTO sites (code, kind, name, agency_id, address, created_at) VALUES (?, ?, ?, ?, ?, ?)");
          q->bind(1, site.code);
          q->bind(2, std::string(to_string(site.kind)));
          q->bind(3, site.name);
          q->bind(4, site.agency_id);
          q->bind(5, site.address);
          q->bind(6, static_cast<std::int64_t>(now_millis()));
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
        [token = std::move(token)](Conn& c) {
          const auto hash = sha256(token);
          Query q(c, "DELETE FROM sessions WHERE token_hash = ?");
          q->bind(1, hash.data(), static_cast<int>(hash.size()));
          return q->exec() > 0;
        },
        std::move(done));
  }

  void create_dossier(Actor actor, NewDossierRequest request, Done<DossierCreated> done) override {
    submit<DossierCreated>(
        [actor = std::move(actor), request = std::move(request)](Conn& c) {
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
                  "due_date, created_by, created_at, fee_vnd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
            out.items.push_back(insert_item(c, out.id, ItemKind::dossier, *origin, office->first, now));
          }
          return out;
        },
        std::move(done));
  }

  void create_result(Actor actor, std::int64_t dossier_id, Done<ItemSummary> done) override {
    submit<ItemSummary>(
        [actor = std::move(actor), dossier_id](Conn& c) {
          std::int64_t office_id = 0;
          std::string service;
          {
            Query q(c, "SELECT office_site_id, service FROM dossiers WHERE id = ?");
            q->bind(1, dossier_id);
            if (!q->executeStep()) throw not_found("There is no dossier " + std::to_string(dossier_id) + ".");
            office_id = q->getColumn(0).getInt64();
            service = q->getColumn(1).getString();
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
          return insert_item(c, dossier_id, ItemKind::result, office_id, std::nullopt, now_millis());
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

  void create_device(std::int64_t user_id, std::string name, Done<DeviceIssued> done) override {
    submit<DeviceIssued>(
        [user_id, name = std::move(name)](Conn& c) {
          DeviceIssued issued;
          issued.token = random_token(kSessionTokenBytes);
          const auto hash = sha256(issued.token);
          const UnixMillis now = now_millis();
          {
            Query q(c, "INSERT INTO devices (name, user_id, token_hash, created_at) VALUES (?, ?, ?, ?)");
            q->bind(1, name);
            q->bind(2, user_id);
            q->bind(3, hash.data(), static_cast<int>(hash.size()));
            q->bind(4, static_cast<std::int64_t>(now));
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
        [device_id](Conn& c) {
          Query q(c, "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
          q->bind(1, static_cast<std::int64_t>(now_millis()));
          q->bind(2, device_id);
          return q->exec() > 0;
        },
        std::move(done));
  }

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
    SQLite::Statement q(conn.db(),
                        "SELECT e.id, e.event_id, i.item_id, e.code, s.code, s.name, e.occurred_at, e.received_at, "
                        "e.late, e.reason, e.recipient_name, e.recipient_id_checked, e.recipient_relation, "
                        "COALESCE(u.username, ''), e.device, e.state_after, e.clock_offset_ms, e.chain FROM events e "
                        "LEFT JOIN items i ON i.id = e.item_id LEFT JOIN sites s ON s.id = e.site_id "
                        "LEFT JOIN users u ON u.id = e.user_id ORDER BY e.id");
    std::string previous;
    while (q.executeStep()) {
      const auto row_id = q.getColumn(0).getInt64();
      const std::string stored(static_cast<const char*>(q.getColumn(17).getBlob()), q.getColumn(17).getBytes());
      std::string expected;
      try {
        if (q.getColumn(2).isNull() || q.getColumn(4).isNull()) throw std::runtime_error("dangling reference");
        expected = chain_next(previous, read_event(q, 1));
      } catch (const std::exception& e) {
        problems.push_back("event row " + std::to_string(row_id) + ": unreadable (" + e.what() + ")");
      }
      if (!expected.empty() && expected != stored) {
        problems.push_back("event row " + std::to_string(row_id) + " (event " + q.getColumn(1).getString() +
                           "): hash chain broken: the row, or one before it, was edited, deleted or reordered");
        if (problems.size() >= 20) break;
      }
      previous = stored;
    }
    // The cached item state must be what its events say.
    SQLite::Statement items(conn.db(), "SELECT id, item_id, kind, state FROM items ORDER BY id");
    while (items.executeStep() && problems.size() < 40) {
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
  void writer_loop() {
    auto& db = writer_->db();
    for (;;) {
      std::vector<WriteJob> group;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) break;  // closing and drained
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
      try {
        db.exec("BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < group.size(); ++i) {
          db.exec("SAVEPOINT job");
          try {
            group[i].apply(*writer_);
            db.exec("RELEASE job");
          } catch (...) {
            errors[i] = std::current_exception();
            writer_->reset_all();
            db.exec("ROLLBACK TO job");
            db.exec("RELEASE job");
          }
        }
        db.exec("COMMIT");
        committed = true;
      } catch (const std::exception& e) {
        // The commit (or the transaction around it) failed, e.g. an I/O error or a full disk: nothing of
        // this group is durable, so nothing of it is acknowledged.
        fprintf(stderr, "storage: commit failed: %s\n", e.what());
        writer_->reset_all();
        try {
          if (!db.getHandle() || sqlite3_get_autocommit(db.getHandle()) == 0) db.exec("ROLLBACK");
        } catch (...) {
        }
        const auto error = std::make_exception_ptr(unavailable("Storage is unavailable: the change was not saved."));
        std::fill(errors.begin(), errors.end(), error);
      }
      if (committed && queued_in_group_) {
        std::function<void()> wake;
        {
          std::lock_guard lock(mutex_);
          wake = notify_config_.on_queued;
        }
        if (wake) wake();
      }
      for (std::size_t i = 0; i < group.size(); ++i) {
        try {
          group[i].finish(errors[i]);
        } catch (const std::exception& e) {
          fprintf(stderr, "storage: completion failed: %s\n", e.what());
        }
      }
    }
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

  static ItemSummary insert_item(Conn& c, std::int64_t dossier_id, ItemKind kind, std::int64_t origin,
                                 std::optional<std::int64_t> destination, UnixMillis now) {
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
            "tracking_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
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
    q->exec();
    return ItemSummary{id->str(), kind, initial_state(kind)};
  }

  static std::optional<ItemRow> load_item_row(Conn& c, const std::string& item_id) {
    Query q(c,
            "SELECT i.id, i.kind, i.state, os.code, COALESCE(ds.code, ''), i.last_occurred_at FROM items i "
            "JOIN sites os ON os.id = i.origin_site_id LEFT JOIN sites ds ON ds.id = i.destination_site_id "
            "WHERE i.item_id = ?");
    q->bind(1, item_id);
    if (!q->executeStep()) return std::nullopt;
    ItemRow r;
    r.id = q->getColumn(0).getInt64();
    r.item_id = item_id;
    r.kind = parse_or_throw(parse_item_kind(q->getColumn(1).getText()), "kind");
    r.state = parse_or_throw(parse_item_state(q->getColumn(2).getText()), "state");
    r.origin_site = q->getColumn(3).getString();
    r.destination_site = q->getColumn(4).getString();
    if (!q->getColumn(5).isNull()) r.last_occurred_at = q->getColumn(5).getInt64();
    return r;
  }

  static std::optional<EventRecord> load_event_by_event_id(Conn& c, const std::string& event_id) {
    Query q(c, kEventById);
    q->bind(1, event_id);
    if (!q->executeStep()) return std::nullopt;
    return read_event(*q);
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
    if (options_.policy) {
      if (auto why = options_.policy(actor, scan,
                                     ScanTarget{item->kind, item->state, item->origin_site, item->destination_site})) {
        return refuse(ScanStatus::forbidden, "forbidden", *why);
      }
    }
    if (requires_recipient(item->kind, scan.code) && !scan.recipient) {
      return refuse(ScanStatus::invalid, "recipient_required",
                    "A delivery (EMI) of a " + std::string(to_string(item->kind)) +
                        " item must name the recipient and say whether their ID was checked.");
    }
    if (scan.occurred_at > now + kFutureTolerance) {
      return refuse(ScanStatus::invalid, "occurred_at_in_future",
                    "occurred_at is more than 10 minutes ahead of the server clock: check the device's clock.");
    }

    ItemState state_after = item->state;
    ItemState item_state = item->state;
    bool late = false;
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

    EventRecord e;
    e.event_id = scan.event_id;
    e.item_id = item->item_id;
    e.code = scan.code;
    e.site = scan.site;
    e.occurred_at = scan.occurred_at;
    e.received_at = now;
    e.late = late;
    e.reason = scan.reason;
    e.recipient = scan.recipient;
    e.recorded_by = actor.username;
    e.device = scan.device;
    if (!e.device && actor.device_id) e.device = "device-" + std::to_string(*actor.device_id);
    e.state_after = state_after;
    e.clock_offset_ms = clock_offset_ms;
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
              "reason, recipient_name, recipient_id_checked, recipient_relation, state_after, chain, clock_offset_ms) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
      q->exec();
    }
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
              "SELECT i.kind, i.tracking_token, d.procedure_name, d.dossier_code, d.applicant_phone FROM items i "
              "JOIN dossiers d ON d.id = i.dossier_id WHERE i.id = ?");
      q->bind(1, item_row);
      if (!q->executeStep()) throw std::runtime_error("item vanished while recording its event");
      facts.kind = parse_or_throw(parse_item_kind(q->getColumn(0).getText()), "kind");
      facts.tracking_token = q->getColumn(1).getString();
      facts.procedure_name = q->getColumn(2).getString();
      facts.dossier_code = opt_text(q->getColumn(3));
      phone = q->getColumn(4).getString();
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
            "SELECT x.id, x.name, u.username, COALESCE(s.code, ''), x.created_at, x.revoked_at FROM devices x "
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
    return d;
  }

  static Site read_site(SQLite::Statement& q) {
    Site s;
    s.code = q.getColumn(0).getString();
    s.kind = parse_or_throw(parse_site_kind(q.getColumn(1).getText()), "site kind");
    s.name = q.getColumn(2).getString();
    s.agency_id = q.getColumn(3).getString();
    s.address = q.getColumn(4).getString();
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
      Query q(c,
              "SELECT d.id, d.dossier_code, d.procedure_code, d.procedure_name, d.applicant_name, d.applicant_phone, "
              "d.applicant_address, d.applicant_id_number, o.code, o.name, g.code, d.service, d.due_date, "
              "d.created_at, d.fee_vnd, COALESCE(u.username, '') FROM dossiers d "
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
    q.reset();
    Query e(c,
            "SELECT e.event_id, e.code, s.code, s.name, e.occurred_at, e.received_at FROM events e "
            "JOIN sites s ON s.id = e.site_id WHERE e.item_id = ? ORDER BY e.occurred_at, e.id");
    e->bind(1, row_id);
    while (e->executeStep()) {
      PublicEvent p;
      p.event_id = e->getColumn(0).getString();
      p.code = parse_or_throw(parse_event_code(e->getColumn(1).getText()), "event code");
      p.site = e->getColumn(2).getString();
      p.site_name = e->getColumn(3).getString();
      p.occurred_at = e->getColumn(4).getInt64();
      p.received_at = e->getColumn(5).getInt64();
      v.events.push_back(std::move(p));
    }
    return v;
  }

  SqliteOptions options_;
  std::unique_ptr<Conn> writer_;
  std::thread writer_thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool closing_ = false;
  NotificationConfig notify_config_;  // guarded by mutex_
  bool queued_in_group_ = false;      // writer thread only: this group queued notifications
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Conn>> pool_;
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
