// The write-ahead-log buffer (server/sqlite_wal_buffer.hpp) on real database files: how many writes reach the
// file system, that other connections see every commit, that big and spilling transactions stay intact, and
// that a process killed after its commits returned loses none of them.
#include "sqlite_wal_buffer.hpp"
#include "sqlite_writer_settings.hpp"

#include <SQLiteCpp/Database.h>

#include <doctest/doctest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

namespace {

namespace walbuf = dpost::server::sqlite;

struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char pattern[] = "/tmp/dpost-walbuf-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string file(const char* name) const { return (dir / name).string(); }
};

// Under the shim in the counting test: the default VFS, counting the writes that reach a WAL file.
std::atomic<int> wal_writes{0};
sqlite3_vfs counting_vfs;
sqlite3_io_methods counting_methods;
const sqlite3_io_methods* default_methods = nullptr;

// Failures to inject below the shim: WAL writes fail with `fail_code` once armed (all of them, or those
// covering `fail_offset` when it is set), as on a full or failing disk.
int fail_code = SQLITE_OK;
sqlite3_int64 fail_offset = -1;

int counting_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 at) {
  ++wal_writes;
  if (fail_code != SQLITE_OK && (fail_offset < 0 || (at <= fail_offset && fail_offset < at + n))) return fail_code;
  return default_methods->xWrite(f, data, n, at);
}

struct FailWalWrites {
  FailWalWrites(int code, sqlite3_int64 offset = -1) {
    fail_code = code;
    fail_offset = offset;
  }
  ~FailWalWrites() {
    fail_code = SQLITE_OK;
    fail_offset = -1;
  }
};

int counting_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* inner = sqlite3_vfs_find(nullptr);
  const int rc = inner->xOpen(inner, name, f, flags, out_flags);
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    default_methods = f->pMethods;
    counting_methods = *f->pMethods;
    counting_methods.xWrite = counting_write;
    f->pMethods = &counting_methods;
  }
  return rc;
}

// Registers "counting" (the default VFS with WAL writes counted) and "walbuf-counting" (the shim over it).
void register_counting_vfs() {
  static bool done = false;
  if (done) return;
  done = true;
  counting_vfs = *sqlite3_vfs_find(nullptr);
  counting_vfs.zName = "counting";
  counting_vfs.xOpen = counting_open;
  counting_vfs.pNext = nullptr;
  sqlite3_vfs_register(&counting_vfs, 0);
  walbuf::register_wal_buffer_vfs("walbuf-counting", &counting_vfs);
}

struct Db {
  sqlite3* handle = nullptr;
  Db(const std::string& path, const char* vfs) {
    if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path);
    }
  }
  ~Db() { sqlite3_close(handle); }
  void exec(const std::string& sql) const {
    char* error = nullptr;
    if (sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(sql + ": " + message);
    }
  }
  std::string text(const std::string& sql) const {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(handle, sql.c_str(), -1, &q, nullptr);
    std::string out;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    return out;
  }
  long long number(const std::string& sql) const { return std::stoll(text(sql)); }
  int try_exec(const std::string& sql) const { return sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr); }
};

void setup(const Db& db, const char* synchronous = "FULL") {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(std::string("PRAGMA synchronous=") + synchronous);
  db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT)");
}

// One transaction of `rows` rows with random keys: each row changes a page of the table and one of the index.
void insert_rows(const Db& db, int rows) {
  db.exec("BEGIN");
  for (int i = 0; i < rows; ++i) {
    db.exec("INSERT INTO t (k, v) VALUES (hex(randomblob(16)), hex(randomblob(300)))");
  }
  db.exec("COMMIT");
}

}  // namespace

TEST_CASE("the WAL buffer hands a commit of many pages to the file system in a few writes, not two per page") {
  register_counting_vfs();
  TempDir temp;
  auto count_commit = [&](const char* vfs, const std::string& file) {
    Db db(temp.file(file.c_str()), vfs);
    setup(db);
    insert_rows(db, 2000);  // a table and index big enough that random keys touch many pages
    const int before = wal_writes.load();
    insert_rows(db, 100);  // ~40 pages: ~15 at the table's end, most of the index's ~25
    return wal_writes.load() - before;
  };
  const int plain = count_commit("counting", "plain.db");
  const int buffered = count_commit("walbuf-counting", "buffered.db");
  INFO("writes per commit: plain ", plain, ", buffered ", buffered);
  CHECK(plain >= 60);    // two per frame (84-86 here)
  CHECK(buffered <= 4);  // one per 124 KiB piece
}

