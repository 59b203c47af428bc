// dossier-scanner end to end, as a child process against the real server on 127.0.0.1: offline scans kept in
// the outbox, a sync killed with SIGKILL, answers lost after the server committed, refused events, revoked
// devices. In every case each scan reaches the server exactly once. And the delivery flags: a failed attempt
// with its reason and action, a hand-over with the ID check and an authorization.
#include "itest_common.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A temporary folder for one test's outbox and files.
struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/dpost-scanner-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    if (std::getenv("DPOST_KEEP_TEST_DIRS") == nullptr) fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts dossier-scanner ARGS with `input` on stdin; stdout and stderr go to files in `dir`.
pid_t spawn_scanner(const std::vector<std::string>& args, const std::string& input, const TempDir& dir,
                    const std::string& tag) {
  const std::string in_path = dir.file(tag + ".in");
  std::ofstream(in_path) << input;
  // Unflushed test output would otherwise be written a second time by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    freopen(in_path.c_str(), "r", stdin);
    freopen(dir.file(tag + ".out").c_str(), "w", stdout);
    freopen(dir.file(tag + ".err").c_str(), "w", stderr);
    std::vector<char*> argv;
    std::string bin = DPOST_SCANNER_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    unsetenv("DPOST_SERVER");
    unsetenv("DPOST_DEVICE_TOKEN");
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

Run finish(pid_t pid, const TempDir& dir, const std::string& tag) {
  int status = 0;
  waitpid(pid, &status, 0);
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = slurp(dir.file(tag + ".out"));
  run.err = slurp(dir.file(tag + ".err"));
  return run;
}

Run scanner(const std::vector<std::string>& args, const TempDir& dir, const std::string& input = "") {
  static int counter = 0;
  const std::string tag = "run" + std::to_string(counter++);
  return finish(spawn_scanner(args, input, dir, tag), dir, tag);
}

std::string url(const TestServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

// A port nobody listens on: the server is "down".
std::string dead_url() {
  TestServer probe;
  const auto port = probe.port();
  probe.stop();
  return "http://127.0.0.1:" + std::to_string(port);
}

json status_json(const TempDir& dir, const std::string& outbox) {
  auto run = scanner({"status", "--json", "--outbox", outbox}, dir);
  REQUIRE(run.exit_code == 0);
  return json::parse(run.out);
}

std::vector<std::string> make_items(ApiSession& session, int n) {
  std::vector<std::string> items;
  for (int i = 0; i < n; ++i) items.push_back(create_dossier_item(session, "clerk1", unique_applicant()));
  return items;
}

std::string lines(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& id : items) text += id + "\n";
  return text;
}

// Every item has exactly the events the outbox sent for it (no loss, no double).
void check_each_once(ApiSession& session, const std::vector<std::string>& items, const std::string& outbox_path) {
  SQLite::Database db(outbox_path, SQLite::OPEN_READONLY);
  std::map<std::string, std::multiset<std::string>> expected;
  SQLite::Statement q(db, "SELECT item_id, event_id FROM outbox WHERE status = 'done'");
  while (q.executeStep()) expected[q.getColumn(0).getString()].insert(q.getColumn(1).getString());
  for (const auto& item : items) {
    auto view = session.item("clerk1", item);
    REQUIRE(view.status == 200);
    const auto ids = event_ids(view.json());
    const std::multiset<std::string> got(ids.begin(), ids.end());
    INFO("item " << item);
    CHECK(got == expected[item]);
    CHECK(got.size() == 1);
  }
}

}  // namespace

TEST_CASE("scanner e2e: scans made while the server is down are kept and sent once it is back") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const auto items = make_items(session, 3);
  const std::string token = session.token("clerk1");

  auto offline = scanner({"scan", "--code", "EMA", "--site", "BC-HN01", "--stdin", "--outbox", outbox, "--server",
                          dead_url(), "--device-token", token, "--lang", "en"},
                         dir, lines(items) + "RR473124829GB\n");
  INFO(offline.out << offline.err);
  CHECK(offline.exit_code == 0);
  CHECK(contains(offline.out, "saved, will send when online"));
  CHECK(contains(offline.out, "not one of our item ids"));
  auto st = status_json(dir, outbox);
  CHECK(st["pending"] == 3);

  // Vietnamese by default, with its diacritics.
  auto vi_status = scanner({"status", "--outbox", outbox}, dir);
  CHECK(contains(vi_status.out, "đang chờ gửi: 3"));

  auto sync = scanner({"sync", "--outbox", outbox, "--server", url(server), "--device-token", token, "--json"}, dir);
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 0);
  int recorded = 0;
  std::istringstream out(sync.out);
  for (std::string line; std::getline(out, line);) {
    auto j = json::parse(line);
    if (j.value("result", "") == "recorded") ++recorded;
  }
  CHECK(recorded == 3);
  st = status_json(dir, outbox);
  CHECK(st["pending"] == 0);
  CHECK(st["done"] == 3);
  check_each_once(session, items, outbox);

  // A second sync has nothing to send.
  auto again = scanner({"sync", "--outbox", outbox, "--server", url(server), "--device-token", token}, dir);
  CHECK(again.exit_code == 0);
  check_each_once(session, items, outbox);
}

