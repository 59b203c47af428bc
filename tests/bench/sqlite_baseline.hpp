#pragma once

#include <cstdint>
#include <string>

namespace dpost::bench {

struct SqliteBaselineOptions {
  std::string db_path;  // recreated
  int clients = 32;
  int seconds = 10;
};

// Bare SQLite group commit, the baseline for durable scans: `clients` producer threads each hand one
// event-shaped row at a time to a single writer thread and wait until it is committed; the writer commits
// whatever is queued in one transaction (WAL, synchronous=FULL: one fsync per commit, as in the server).
// Prints rows/s and the enqueue-to-commit latency.
int run_sqlite_baseline(const SqliteBaselineOptions& options);

}  // namespace dpost::bench
