#include "track_db.hpp"

#include "bench_util.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace dpost::bench {

namespace {

constexpr std::string_view kService = "EB";  // not used by dossier-server's own numbering

struct Step {
  const char* code;
  const char* state_after;
  enum class Where { origin, sorting, delivery, office } where;
};

// A dossier item's journey (design.md section 4): EMA -> (EDD/EDE)* -> EMG -> EDG -> EMI -> RCV.
std::vector<Step> journey(int sorting_rounds) {
  using W = Step::Where;
  std::vector<Step> steps{{"EMA", "accepted", W::origin}};
  for (int i = 0; i < sorting_rounds; ++i) {
    steps.push_back({"EDD", "at_sorting", W::sorting});
    steps.push_back({"EDE", "left_sorting", W::sorting});
  }
  steps.push_back({"EMG", "at_delivery_office", W::delivery});
  steps.push_back({"EDG", "out_for_delivery", W::delivery});
  steps.push_back({"EMI", "delivered", W::delivery});
  steps.push_back({"RCV", "received", W::office});
  return steps;
}

std::int64_t lookup_id(SQLite::Database& db, const std::string& sql, const std::string& key) {
  SQLite::Statement query(db, sql);
  query.bind(1, key);
  if (!query.executeStep()) {
    throw std::runtime_error("'" + key + "' not found (" + sql +
                             "): start dossier-server --demo on the database first");
  }
  return query.getColumn(0).getInt64();
}

void write_ids(const std::string& path, int items) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  for (int i = 1; i <= items; ++i) out << s10_item_id(kService, static_cast<std::uint32_t>(i)) << '\n';
}

}  // namespace

