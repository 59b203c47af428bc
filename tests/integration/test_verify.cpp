// `dossier-server verify --db FILE` exits 0 on an intact history and non-zero when a row was edited, deleted or
// reordered directly in the file (design.md section 6); `backup` writes a copy that verifies.
#include "itest_common.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <filesystem>

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
