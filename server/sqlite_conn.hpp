#pragma once

// Internal to the SQLite storage (sqlite_storage.cpp, sqlite_ledger.cpp): a connection with its statement cache,
// scoped queries and read snapshots. Not for other parts of the server, which see only storage.hpp.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dpost::server::sqlite {

// A connection with its prepared statements, used by one thread at a time.
class Conn {
 public:
  // `vfs`: a registered SQLite VFS by name, or empty for the default.
  // A connection is used by one thread at a time (leased from the pool, or the writer's own) and its statement
  // cache is not thread-safe anyway, so SQLite's per-connection mutex (taken on every step and column read) is
  // switched off with NOMUTEX.
  Conn(const std::string& path, int flags, const std::string& vfs = {})
      : db_(path, flags | SQLite::OPEN_NOMUTEX, 0, vfs) {
    db_.setBusyTimeout(5000);
  }
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

inline void bind_opt(SQLite::Statement& s, int index, const std::optional<std::string>& value) {
  if (value) {
    s.bind(index, *value);
  } else {
    s.bind(index);
  }
}

inline std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}

template <class E>
E parse_or_throw(std::optional<E> value, std::string_view what) {
  if (!value) throw std::runtime_error("stored " + std::string(what) + " is not recognised");
  return *value;
}

// A nullable column holding an enum's text: nullopt for NULL, else parsed, throwing like parse_or_throw.
template <class Parse>
auto opt_enum(const SQLite::Column& c, Parse parse, std::string_view what) -> decltype(parse(std::string_view{})) {
  if (c.isNull()) return std::nullopt;
  return parse_or_throw(parse(c.getText()), what);
}

// Blobs in and out as std::string (hash chains, salts, signatures, keys).
inline std::string blob(const SQLite::Column& c) {
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<std::size_t>(c.getBytes()));
}
template <std::size_t N>
std::array<unsigned char, N> blob_array(const SQLite::Column& c) {
  std::array<unsigned char, N> out{};
  if (static_cast<std::size_t>(c.getBytes()) != N) throw std::runtime_error("stored blob has the wrong size");
  const auto* data = static_cast<const unsigned char*>(c.getBlob());
  std::copy(data, data + N, out.begin());
  return out;
}

}  // namespace dpost::server::sqlite
