#pragma once

#include "storage.hpp"

#include <memory>
#include <string>

namespace dpost::server {

struct SqliteOptions {
  std::string path;
  ScanPolicy policy;            // who may record which scan; required for record_scans
  std::size_t max_group = 512;  // most write jobs folded into one commit
  bool read_only = false;       // verify/backup tools: no writer thread, no migrations
};

// Opens (creating if needed) the database, applies the embedded migrations in order and starts the writer.
// SQLite specifics stay in here: WAL, synchronous=FULL, one writer thread doing group commit, read
// connections pooled for the other threads. Throws std::runtime_error with a clear message when the file
// cannot be used (not a database, newer schema than this binary, disk error).
std::unique_ptr<Storage> open_sqlite_storage(SqliteOptions options);

}  // namespace dpost::server
