#pragma once

#include "storage.hpp"

#include <memory>
#include <string>

namespace dpost::server {

struct SqliteOptions {
  SqliteOptions(std::string path_, ScanPolicy policy_ = {}, std::size_t max_group_ = 512, bool read_only_ = false)
      : path(std::move(path_)), policy(std::move(policy_)), max_group(max_group_), read_only(read_only_) {}
  std::string path;
  ScanPolicy policy;            // who may record which scan; required for record_scans
  std::size_t max_group = 512;  // most write jobs folded into one commit
  bool read_only = false;       // verify/backup tools: no writer thread, no migrations
  // The server's Ed25519 checkpoint key (hex seed, mode 0600), created on first start; default PATH.ledger-key.
  std::string ledger_key_path;
  // How often the writer signs a checkpoint while events arrive (and at shutdown).
  UnixMillis checkpoint_interval_ms = 1000;
  // The deadline rules in force (calendar.hpp): stored by hash at open, attached to every new dossier and to
  // dossiers from before schema 0006. Default: the embedded Vietnamese calendar and leg limits.
  std::optional<RuleSet> rules;
  // The writer's WAL frames go to the kernel in one write per commit (sqlite_wal_buffer.hpp); off only to
  // measure the difference.
  bool buffer_wal_writes = true;
};

// Opens (creating if needed) the database, applies the embedded migrations in order and starts the writer.
// SQLite specifics stay in here: WAL, synchronous=FULL, one writer thread doing group commit, read
// connections pooled for the other threads. Throws std::runtime_error with a clear message when the file
// cannot be used (not a database, newer schema than this binary, disk error).
std::unique_ptr<Storage> open_sqlite_storage(SqliteOptions options);

}  // namespace dpost::server
