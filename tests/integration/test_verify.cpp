// `dossier-server verify --db FILE` exits 0 on an intact history and non-zero when a row was edited, deleted or
// reordered directly in the file (design.md section 6); `backup` writes a copy that verifies.
#include "itest_common.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace dpost::test;

namespace {

void tamper(const std::string& db_path, const std::string& sql) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
  db.exec("DROP TRIGGER IF EXISTS events_append_only_update");
  db.exec("DROP TRIGGER IF EXISTS events_append_only_delete");
  db.exec(sql);
}

}  // namespace

TEST_CASE("verify: an intact history passes — edits, deletions and swaps made in the file are found") {
  TestServer server({"--demo"});
  std::string backup;
  {
    ApiSession session(server);
    Timeline timeline;
    auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
    for (const char* code : {"EMA", "EDD", "EDE", "EMG"}) {
      record(session, "clerk1", scan_body(item_id, code, kPostOffice1, timeline.next()));
    }
    backup = (server.dir() / "backup.db").string();
    // Taken while the server runs.
    REQUIRE(run_server_tool({"backup", "--db", server.db_path(), "--to", backup}, server.log_path()) == 0);
  }
  REQUIRE(server.stop() == 0);
  CHECK(run_server_tool({"verify", "--db", server.db_path()}, server.log_path()) == 0);
  CHECK(run_server_tool({"verify", "--db", backup}, server.log_path()) == 0);

  const std::vector<std::pair<const char*, const char*>> attacks = {
      {"edit a time", "UPDATE events SET occurred_at = occurred_at + 1 WHERE id = 3"},
      {"edit a site", "UPDATE events SET site_id = (SELECT id FROM sites WHERE code = 'MC-HN-CG') WHERE id = 4"},
      {"delete a row", "DELETE FROM events WHERE id = 5"},
      {"swap two codes",
       "UPDATE events SET code = CASE id WHEN 6 THEN (SELECT code FROM events WHERE id = 7) "
       "ELSE (SELECT code FROM events WHERE id = 6) END WHERE id IN (6, 7)"},
      {"edit an item's state", "UPDATE items SET state = 'received' WHERE id = 1"},
  };
  for (const auto& [what, sql] : attacks) {
    const std::string attack = what;
    CAPTURE(attack);
    const auto copy = (server.dir() / "tampered.db").string();
    std::filesystem::copy_file(backup, copy, std::filesystem::copy_options::overwrite_existing);
    tamper(copy, sql);
    CHECK(run_server_tool({"verify", "--db", copy}, server.log_path()) != 0);
  }
  CHECK(run_server_tool({"verify", "--db", (server.dir() / "missing.db").string()}, server.log_path()) != 0);
}

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void drop_append_only_triggers(SQLite::Database& db) {
  for (const char* table : {"events", "ledger_leaves", "ledger_nodes", "ledger_checkpoints"}) {
    db.exec(std::string("DROP TRIGGER IF EXISTS ") + table + "_append_only_update");
    db.exec(std::string("DROP TRIGGER IF EXISTS ") + table + "_append_only_delete");
  }
}

// Runs verify on a copy of `pristine` changed by `change`; returns verify's exit code and fills `output`.
template <class Change>
int verify_changed(const TestServer& server, const std::string& pristine, Change&& change, std::string& output) {
  static int counter = 0;
  const auto copy = (server.dir() / ("tampered-" + std::to_string(++counter) + ".db")).string();
  std::filesystem::copy_file(pristine, copy, std::filesystem::copy_options::overwrite_existing);
  change(copy);
  const auto log = (server.dir() / ("verify-" + std::to_string(counter) + ".log")).string();
  const int rc = run_server_tool({"verify", "--db", copy}, log);
  output = read_all(log);
  std::filesystem::remove(copy);
  return rc;
}

}  // namespace