int make_track_db(const TrackDbOptions& options) {
  SQLite::Database db(options.db_path, SQLite::OPEN_READWRITE);
  const auto existing =
      db.execAndGet("SELECT count(*) FROM items WHERE item_id LIKE '" + std::string(kService) + "%'").getInt64();
  if (existing == options.items) {
    const auto events = db.execAndGet("SELECT count(*) FROM events").getInt64();
    write_ids(options.ids_path, options.items);
    std::printf("make-track-db: reusing %s (%d items, %lld events)\n", options.db_path.c_str(), options.items,
                static_cast<long long>(events));
    return 0;
  }
  if (options.reuse_only) return 1;
  if (existing != 0) {
    throw std::runtime_error(options.db_path + " holds " + std::to_string(existing) + " generated items, not " +
                             std::to_string(options.items) + ": delete it first");
  }

  const auto started = SteadyClock::now();
  // The load itself need not be durable: a crash here means regenerating. The server's own pragmas apply again
  // on its next start.
  db.exec("PRAGMA synchronous=OFF");
  db.exec("PRAGMA cache_size=-262144");  // 256 MiB: keeps the unique indexes in memory during the load

  const auto origin = lookup_id(db, "SELECT id FROM sites WHERE code = ?", "BC-HN01");
  const auto office = lookup_id(db, "SELECT id FROM sites WHERE code = ?", "MC-HN-BD");
  std::int64_t other_post_office = origin;
  {
    SQLite::Statement query(db, "SELECT id FROM sites WHERE kind = 'post_office' AND id != ? ORDER BY id LIMIT 1");
    query.bind(1, origin);
    if (query.executeStep()) other_post_office = query.getColumn(0).getInt64();
  }
  const auto clerk = lookup_id(db, "SELECT id FROM users WHERE username = ?", "clerk1");
  const auto staff = lookup_id(db, "SELECT id FROM users WHERE username = ?", "staff1");

  SQLite::Transaction tx(db);
  SQLite::Statement insert_dossier(
      db,
      "INSERT INTO dossiers (procedure_code, procedure_name, applicant_name, applicant_phone, applicant_address, "
      "applicant_id_number, office_site_id, origin_site_id, service, created_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'both', ?, ?)");
  SQLite::Statement insert_item(
      db,
      "INSERT INTO items (item_id, dossier_id, kind, state, origin_site_id, destination_site_id, tracking_token, "
      "last_occurred_at, created_at) VALUES (?, ?, 'dossier', ?, ?, ?, ?, ?, ?)");
  SQLite::Statement insert_event(
      db,
      "INSERT INTO events (event_id, item_id, code, site_id, user_id, occurred_at, received_at, state_after, chain) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");

  static constexpr std::array<std::pair<const char*, const char*>, 4> kProcedures{{
      {"1.005129", "Cấp phiếu lý lịch tư pháp"},
      {"1.001612", "Đăng ký khai sinh"},
      {"2.000908", "Chứng thực bản sao từ bản chính"},
      {"1.004227", "Cấp đổi giấy phép lái xe"},
  }};
  static constexpr std::array kNames{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường",
                                     "Phạm Thị Dung", "Hoàng Văn Em",  "Vũ Thị Giang"};

  std::mt19937_64 rng(20261123);
  const std::int64_t year_ms = 365LL * 24 * 3600 * 1000;
  const std::int64_t first_created = unix_millis_now() - year_ms;
  const std::int64_t spacing = year_ms / options.items;  // spread over the past year
  std::uint64_t event_sequence = static_cast<std::uint64_t>(first_created);
  std::int64_t event_count = 0;
  std::array<unsigned char, 32> chain{};

  for (int i = 1; i <= options.items; ++i) {
    const auto& [procedure_code, procedure_name] = kProcedures[static_cast<std::size_t>(i) % kProcedures.size()];
    const std::int64_t created_at = first_created + static_cast<std::int64_t>(i) * spacing;
    insert_dossier.bind(1, procedure_code);
    insert_dossier.bind(2, procedure_name);
    insert_dossier.bind(3, kNames[static_cast<std::size_t>(i) % kNames.size()]);
    insert_dossier.bind(4, "09" + std::to_string(10'000'000 + i));
    insert_dossier.bind(5, "Hà Nội");
    insert_dossier.bind(6, std::to_string(1'000'000'000'000LL + i));
    insert_dossier.bind(7, office);
    insert_dossier.bind(8, origin);
    insert_dossier.bind(9, clerk);
    insert_dossier.bind(10, created_at);
    insert_dossier.exec();
    insert_dossier.reset();
    const std::int64_t dossier_id = db.getLastInsertRowid();

    std::vector<Step> steps = journey(3 + i % 2);
    if (rng() % 5 == 0) steps.resize(2 + rng() % (steps.size() - 2));  // one in five still on its way
    std::vector<std::int64_t> times;
    std::int64_t t = created_at;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      t += 600'000 + static_cast<std::int64_t>(rng() % 10'800'000);  // 10 min to 3 h apart
      times.push_back(t);
    }

    insert_item.bind(1, s10_item_id(kService, static_cast<std::uint32_t>(i)));
    insert_item.bind(2, dossier_id);
    insert_item.bind(3, steps.back().state_after);
    insert_item.bind(4, origin);
    insert_item.bind(5, office);
    insert_item.bind(6, random_token(rng, 26));
    insert_item.bind(7, times.back());
    insert_item.bind(8, created_at);
    insert_item.exec();
    insert_item.reset();
    const std::int64_t item_rowid = db.getLastInsertRowid();

    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Step& step = steps[s];
      std::int64_t site = origin;
      switch (step.where) {
        case Step::Where::origin:
          site = origin;
          break;
        case Step::Where::sorting:
          site = other_post_office;
          break;
        case Step::Where::delivery:
          site = origin;
          break;
        case Step::Where::office:
          site = office;
          break;
      }
      for (auto& byte : chain) byte = static_cast<unsigned char>(rng());
      insert_event.bind(1, sequential_uuid(event_sequence++, rng));
      insert_event.bind(2, item_rowid);
      insert_event.bind(3, step.code);
      insert_event.bind(4, site);
      insert_event.bind(5, step.where == Step::Where::office ? staff : clerk);
      insert_event.bind(6, times[s]);
      insert_event.bind(7, times[s] + static_cast<std::int64_t>(rng() % 60'000));
      insert_event.bind(8, step.state_after);
      insert_event.bind(9, chain.data(), static_cast<int>(chain.size()));
      insert_event.exec();
      insert_event.reset();
      ++event_count;
    }
  }
  {
    SQLite::Statement serial(db, "INSERT OR REPLACE INTO serials (service, next_serial) VALUES (?, ?)");
    serial.bind(1, std::string(kService));
    serial.bind(2, options.items + 1);
    serial.exec();
  }
  tx.commit();
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  write_ids(options.ids_path, options.items);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  std::printf("make-track-db: %d items, %lld events written to %s in %.1f s\n", options.items,
              static_cast<long long>(event_count), options.db_path.c_str(), seconds);
  return 0;
}

}  // namespace dpost::bench
