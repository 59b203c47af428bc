#include "sqlite_baseline.hpp"

#include "bench_util.hpp"
#include "embedded_file.hpp"
#include "latency.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

namespace dpost::bench {

std::span<const dpost::EmbeddedFile> schema_files();  // generated from schema/*.sql

namespace {

struct Row {
  std::string event_id;
  std::int64_t item_rowid = 0;
  const char* code = "EDD";
  const char* state_after = "at_sorting";
  std::int64_t occurred_at = 0;
  std::array<unsigned char, 32> chain{};
};

// The queue between producers and the writer. Rows get increasing sequence numbers; the writer publishes the
// sequence number up to which everything is committed, and each producer waits for its own.
class CommitQueue {
 public:
  std::uint64_t push(Row row) {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(row));
    ++last_queued_;
    has_work_.notify_one();
    return last_queued_;
  }

  // Writer side: blocks until rows are queued or the producers are gone; empty when finished.
  std::vector<Row> take(std::uint64_t& up_to) {
    std::unique_lock lock(mutex_);
    has_work_.wait(lock, [&] { return !queued_.empty() || producers_done_; });
    up_to = last_queued_;
    return std::exchange(queued_, {});
  }

  void committed(std::uint64_t up_to) {
    {
      std::lock_guard lock(mutex_);
      last_committed_ = up_to;
    }
    committed_cv_.notify_all();
  }

  void wait_committed(std::uint64_t sequence) {
    std::unique_lock lock(mutex_);
    committed_cv_.wait(lock, [&] { return last_committed_ >= sequence; });
  }

  void finish() {
    std::lock_guard lock(mutex_);
    producers_done_ = true;
    has_work_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable has_work_;
  std::condition_variable committed_cv_;
  std::vector<Row> queued_;
  std::uint64_t last_queued_ = 0;
  std::uint64_t last_committed_ = 0;
  bool producers_done_ = false;
};

void create_schema(SQLite::Database& db, int items) {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA foreign_keys=ON");
  // The server's checkpoint settings (sqlite_storage.cpp), so that only the work per scan differs.
  db.exec("PRAGMA wal_autocheckpoint=10000");
  db.exec("PRAGMA journal_size_limit=67108864");
  for (const auto& file : schema_files()) db.exec(std::string(file.text));
  const auto now = unix_millis_now();
  SQLite::Transaction tx(db);
  db.exec("INSERT INTO sites (id, code, kind, name, created_at) VALUES (1, 'BC-HN01', 'post_office', 'BC', " +
          std::to_string(now) + "), (2, 'MC-HN-BD', 'office', 'MC', " + std::to_string(now) + ")");
  db.exec(
      "INSERT INTO users (id, username, password_hash, role, site_id, created_at) VALUES (1, 'clerk1', '', "
      "'clerk', 1, " +
      std::to_string(now) + ")");
  SQLite::Statement dossier(db,
                            "INSERT INTO dossiers (id, procedure_code, procedure_name, applicant_name, "
                            "office_site_id, origin_site_id, service, created_at) VALUES (?, '1.005129', 'P', 'A', "
                            "2, 1, 'both', ?)");
  SQLite::Statement item(db,
                         "INSERT INTO items (id, item_id, dossier_id, kind, state, origin_site_id, "
                         "destination_site_id, tracking_token, created_at) VALUES (?, ?, ?, 'dossier', 'accepted', "
                         "1, 2, ?, ?)");
  for (int i = 1; i <= items; ++i) {
    dossier.bind(1, i);
    dossier.bind(2, now);
    dossier.exec();
    dossier.reset();
    item.bind(1, i);
    item.bind(2, s10_item_id("EB", static_cast<std::uint32_t>(i)));
    item.bind(3, i);
    item.bind(4, "token" + std::to_string(i));
    item.bind(5, now);
    item.exec();
    item.reset();
  }
  tx.commit();
}

void writer_loop(SQLite::Database& db, CommitQueue& queue, std::atomic<std::uint64_t>& commits) {
  SQLite::Statement insert(db,
                           "INSERT INTO events (event_id, item_id, code, site_id, user_id, occurred_at, "
                           "received_at, state_after, chain) VALUES (?, ?, ?, 1, 1, ?, ?, ?, ?)");
  SQLite::Statement begin(db, "BEGIN IMMEDIATE");
  SQLite::Statement commit(db, "COMMIT");
  for (;;) {
    std::uint64_t up_to = 0;
    std::vector<Row> rows = queue.take(up_to);
    if (rows.empty()) return;
    begin.exec();
    begin.reset();
    const auto received_at = unix_millis_now();
    for (const Row& row : rows) {
      insert.bind(1, row.event_id);
      insert.bind(2, row.item_rowid);
      insert.bind(3, row.code);
      insert.bind(4, row.occurred_at);
      insert.bind(5, received_at);
      insert.bind(6, row.state_after);
      insert.bind(7, row.chain.data(), static_cast<int>(row.chain.size()));
      insert.exec();
      insert.reset();
    }
    commit.exec();
    commit.reset();
    commits.fetch_add(1, std::memory_order_relaxed);
    queue.committed(up_to);
  }
}

}  // namespace

int run_sqlite_baseline(const SqliteBaselineOptions& options) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(options.db_path + suffix);
  SQLite::Database db(options.db_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  create_schema(db, options.clients);

  CommitQueue queue;
  std::atomic<std::uint64_t> commits{0};
  std::thread writer([&] { writer_loop(db, queue, commits); });

  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::seconds(options.seconds);
  std::vector<LoadResult> per_client(static_cast<std::size_t>(options.clients));
  std::vector<std::thread> producers;
  for (int c = 0; c < options.clients; ++c) {
    producers.emplace_back([&, c] {
      LoadResult& mine = per_client[static_cast<std::size_t>(c)];
      std::mt19937_64 rng(static_cast<std::uint64_t>(c) * 7919 + 17);
      std::int64_t occurred_at = unix_millis_now();
      bool sorting_in = true;
      while (SteadyClock::now() < end) {
        Row row;
        row.event_id = random_uuid(rng);
        row.item_rowid = c + 1;
        row.code = sorting_in ? "EDD" : "EDE";
        row.state_after = sorting_in ? "at_sorting" : "left_sorting";
        occurred_at = std::max(occurred_at + 1, unix_millis_now());
        row.occurred_at = occurred_at;
        for (auto& byte : row.chain) byte = static_cast<unsigned char>(rng());
        const auto sent = SteadyClock::now();
        queue.wait_committed(queue.push(std::move(row)));
        const auto done = SteadyClock::now();
        if (done <= end) {
          ++mine.ok;
          mine.latency.add(done - sent);
        }
        sorting_in = !sorting_in;
      }
    });
  }
  for (auto& producer : producers) producer.join();
  queue.finish();
  writer.join();

  LoadResult total;
  total.seconds = options.seconds;
  for (auto& client : per_client) {
    total.ok += client.ok;
    total.latency.merge(client.latency);
  }
  const auto count = db.execAndGet("SELECT count(*) FROM events").getInt64();
  std::printf("sqlite-baseline: %d clients, %llu commits, %.1f rows per commit, %lld rows in the table\n",
              options.clients, static_cast<unsigned long long>(commits.load()),
              commits.load() ? static_cast<double>(count) / static_cast<double>(commits.load()) : 0.0,
              static_cast<long long>(count));
  print_result("sqlite group commit", total);
  return 0;
}

}  // namespace dpost::bench