TEST_CASE("through the WAL buffer, another connection sees each commit as soon as it returned") {
  TempDir temp;
  for (const char* synchronous : {"FULL", "NORMAL"}) {
    CAPTURE(synchronous);
    const auto path = temp.file(synchronous);
    Db writer(path, walbuf::wal_buffer_vfs());
    setup(writer, synchronous);
    Db reader(path, nullptr);
    for (int round = 1; round <= 30; ++round) {
      insert_rows(writer, round % 3 == 0 ? 200 : 3);  // some commits bigger than one 124 KiB piece
      const long long expected = writer.number("SELECT COUNT(*) FROM t");
      CHECK(reader.number("SELECT COUNT(*) FROM t") == expected);
    }
  }
}

TEST_CASE("a transaction larger than the page cache (frames written, read back and rewritten) stays intact") {
  TempDir temp;
  const auto path = temp.file("big.db");
  {
    Db writer(path, walbuf::wal_buffer_vfs());
    setup(writer);
    writer.exec("PRAGMA cache_size=20");  // spills dirty pages to the WAL in mid-transaction
    writer.exec("BEGIN");
    for (int i = 0; i < 3000; ++i) {
      writer.exec("INSERT INTO t (k, v) VALUES ('k" + std::to_string(i) + "', hex(randomblob(200)))");
      if (i % 7 == 0) writer.exec("UPDATE t SET v = 'changed' WHERE id = " + std::to_string(i / 2 + 1));
    }
    writer.exec("SAVEPOINT s");
    writer.exec("DELETE FROM t WHERE id % 2 = 0");
    writer.exec("ROLLBACK TO s");
    writer.exec("RELEASE s");
    writer.exec("COMMIT");
    CHECK(writer.text("PRAGMA integrity_check") == "ok");
  }
  Db plain(path, nullptr);
  CHECK(plain.text("PRAGMA integrity_check") == "ok");
  CHECK(plain.number("SELECT COUNT(*) FROM t") == 3000);
  CHECK(plain.number("SELECT COUNT(*) FROM t WHERE v = 'changed'") > 0);
}

TEST_CASE("a process killed right after its commits returned loses none of them") {
  TempDir temp;
  const auto path = temp.file("crash.db");
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(pipe_fds[0]);
    try {
      Db writer(path, walbuf::wal_buffer_vfs());
      setup(writer);
      for (int round = 0; round < 100; ++round) {
        insert_rows(writer, 5);
        const char done = 1;  // "acknowledged": the commit returned
        if (write(pipe_fds[1], &done, 1) != 1) _exit(2);
      }
      kill(getpid(), SIGKILL);  // no close, no checkpoint: as a crash would leave the files
    } catch (...) {
      _exit(3);
    }
  }
  close(pipe_fds[1]);
  int acknowledged = 0;
  char byte = 0;
  while (read(pipe_fds[0], &byte, 1) == 1) ++acknowledged;
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(acknowledged == 100);
  Db plain(path, nullptr);
  CHECK(plain.text("PRAGMA integrity_check") == "ok");
  CHECK(plain.number("SELECT COUNT(*) FROM t") == 5 * acknowledged);
}

TEST_CASE("a full disk while buffered frames are read back fails the transaction: it never commits half") {
  // The server's pattern: a group in one transaction, a savepoint per job, the page cache spilling frames into
  // the buffer. A later job reads a spilled page back; the flush before that read hits a full disk.
  register_counting_vfs();
  TempDir temp;
  const auto path = temp.file("full.db");
  Db writer(path, "walbuf-counting");
  setup(writer);
  writer.exec("PRAGMA temp_store=MEMORY");
  writer.exec("PRAGMA cache_size=10");
  writer.exec("CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT)");
  writer.exec("BEGIN IMMEDIATE");
  writer.exec("SAVEPOINT job");
  for (int i = 0; i < 400; ++i) writer.exec("INSERT INTO t (k, v) VALUES (hex(randomblob(16)), hex(randomblob(300)))");
  writer.exec("RELEASE job");
  writer.exec("SAVEPOINT job");
  int job_rc = SQLITE_OK;
  {
    FailWalWrites full(SQLITE_FULL);
    job_rc = writer.try_exec("INSERT INTO u (k, v) SELECT k, v FROM t");
  }
  CHECK(job_rc != SQLITE_OK);
  // The disk has room again; the server takes the job back and commits the others.
  int commit_rc = SQLITE_OK;
  if (sqlite3_get_autocommit(writer.handle) == 0) {
    writer.try_exec("ROLLBACK TO job");
    writer.try_exec("RELEASE job");
    commit_rc = writer.try_exec("COMMIT");
    if (commit_rc != SQLITE_OK) writer.try_exec("ROLLBACK");
  }
  Db reader(path, nullptr);
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
  // Either the whole transaction is gone, or (when SQLite rolled back only the failed statement and the commit
  // went through) all 400 rows of the first job are there, intact.
  const auto rows = reader.number("SELECT COUNT(*) FROM t");
  CHECK((rows == 0 || (rows == 400 && commit_rc == SQLITE_OK)));
  CHECK(reader.number("SELECT COUNT(*) FROM u") == 0);
  // The connection works again once that transaction is over.
  insert_rows(writer, 5);
  CHECK(reader.number("SELECT COUNT(*) FROM t") == rows + 5);
}