TEST_CASE("scanner e2e: a sync killed with SIGKILL, resumed, leaves each event on the server once") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const auto items = make_items(session, 400);
  const std::string token = session.token("clerk1");
  auto queued = scanner({"scan", "--code", "EMA", "--site", "BC-HN01", "--stdin", "--outbox", outbox, "--server",
                         dead_url(), "--device-token", token, "--json"},
                        dir, lines(items));
  REQUIRE(queued.exit_code == 0);
  REQUIRE(status_json(dir, outbox)["pending"] == 400);

  // Small batches so that the kill lands mid-way, between or inside exchanges.
  int kills = 0;
  for (int delay_ms : {30, 80, 150}) {
    const pid_t pid = spawn_scanner(
        {"sync", "--outbox", outbox, "--server", url(server), "--device-token", token, "--batch-size", "10"}, "", dir,
        "killed" + std::to_string(delay_ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    const auto run = finish(pid, dir, "killed" + std::to_string(delay_ms));
    kills += run.exit_code == 128 + SIGKILL ? 1 : 0;
  }
  MESSAGE("scanner killed mid-sync " << kills << " times; pending after: " << status_json(dir, outbox)["pending"]);
  auto resumed = scanner({"sync", "--outbox", outbox, "--server", url(server), "--device-token", token}, dir);
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  const auto st = status_json(dir, outbox);
  CHECK(st["pending"] == 0);
  CHECK(st["done"] == 400);
  check_each_once(session, items, outbox);
}

TEST_CASE("scanner e2e: answers lost after the server committed are re-sent and answered duplicate") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const auto items = make_items(session, 5);
  const std::string token = session.token("clerk1");
  auto first = scanner({"scan", "--code", "EMA", "--site", "BC-HN01", "--stdin", "--outbox", outbox, "--server",
                        url(server), "--device-token", token},
                       dir, lines(items));
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.out, "đã ghi nhận"));
  REQUIRE(status_json(dir, outbox)["done"] == 5);
  {
    // What the outbox holds when the scanner dies after the server committed and before the answer was stored.
    SQLite::Database db(outbox, SQLite::OPEN_READWRITE);
    db.exec("UPDATE outbox SET status = 'sending', outcome = '', http_status = 0");
  }
  REQUIRE(status_json(dir, outbox)["pending"] == 5);
  auto resend =
      scanner({"sync", "--outbox", outbox, "--server", url(server), "--device-token", token, "--lang", "en"}, dir);
  INFO(resend.out << resend.err);
  CHECK(resend.exit_code == 0);
  CHECK(contains(resend.out, "already recorded"));
  check_each_once(session, items, outbox);
}

TEST_CASE("scanner e2e: a refused event stays in the outbox with its reason and is not retried") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const auto item = make_items(session, 1).front();
  const std::string token = session.token("clerk1");
  // EMI on an item nobody accepted yet: the journey forbids it.
  auto refused = scanner({"scan", "--code", "EMI", "--site", "BC-HN01", "--stdin", "--outbox", outbox, "--server",
                          url(server), "--device-token", token, "--lang", "en"},
                         dir, item + "\n");
  INFO(refused.out << refused.err);
  CHECK(contains(refused.out, "not allowed now"));
  auto st = status_json(dir, outbox);
  CHECK(st["pending"] == 0);
  REQUIRE(st["refused"] == 1);
  const auto& event = st["refused_events"][0];
  CHECK(event["outcome"] == "illegal_transition");
  CHECK(event["state"] == "created");
  CHECK_FALSE(event.value("reason", "").empty());
  CHECK(event["attempts"] == 1);

  auto sync = scanner({"sync", "--outbox", outbox, "--server", url(server), "--device-token", token}, dir);
  CHECK(sync.exit_code == 0);
  CHECK(status_json(dir, outbox)["refused_events"][0]["attempts"] == 1);
  auto view = session.item("clerk1", item);
  CHECK(event_ids(view.json()).empty());
  auto human = scanner({"status", "--outbox", outbox}, dir);
  CHECK(contains(human.out, "bị từ chối"));
}

