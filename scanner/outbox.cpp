#include "outbox.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace dpost::scanner {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS config (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    TEXT NOT NULL UNIQUE,
  item_id     TEXT NOT NULL,
  code        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending',
  attempts    INTEGER NOT NULL DEFAULT 0,
  outcome     TEXT NOT NULL DEFAULT '',
  http_status INTEGER NOT NULL DEFAULT 0,
  state       TEXT NOT NULL DEFAULT '',
  message     TEXT NOT NULL DEFAULT '',
  answered_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, seq);
)";

constexpr const char* kColumns =
    "seq, event_id, item_id, code, payload, created_at, status, attempts, outcome, http_status, state, message";

OutboxEvent row(SQLite::Statement& q) {
  OutboxEvent e;
  e.seq = q.getColumn(0).getInt64();
  e.event_id = q.getColumn(1).getString();
  e.item_id = q.getColumn(2).getString();
  e.code = q.getColumn(3).getString();
  e.payload = q.getColumn(4).getString();
  e.created_at = q.getColumn(5).getInt64();
  e.status = parse_outbox_status(q.getColumn(6).getString()).value_or(OutboxStatus::pending);
  e.attempts = q.getColumn(7).getInt();
  e.outcome = q.getColumn(8).getString();
  e.http_status = q.getColumn(9).getInt();
  e.state = q.getColumn(10).getString();
  e.message = q.getColumn(11).getString();
  return e;
}

// The outbox holds the device token and the device's signing key: only its owner may read it. The file is
// created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's mode), and an older
// outbox with wider rights is narrowed.
SQLite::Database open(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open the outbox " + path + ": " + std::strerror(errno));
  const bool narrowed = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!narrowed) throw std::runtime_error("cannot make the outbox " + path + " private: " + std::strerror(errno));
  return SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
}

}  // namespace

std::string_view to_string(OutboxStatus status) {
  switch (status) {
    case OutboxStatus::pending:
      return "pending";
    case OutboxStatus::sending:
      return "sending";
    case OutboxStatus::done:
      return "done";
    case OutboxStatus::refused:
      return "refused";
  }
  return "pending";
}

std::optional<OutboxStatus> parse_outbox_status(std::string_view text) {
  for (auto s : {OutboxStatus::pending, OutboxStatus::sending, OutboxStatus::done, OutboxStatus::refused}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

Outbox::Outbox(const std::string& path) : db_(open(path)) {
  // Another scanner process (a `sync` while `scan --watch` runs) may hold the write lock for a moment.
  db_.exec("PRAGMA busy_timeout = 10000");
  db_.exec("PRAGMA journal_mode = WAL");
  // FULL: the WAL is synced at every commit, so a scan the clerk saw "saved" survives a power cut.
  db_.exec("PRAGMA synchronous = FULL");
  db_.exec(kSchema);
}

void Outbox::add(const std::string& event_id, const std::string& item_id, const std::string& code,
                 const std::string& payload) {
  SQLite::Statement q(db_, "INSERT INTO outbox (event_id, item_id, code, payload, created_at) VALUES (?, ?, ?, ?, ?)");
  q.bind(1, event_id);
  q.bind(2, item_id);
  q.bind(3, code);
  q.bind(4, payload);
  q.bind(5, static_cast<std::int64_t>(now_millis()));
  q.exec();
}

std::vector<OutboxEvent> Outbox::unsent(std::size_t limit) const {
  SQLite::Statement q(db_, std::string("SELECT ") + kColumns +
                               " FROM outbox WHERE status IN ('pending', 'sending') ORDER BY seq LIMIT ?");
  q.bind(1, static_cast<std::int64_t>(limit));
  std::vector<OutboxEvent> out;
  while (q.executeStep()) out.push_back(row(q));
  return out;
}

std::vector<OutboxEvent> Outbox::list(std::optional<OutboxStatus> status, std::size_t limit) const {
  SQLite::Statement q(db_, std::string("SELECT ") + kColumns + " FROM outbox WHERE (?1 IS NULL OR status = ?1)" +
                               " ORDER BY seq DESC LIMIT ?2");
  if (status) {
    q.bind(1, std::string(to_string(*status)));
  } else {
    q.bind(1);
  }
  q.bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxEvent> out;
  while (q.executeStep()) out.push_back(row(q));
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<OutboxEvent> Outbox::find(const std::string& event_id) const {
  SQLite::Statement q(db_, std::string("SELECT ") + kColumns + " FROM outbox WHERE event_id = ?");
  q.bind(1, event_id);
  if (!q.executeStep()) return std::nullopt;
  return row(q);
}

OutboxCounts Outbox::counts() const {
  SQLite::Statement q(db_, "SELECT status, count(*) FROM outbox GROUP BY status");
  OutboxCounts c;
  while (q.executeStep()) {
    const auto status = parse_outbox_status(q.getColumn(0).getString());
    const auto n = q.getColumn(1).getInt64();
    if (!status || *status == OutboxStatus::pending || *status == OutboxStatus::sending) {
      c.pending += n;
    } else if (*status == OutboxStatus::done) {
      c.done += n;
    } else {
      c.refused += n;
    }
  }
  return c;
}

void Outbox::mark_sending(const std::vector<std::string>& event_ids) {
  SQLite::Transaction tx(db_);
  SQLite::Statement q(db_, "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE event_id = ?");
  for (const auto& id : event_ids) {
    q.bind(1, id);
    q.exec();
    q.reset();
  }
  tx.commit();
}

void Outbox::mark_done(const std::string& event_id, const std::string& outcome, int http_status,
                       const std::string& state) {
  SQLite::Statement q(db_,
                      "UPDATE outbox SET status = 'done', outcome = ?, http_status = ?, state = ?, message = '', "
                      "answered_at = ? WHERE event_id = ?");
  q.bind(1, outcome);
  q.bind(2, http_status);
  q.bind(3, state);
  q.bind(4, static_cast<std::int64_t>(now_millis()));
  q.bind(5, event_id);
  q.exec();
}

void Outbox::mark_refused(const std::string& event_id, const std::string& outcome, int http_status,
                          const std::string& state, const std::string& message) {
  SQLite::Statement q(db_,
                      "UPDATE outbox SET status = 'refused', outcome = ?, http_status = ?, state = ?, message = ?, "
                      "answered_at = ? WHERE event_id = ?");
  q.bind(1, outcome);
  q.bind(2, http_status);
  q.bind(3, state);
  q.bind(4, message);
  q.bind(5, static_cast<std::int64_t>(now_millis()));
  q.bind(6, event_id);
  q.exec();
}

void Outbox::mark_retry(const std::vector<std::string>& event_ids, const std::string& message) {
  SQLite::Transaction tx(db_);
  // Stays 'sending' when it was: the server may have committed the batch before the connection broke.
  SQLite::Statement q(db_, "UPDATE outbox SET message = ? WHERE event_id = ?");
  for (const auto& id : event_ids) {
    q.bind(1, message);
    q.bind(2, id);
    q.exec();
    q.reset();
  }
  tx.commit();
}

std::optional<std::string> Outbox::config(const std::string& key) const {
  SQLite::Statement q(db_, "SELECT value FROM config WHERE key = ?");
  q.bind(1, key);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

void Outbox::set_config(const std::string& key, const std::string& value) {
  SQLite::Statement q(db_, "INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?2");
  q.bind(1, key);
  q.bind(2, value);
  q.exec();
}

std::string Outbox::default_path() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/dossier-scanner/outbox.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.local/share/dossier-scanner/outbox.db";
}

}  // namespace dpost::scanner
