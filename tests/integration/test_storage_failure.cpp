// A commit that fails with an I/O error is never acknowledged. The server runs with a file-size limit
// (RLIMIT_FSIZE, SIGXFSZ ignored), so once its write-ahead log reaches the limit every write fails with EFBIG,
// as on a full disk. Every scan answered 2xx must be stored after a restart without the limit; every scan
// answered 503 must not be; the server must keep answering meanwhile.
#include "itest_common.hpp"

#include <fstream>

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>
#include <set>

using namespace dpost::test;
using nlohmann::json;

namespace {

// Starts the server with the file-size limit: rlimits and ignored signals are inherited through exec.
std::unique_ptr<TestServer> start_limited(rlim_t max_file_bytes) {
  rlimit previous{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &previous) == 0);
  auto previous_xfsz = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = previous;
  limited.rlim_cur = max_file_bytes;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  std::unique_ptr<TestServer> server;
  try {
    server = std::make_unique<TestServer>(std::vector<std::string>{"--demo"});
  } catch (...) {
    setrlimit(RLIMIT_FSIZE, &previous);
    std::signal(SIGXFSZ, previous_xfsz);
    throw;
  }
  REQUIRE(setrlimit(RLIMIT_FSIZE, &previous) == 0);
  std::signal(SIGXFSZ, previous_xfsz);
  return server;
}

}  // namespace

TEST_CASE("a commit that fails for lack of space is answered 503 and nothing unacknowledged is stored") {
  auto server = start_limited(3 * 1024 * 1024);
  std::set<std::string> acknowledged;
  std::set<std::string> refused;
  std::vector<std::string> items;
  std::map<std::string, std::string> next_code;
  {
    ApiSession session(*server);
    Timeline timeline(std::chrono::minutes(24 * 60));
    for (int i = 0; i < 4; ++i) {
      auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
      record(session, "clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()));
      items.push_back(item_id);
      next_code[item_id] = "EDD";
    }
    // EDD/EDE alternate for ever on an item, so every scan is legal until the disk is "full".
    for (int n = 0; n < 3000 && refused.size() < 20; ++n) {
      const auto& item_id = items[static_cast<std::size_t>(n) % items.size()];
      auto scan = scan_body(item_id, next_code[item_id], kPostOffice1, timeline.next(std::chrono::seconds(1)));
      auto answer = session.scan("clerk1", scan);
      const auto event_id = scan["event_id"].get<std::string>();
      if (answer.status == 201) {
        acknowledged.insert(event_id);
        next_code[item_id] = next_code[item_id] == "EDD" ? "EDE" : "EDD";
      } else {
        INFO(describe(answer));
        REQUIRE(answer.status == 503);
        check_error(answer, 503, "storage_unavailable");
        refused.insert(event_id);
      }
    }
    MESSAGE("before the limit: " << acknowledged.size() << " scans acknowledged; then " << refused.size()
                                 << " refused with 503");
    REQUIRE(refused.size() >= 1);
    // Still serving reads while writes fail.
    CHECK(session.client.get("/healthz").status == 200);
    CHECK(session.track(items[0]).status == 200);
  }
  // The operator sees why in the log: a JSON error event naming the failure, not a bare text line.
  {
    std::ifstream log(server->log_path());
    bool saw_commit_failure = false;
    for (std::string line; std::getline(log, line);) {
      if (line.find("storage_commit_failed") == std::string::npos) continue;
      auto entry = nlohmann::json::parse(line, nullptr, false);
      REQUIRE_MESSAGE(entry.is_object(), line);
      CHECK(entry["level"] == "error");
      CHECK_FALSE(entry["error"].get<std::string>().empty());
      saw_commit_failure = true;
    }
    CHECK_MESSAGE(saw_commit_failure, server->log_tail());
  }

  server->kill9();
  server->restart();  // without the limit: this process's own limit was restored
  ApiSession session(*server);
  std::set<std::string> stored;
  for (const auto& item_id : items) {
    auto view = session.item("clerk1", item_id);
    REQUIRE(view.status == 200);
    for (const auto& id : event_ids(view.json())) stored.insert(id);
  }
  for (const auto& id : acknowledged) CHECK_MESSAGE(stored.count(id) == 1, "acknowledged event lost: " << id);
  for (const auto& id : refused) CHECK_MESSAGE(stored.count(id) == 0, "unacknowledged event stored: " << id);
  CHECK(run_server_tool({"verify", "--db", server->db_path()}, server->log_path()) == 0);
}