TEST_CASE("scanner e2e: an unknown or revoked token keeps the scans queued with a clear message") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const auto items = make_items(session, 2);

  auto bad = scanner({"scan", "--code", "EMA", "--site", "BC-HN01", "--stdin", "--outbox", outbox, "--server",
                      url(server), "--device-token", "not-a-token", "--lang", "en"},
                     dir, lines(items));
  INFO(bad.out << bad.err);
  CHECK(contains(bad.err, "does not accept this device token"));
  CHECK(status_json(dir, outbox)["pending"] == 2);

  // A real device token: enroll (the scanner makes its key), scan (signed), revoke, scan.
  const std::string admin = session.token("clerk1");
  TempDir enrolled;
  const auto device_outbox = enrolled.file("outbox.db");
  auto enroll = scanner(
      {"enroll", "--server", url(server), "--username", "clerk1", "--name", "quay-1", "--outbox", device_outbox},
      enrolled, "demo\n");
  INFO(enroll.out << enroll.err);
  REQUIRE(enroll.exit_code == 0);
  {
    SQLite::Database db(device_outbox, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM config WHERE value = 'demo'").getInt() == 0);  // never the password
  }
  auto ok = scanner({"scan", "--code", "EMA", "--stdin", "--outbox", device_outbox}, enrolled, items[0] + "\n");
  INFO(ok.out << ok.err);
  CHECK(contains(ok.out, "đã ghi nhận"));
  // The server checked the device's signature and kept it with the event.
  auto recorded = session.item("clerk1", items[0]);
  REQUIRE(recorded.status == 200);
  CHECK(recorded.json()["events"][0]["device_seq"] == 1);
  CHECK(recorded.json()["events"][0].contains("signed_by_device"));
  std::string device_id;
  {
    SQLite::Database db(device_outbox, SQLite::OPEN_READONLY);
    device_id = db.execAndGet("SELECT value FROM config WHERE key = 'device_id'").getString();
  }
  if (device_id.size() >= 2 && device_id.front() == '"') device_id = device_id.substr(1, device_id.size() - 2);
  auto revoke = session.client.post("/api/v1/devices/" + device_id + "/revoke", json::object(), admin);
  REQUIRE(revoke.status == 200);
  auto after = scanner({"scan", "--code", "EMA", "--stdin", "--outbox", device_outbox, "--lang", "en"}, enrolled,
                       items[1] + "\n");
  INFO(after.out << after.err);
  CHECK(contains(after.err, "revoked"));
  CHECK(status_json(enrolled, device_outbox)["pending"] == 1);
}

namespace {

// The item's real label as the API renders it: what a clerk photographs.
std::string label_png(ApiSession& session, const std::string& item_id) {
  auto png = session.client.get("/api/v1/items/" + item_id + "/label?format=png", session.token("clerk1"));
  REQUIRE(png.status == 200);
  return png.body;
}

int event_count(ApiSession& session, const std::string& item_id) {
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  return static_cast<int>(view.json()["events"].size());
}

}  // namespace

TEST_CASE("scanner e2e: photos of labels, given as files, become one event each") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto items = make_items(session, 2);
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::ofstream(dir.file("label" + std::to_string(i) + ".png"), std::ios::binary) << label_png(session, items[i]);
  }
  auto run = scanner(
      {"scan", "--code", "EMA", "--site", "BC-HN01", dir.file("label0.png"), dir.file("label1.png"), "--outbox",
       dir.file("outbox.db"), "--server", url(server), "--device-token", session.token("clerk1"), "--lang", "en"},
      dir);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  for (const auto& id : items) CHECK(event_count(session, id) == 1);
  check_each_once(session, items, dir.file("outbox.db"));
}

