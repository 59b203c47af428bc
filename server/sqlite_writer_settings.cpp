#include "sqlite_writer_settings.hpp"

namespace dpost::server::sqlite {

void apply_writer_settings(SQLite::Database& db) {
  // Durability: WAL with synchronous=FULL fsyncs the log at every commit, so a commit that returned has
  // survived power loss; group commit (writer_loop) spreads that fsync over every write queued meanwhile.
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA foreign_keys=ON");
  // Each job of a group runs in its own savepoint, so SQLite keeps the pages it changes in a sub-journal; past
  // 64 KiB that goes to a temporary file, written page by page (as many writes as the WAL gets). A group
  // touches a few hundred KiB at most: keep it in memory.
  db.exec("PRAGMA temp_store=MEMORY");
  // The WAL is copied back into the database every 10,000 pages (~40 MB) instead of SQLite's 1,000: the same
  // hot pages (the newest events, their items, the ledger's edge) are copied once instead of ten times, and
  // the writer, which runs the checkpoint after its commit, spends a tenth of the time on it (+12% scans/s
  // in alternating runs). Crash recovery reads at most that much log. After a reset the log file is cut
  // back to 64 MB, so a burst that outran the checkpoints does not keep its disk space.
  db.exec("PRAGMA wal_autocheckpoint=10000");
  db.exec("PRAGMA journal_size_limit=67108864");
  // A transaction's changed pages stay in memory up to 64 MiB (16,384 pages) instead of being written to the
  // WAL once the page cache (2 MiB) is full. With SQLite 3.40, such mid-transaction frames followed by a job's
  // ROLLBACK TO can leave a log that crash recovery reads wrong: a stress test of random groups (savepoints,
  // rollbacks, spills) lost commits and once found the recovered database malformed; with no spill, none
  // (tests/unit/test_sqlite_wal_buffer.cpp). A group changes a few hundred pages; 64 MiB is far above that.
  db.exec("PRAGMA cache_spill=16384");
}

}  // namespace dpost::server::sqlite