TEST_CASE("verify: the ledger finds edits to events and to itself, and names what changed") {
  TestServer server({"--demo"});
  ApiSession session(server);
  Timeline timeline;
  const std::string reason = "Cửa khóa, hàng xóm báo đi vắng đến thứ Hai " + new_uuid().substr(0, 8);
  std::vector<std::string> items;
  for (int i = 0; i < 3; ++i) {
    auto id = create_dossier_item(session, "clerk1", unique_applicant());
    for (const char* code : {"EMA", "EMG", "EDG"})
      record(session, "clerk1", scan_body(id, code, kPostOffice1, timeline.next()));
    auto failed = scan_body(id, "EMH", kPostOffice1, timeline.next());
    failed["reason"] = reason;
    failed["action"] = "redeliver";
    record(session, "clerk1", failed);
    items.push_back(id);
  }
  const auto pristine = (server.dir() / "pristine.db").string();
  REQUIRE(server.stop() == 0);  // writes the last checkpoint
  REQUIRE(run_server_tool({"backup", "--db", server.db_path(), "--to", pristine}, server.log_path()) == 0);
  std::string output;
  REQUIRE(verify_changed(
              server, pristine, [](const std::string&) {}, output) == 0);

  std::vector<std::int64_t> rows;
  {
    SQLite::Database db(pristine, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT id FROM events ORDER BY id");
    while (q.executeStep()) rows.push_back(q.getColumn(0).getInt64());
  }
  REQUIRE(rows.size() >= 12);

  SUBCASE("edits of the ledger's own rows and of its signed checkpoints") {
    const std::vector<std::pair<const char*, const char*>> attacks = {
        {"a leaf hash replaced", "UPDATE ledger_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 3"},
        {"an inner node replaced", "UPDATE ledger_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0"},
        {"a leaf deleted", "DELETE FROM ledger_leaves WHERE seq = 4"},
        {"two leaves' salts swapped",
         "UPDATE ledger_leaves SET salt = CASE seq WHEN 5 THEN (SELECT salt FROM ledger_leaves WHERE seq = 6) "
         "ELSE (SELECT salt FROM ledger_leaves WHERE seq = 5) END WHERE seq IN (5, 6)"},
        {"a checkpoint's root replaced",
         "UPDATE ledger_checkpoints SET root_hash = zeroblob(32) WHERE tree_size = (SELECT MAX(tree_size) FROM "
         "ledger_checkpoints)"},
        {"a checkpoint's time changed", "UPDATE ledger_checkpoints SET created_at = created_at + 1000"},
        {"an event inserted directly",
         "INSERT INTO events (event_id, item_id, code, site_id, user_id, device, occurred_at, received_at, late, "
         "reason, state_after, chain) SELECT '00000000-0000-4000-8000-000000000000', item_id, code, site_id, user_id, "
         "device, occurred_at, received_at, late, reason, state_after, chain FROM events ORDER BY id DESC LIMIT 1"},
        {"the newest event removed with its leaf",
         "DELETE FROM ledger_nodes WHERE level = 0 AND idx = (SELECT MAX(seq) FROM ledger_leaves); "
         "DELETE FROM ledger_leaves WHERE seq = (SELECT MAX(seq) FROM ledger_leaves); "
         "DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)"},
        {"two events' rows swapped in order",
         "UPDATE ledger_leaves SET seq = CASE seq WHEN 7 THEN 8 ELSE 7 END + 1000000 WHERE seq IN (7, 8); "
         "UPDATE ledger_leaves SET seq = seq - 1000000 WHERE seq >= 1000000"},
    };
    for (const auto& [what, sql] : attacks) {
      const std::string attack = what;
      CAPTURE(attack);
      const std::string statement = sql;
      const int rc = verify_changed(
          server, pristine,
          [&](const std::string& path) {
            SQLite::Database db(path, SQLite::OPEN_READWRITE);
            drop_append_only_triggers(db);
            db.exec(statement);
          },
          output);
      CAPTURE(output);
      CHECK(rc != 0);
      CHECK(contains(output, "verify: "));
    }
  }

  SUBCASE("random single-byte edits of stored events are each found, and the row is named") {
    std::mt19937 random(20261205);  // fixed: a failure can be replayed
    const std::vector<const char*> columns = {"event_id",    "code", "occurred_at", "received_at", "reason",
                                              "state_after", "late", "device_seq",  "issue",       "seal_intact"};
    int detected = 0;
    int trials = 0;
    while (trials < 40) {
      const auto row = rows[random() % rows.size()];
      const std::string column = columns[random() % columns.size()];
      std::string update;
      {
        SQLite::Database db(pristine, SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT " + column + " FROM events WHERE id = ?");
        q.bind(1, row);
        REQUIRE(q.executeStep());
        const auto value = q.getColumn(0);
        if (value.isNull()) continue;  // nothing stored there to edit
        if (value.isInteger()) {
          const auto v = value.getInt64();
          const auto flipped = v ^ (std::int64_t{1} << (random() % 8));
          update =
              "UPDATE events SET " + column + " = " + std::to_string(flipped) + " WHERE id = " + std::to_string(row);
        } else {
          auto text = value.getString();
          if (text.empty()) continue;
          const auto at = random() % text.size();
          text[at] = static_cast<char>(text[at] ^ (1 << (random() % 5)));
          update = "UPDATE events SET " + column + " = ? WHERE id = " + std::to_string(row);
          update = update.replace(update.find('?'), 1, "'" + text + "'");
        }
      }
      ++trials;
      CAPTURE(update);
      const int rc = verify_changed(
          server, pristine,
          [&](const std::string& path) {
            SQLite::Database db(path, SQLite::OPEN_READWRITE);
            drop_append_only_triggers(db);
            db.exec(update);
          },
          output);
      CAPTURE(output);
      CHECK(rc != 0);
      if (rc != 0) ++detected;
      CHECK(contains(output, "event row " + std::to_string(row)));
    }
    MESSAGE(detected << " of " << trials << " random single-byte edits detected");
  }

  SUBCASE("bytes flipped in the database file itself, where an event's text is stored") {
    const auto file = read_all(pristine);
    std::vector<std::size_t> offsets;
    for (auto at = file.find(reason); at != std::string::npos; at = file.find(reason, at + 1)) offsets.push_back(at);
    REQUIRE(offsets.size() == 3);  // one per EMH row, in the table: nothing indexes reasons
    for (const auto offset : offsets) {
      CAPTURE(offset);
      const int rc = verify_changed(
          server, pristine,
          [&](const std::string& path) {
            std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(static_cast<std::streamoff>(offset + 3));
            f.put(static_cast<char>(file[offset + 3] ^ 0x01));
          },
          output);
      CAPTURE(output);
      CHECK(rc != 0);
      CHECK(contains(output, "no longer matches its ledger leaf"));
    }
  }
}

TEST_CASE("verify: every ledger leaf has its own 16-byte salt, also past the first 256 (one draw of the pool)") {
  TestServer server({"--demo"});
  {
    ApiSession session(server);
    Timeline timeline;
    const auto item_id = accepted_dossier_item(session, timeline);
    nlohmann::json events = nlohmann::json::array();
    for (int i = 0; i < 300; ++i) {
      events.push_back(
          scan_body(item_id, i % 2 == 0 ? "EDD" : "EDE", kPostOffice1, timeline.next(std::chrono::seconds(10))));
    }
    auto answer =
        session.client.post("/api/v1/scans/batch", nlohmann::json{{"events", events}}, session.token("clerk1"));
    INFO(describe(answer));
    REQUIRE(answer.status == 200);
    int recorded = 0;
    const auto body = answer.json();
    std::string first_refusal;
    for (const auto& r : body["results"]) {
      if (r["outcome"] == "recorded") {
        ++recorded;
      } else if (first_refusal.empty()) {
        first_refusal = r.dump();
      }
    }
    INFO(first_refusal);
    CHECK(recorded == 300);
  }
  REQUIRE(server.stop() == 0);
  SQLite::Database db(server.db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT COUNT(*), COUNT(DISTINCT salt), MIN(length(salt)), MAX(length(salt)), "
                      "SUM(salt = zeroblob(16)) FROM ledger_leaves");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() > 300);
  CHECK(q.getColumn(1).getInt() == q.getColumn(0).getInt());
  CHECK(q.getColumn(2).getInt() == 16);
  CHECK(q.getColumn(3).getInt() == 16);
  CHECK(q.getColumn(4).getInt() == 0);
  CHECK(run_server_tool({"verify", "--db", server.db_path()}, server.log_path()) == 0);
}