TEST_CASE("scanner e2e: a photo dropped into the watched folder is scanned and sent") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto item = make_items(session, 1).at(0);
  fs::create_directories(dir.path / "drop");
  const pid_t pid =
      spawn_scanner({"scan", "--code", "EMA", "--site", "BC-HN01", "--watch", dir.file("drop"), "--outbox",
                     dir.file("outbox.db"), "--server", url(server), "--device-token", session.token("clerk1")},
                    "", dir, "watch");
  // A camera app writes the photo into the folder while the scanner watches it.
  std::ofstream(dir.file("drop/IMG_0001.png"), std::ios::binary) << label_png(session, item);
  bool arrived = false;
  for (int i = 0; i < 300 && !arrived; ++i) {  // generous: up to 30 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    arrived = event_count(session, item) == 1;
  }
  kill(pid, SIGTERM);
  auto run = finish(pid, dir, "watch");
  INFO(run.out << run.err);
  CHECK(arrived);
  CHECK(event_count(session, item) == 1);
  CHECK_FALSE(fs::exists(dir.file("drop/IMG_0001.png")));  // moved out of the drop folder once processed
}

TEST_CASE("scanner e2e: a failed attempt carries its reason and action, a hand-over its ID check and authorization") {
  TestServer server({"--demo"});
  ApiSession session(server);
  TempDir dir;
  const auto outbox = dir.file("outbox.db");
  const std::string token = session.token("clerk1");
  Timeline timeline;

  // A result on its way to the citizen, out for delivery from BC-HN01.
  const auto item = counter_result_item(session, dossier_body(unique_applicant(), kOffice1, "receive"));
  record(session, "staff1", scan_body(item, "RES", kOffice1, timeline.next()));
  record(session, "clerk1", scan_body(item, "EMA", kPostOffice1, timeline.next()));
  record(session, "clerk1", scan_body(item, "EMG", kPostOffice1, timeline.next()));
  record(session, "clerk1", scan_body(item, "EDG", kPostOffice1, timeline.next()));

  const std::vector<std::string> common{"--site",    "BC-HN01",        "--stdin", "--outbox", outbox, "--server",
                                        url(server), "--device-token", token,     "--lang",   "en"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };

  // Without an action the scanner refuses in one line and queues nothing.
  auto missing = scanner(with({"scan", "--code", "EMH", "--reason-code", "absent"}), dir, item + "\n");
  CHECK(missing.exit_code != 0);
  CHECK(contains(missing.err, "--action"));
  CHECK(status_json(dir, outbox)["pending"] == 0);

  auto failed = scanner(with({"scan", "--code", "EMH", "--reason-code", "absent", "--action", "hold_at_post_office",
                              "--reason", "Đã để giấy mời"}),
                        dir, item + "\n");
  INFO(failed.out << failed.err);
  REQUIRE(failed.exit_code == 0);
  auto view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "attempt_failed");
  const auto attempt = view.json()["events"].back();
  CHECK(attempt["code"] == "EMH");
  CHECK(attempt["reason_code"] == "absent");
  CHECK(attempt["action"] == "hold_at_post_office");
  CHECK(attempt["reason"] == "Đã để giấy mời");

  // The second round: the citizen's wife collects it at the post office with the written authorization.
  auto again = scanner(with({"scan", "--code", "EDG"}), dir, item + "\n");
  REQUIRE(again.exit_code == 0);
  auto delivered = scanner(with({"scan", "--code", "EMI", "--recipient-name", "Trần Thị Thay", "--id-checked",
                                 "--id-type", "cccd", "--id-number", "001090005678", "--relation", "vợ",
                                 "--authorization-number", "45/2026/UQ", "--authorization-date", "2026-11-02"}),
                           dir, item + "\n");
  INFO(delivered.out << delivered.err);
  REQUIRE(delivered.exit_code == 0);
  view = session.item("clerk1", item);
  REQUIRE(view.status == 200);
  CHECK(view.json()["state"] == "delivered");
  const auto recipient = view.json()["events"].back()["recipient"];
  CHECK(recipient["name"] == "Trần Thị Thay");
  CHECK(recipient["relation"] == "vợ");
  CHECK(recipient["id_document"]["type"] == "cccd");
  CHECK(recipient["id_document"]["number"] == "********5678");
  CHECK(recipient["authorization"]["number"] == "45/2026/UQ");
  CHECK(recipient["authorization"]["date"] == "2026-11-02");
  CHECK(status_json(dir, outbox)["refused"] == 0);

  // The full ID number is neither on the server nor in the device's outbox.
  CHECK_FALSE(contains(view.body, "001090005678"));
  CHECK(slurp(outbox).find("001090005678") == std::string::npos);
}