TEST_CASE("a commit whose page is the first write past a full buffer still reports that page's failed write") {
  // 1 MiB buffer, 4 KiB pages: a 253-page commit's last frame header still fits, its page does not. Under
  // synchronous=NORMAL no sync follows, so only the commit's own write can report the failure.
  register_counting_vfs();
  TempDir temp;
  const auto path = temp.file("boundary.db");
  Db writer(path, "walbuf-counting");
  setup(writer, "NORMAL");
  writer.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)");
  const auto before = writer.number("SELECT COUNT(*) FROM b");
  writer.exec("PRAGMA wal_checkpoint(TRUNCATE)");  // the next commit starts the log afresh, at frame 1
  writer.exec("BEGIN");
  for (int i = 0; i < 253; ++i) writer.exec("INSERT INTO b (v) VALUES (randomblob(3900))");
  const sqlite3_int64 frame = 24 + 4096;
  int commit_rc = SQLITE_OK;
  {
    // The page of frame 255 (at 32 + 254 frames + its header): past the 1 MiB buffer.
    FailWalWrites broken(SQLITE_IOERR_WRITE, 32 + 254 * frame + 24 + 100);
    commit_rc = writer.try_exec("COMMIT");
  }
  if (commit_rc != SQLITE_OK && sqlite3_get_autocommit(writer.handle) == 0) writer.try_exec("ROLLBACK");
  CHECK(commit_rc != SQLITE_OK);
  Db reader(path, nullptr);
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
  CHECK(reader.number("SELECT COUNT(*) FROM b") == before);
}

namespace {

// count:sum(id):sum(length):sum(first character) of table t: equal states, equal strings.
std::string table_state(SQLite::Database& db) {
  return db
      .execAndGet(
          "SELECT COUNT(*) || ':' || total(id) || ':' || total(length(v)) || ':' || total(unicode(v)) "
          "FROM t")
      .getString();
}

}  // namespace

TEST_CASE(
    "under the writer's settings, groups with savepoints, rollbacks and a small page cache recover after a crash") {
  // The writer's pattern (a group in one transaction, a savepoint per job, some jobs rolled back) with a page
  // cache of 8 pages, so that every big group outgrows it. After each commit the files are copied as a crash
  // would leave them (no -shm) and recovered with the default VFS: the copy must hold exactly what was
  // committed. SQLite 3.40 got this wrong when changed pages spilled into the log mid-transaction.
  TempDir temp;
  const auto path = temp.file("groups.db");
  const auto copy = temp.file("crash.db");
  SQLite::Database writer(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, walbuf::wal_buffer_vfs());
  dpost::server::sqlite::apply_writer_settings(writer);
  writer.exec("PRAGMA cache_size=8");
  writer.exec("PRAGMA wal_autocheckpoint=300");  // restarts of the log within the test's few thousand pages
  writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT)");
  std::mt19937 rng(1);
  int wrong = 0;
  std::string first_wrong;
  for (int round = 0; round < 300; ++round) {
    writer.exec("BEGIN IMMEDIATE");
    const int jobs = 1 + static_cast<int>(rng() % 5);
    for (int j = 0; j < jobs; ++j) {
      writer.exec("SAVEPOINT job");
      const int n = rng() % 4 == 0 ? 200 : 1 + static_cast<int>(rng() % 10);
      for (int i = 0; i < n; ++i) {
        const auto op = rng() % 10;
        if (op < 6) {
          writer.exec("INSERT INTO t (k, v) VALUES (hex(randomblob(12)), hex(randomblob(" +
                      std::to_string(50 + rng() % 600) + ")))");
        } else if (op < 8) {
          writer.exec("UPDATE t SET v = hex(randomblob(" + std::to_string(10 + rng() % 900) +
                      ")) WHERE id % 37 = " + std::to_string(rng() % 37));
        } else {
          writer.exec("DELETE FROM t WHERE id % 53 = " + std::to_string(rng() % 53));
        }
      }
      if (rng() % 4 == 0) writer.exec("ROLLBACK TO job");
      writer.exec("RELEASE job");
    }
    writer.exec(rng() % 10 == 0 ? "ROLLBACK" : "COMMIT");
    std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(path + "-wal", copy + "-wal", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(copy + "-shm");
    std::string recovered;
    try {
      SQLite::Database crashed(copy, SQLite::OPEN_READWRITE);
      recovered = table_state(crashed);
    } catch (const std::exception& e) {
      recovered = e.what();
    }
    if (recovered != table_state(writer)) {
      if (wrong++ == 0) first_wrong = "round " + std::to_string(round) + ": recovered " + recovered;
    }
  }
  INFO(first_wrong);
  CHECK(wrong == 0);
}
