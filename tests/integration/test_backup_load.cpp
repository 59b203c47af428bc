// `dossier-server backup` while a client keeps writing: every write acknowledged before the backup started is
// in the copy, the copy verifies, and the restore procedure of docs/operations.md ("Backup and restore") brings
// a server up that serves those items. The restore steps below are the documented ones, in the same order.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace dpost::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Acknowledged {
  std::string item_id;
  std::string event_id;  // the item's EMA scan
};

}  // namespace

TEST_CASE("backup under load: acknowledged writes are in the copy, it verifies, a restored server serves them") {
  TestServer server({"--demo", "--log-requests", "off"});
  std::mutex mutex;
  std::vector<Acknowledged> acknowledged;  // in acknowledgement order
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::string failure;

  // The writer: a new dossier (one write) then its EMA scan (a second write), again and again.
  std::thread writer([&] {
    try {
      ApiSession session(server);
      Timeline timeline;
      while (!stop) {
        auto created = session.create_dossier("clerk1", dossier_body(unique_applicant()));
        if (created.status != 201) throw std::runtime_error("create: " + describe(created));
        const auto item_id = created.json()["items"][0]["item_id"].get<std::string>();
        const auto scan = scan_body(item_id, "EMA", kPostOffice1, timeline.next(std::chrono::seconds(1)));
        auto answer = session.scan("clerk1", scan);
        if (answer.status != 201) throw std::runtime_error("scan: " + describe(answer));
        std::lock_guard lock(mutex);
        acknowledged.push_back({item_id, scan["event_id"].get<std::string>()});
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex);
      failure = e.what();
      ++failures;
    }
  });
  auto count = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  // Some history first, so that the copy has something to lose (bounded wait, not a timing assertion).
  for (int i = 0; i < 3000 && count() < 30 && failures == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  std::vector<Acknowledged> before;
  {
    std::lock_guard lock(mutex);
    before = acknowledged;  // everything acknowledged before the backup starts
  }
  const auto backup = (server.dir() / "backup.db").string();
  const int backup_rc = run_server_tool({"backup", "--db", server.db_path(), "--to", backup}, server.log_path());
  const auto during_and_after = [&] {
    // Keep writing a little after the backup returned: the server must not have stalled on it.
    const auto at_end = count();
    for (int i = 0; i < 3000 && count() < at_end + 10 && failures == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return count();
  }();
  stop = true;
  writer.join();
  INFO("writer failure: " << failure);
  REQUIRE(failures == 0);
  REQUIRE(backup_rc == 0);
  REQUIRE(before.size() >= 30);
  const auto total = count();
  CHECK(total > before.size());
  MESSAGE("acknowledged before the backup: " << before.size() << " items with their EMA; by the end: " << total << " ("
                                             << during_and_after - before.size() << " after it started)");

  // The copy on its own: the ledger and chains are intact.
  CHECK(run_server_tool({"verify", "--db", backup}, server.log_path()) == 0);

  // Restore, as docs/operations.md says: stop the server; move the database and its -wal/-shm aside; copy the
  // backup into place; verify; start (the ledger key file DB.ledger-key stays where it is).
  REQUIRE(server.stop() == 0);
  const auto aside = server.dir() / "replaced";
  fs::create_directory(aside);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path file = server.db_path() + suffix;
    if (fs::exists(file)) fs::rename(file, aside / file.filename());
  }
  fs::copy_file(backup, server.db_path());
  REQUIRE(run_server_tool({"verify", "--db", server.db_path()}, server.log_path()) == 0);
  server.restart();

  ApiSession session(server);
  for (const auto& a : before) {
    CAPTURE(a.item_id);
    auto view = session.item("clerk1", a.item_id);
    INFO(describe(view));
    REQUIRE(view.status == 200);
    CHECK(event_ids(view.json()) == std::vector<std::string>{a.event_id});
    CHECK(view.json()["state"] == "accepted");
  }
  // The restored server takes new writes on top of the restored history.
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()));
  REQUIRE(server.stop() == 0);
  CHECK(run_server_tool({"verify", "--db", server.db_path()}, server.log_path()) == 0);
}
