// The scanner's outbox and the pure parts of its sync: statuses, server URLs, backoff, event ids.
#include "outbox.hpp"
#include "sync.hpp"

#include <text.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>

namespace {

struct TempOutbox {
  std::filesystem::path dir;
  TempOutbox() {
    char pattern[] = "/tmp/dpost-outbox-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~TempOutbox() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path() const { return (dir / "sub" / "outbox.db").string(); }
};

}  // namespace

TEST_CASE("scanner outbox: events go pending, sending, done or refused, and survive reopening") {
  TempOutbox temp;
  using dpost::scanner::OutboxStatus;
  {
    dpost::scanner::Outbox outbox(temp.path());  // creates the missing folder
    outbox.add("e1", "EH000000014VN", "EMA", R"({"event_id":"e1"})");
    outbox.add("e2", "EH000000028VN", "EMA", R"({"event_id":"e2"})");
    outbox.add("e3", "EH000000031VN", "EMI", R"({"event_id":"e3"})");
    CHECK_THROWS(outbox.add("e1", "EH000000014VN", "EMA", "{}"));  // event ids are unique
    CHECK(outbox.counts().pending == 3);
    outbox.mark_sending({"e1", "e2", "e3"});
    outbox.mark_done("e1", "recorded", 201, "accepted");
    outbox.mark_refused("e3", "illegal_transition", 409, "created", "EMI is not allowed in state created");
    outbox.set_config("server", "http://127.0.0.1:8080");
  }
  dpost::scanner::Outbox outbox(temp.path());
  const auto counts = outbox.counts();
  CHECK(counts.pending == 1);
  CHECK(counts.done == 1);
  CHECK(counts.refused == 1);
  const auto unsent = outbox.unsent(10);
  REQUIRE(unsent.size() == 1);
  CHECK(unsent[0].event_id == "e2");
  CHECK(unsent[0].status == OutboxStatus::sending);  // sent, answer unknown: re-sent next time
  CHECK(unsent[0].attempts == 1);
  const auto refused = outbox.list(OutboxStatus::refused, 10);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].state == "created");
  CHECK(refused[0].message == "EMI is not allowed in state created");
  CHECK(outbox.config("server") == "http://127.0.0.1:8080");
  CHECK_FALSE(outbox.config("token").has_value());
}

TEST_CASE("scanner sync: server URLs, backoff and event ids") {
  using dpost::scanner::parse_server_url;
  auto url = parse_server_url("http://127.0.0.1:8080");
  REQUIRE(url);
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == "8080");
  CHECK(url->base.empty());
  url = parse_server_url("http://dossier.local/post/");
  REQUIRE(url);
  CHECK(url->port == "80");
  CHECK(url->base == "/post");
  CHECK_FALSE(parse_server_url("https://example.org"));
  CHECK_FALSE(parse_server_url("http://:80"));
  CHECK_FALSE(parse_server_url("http://host:port"));

  std::mt19937 rng(1);
  for (int attempt = 0; attempt < 30; ++attempt) {
    const auto d = dpost::scanner::backoff_delay(attempt, rng);
    CHECK(d.count() >= 250);
    CHECK(d.count() <= 60'000);
  }
  CHECK(dpost::scanner::backoff_delay(20, rng).count() >= 30'000);  // capped, jitter within [cap/2, cap]

  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const auto id = dpost::scanner::new_event_id();
    CHECK(dpost::normalize_uuid(id) == id);
    CHECK(id[14] == '4');
    ids.insert(id);
  }
  CHECK(ids.size() == 100);
}

TEST_CASE("scanner outbox: the file holding the token and signing key is readable by its owner only") {
  TempOutbox temp;
  namespace fs = std::filesystem;
  {
    dpost::scanner::Outbox outbox(temp.path());
    outbox.set_config("signing_key", "secret");
    outbox.add("e1", "EH000000014VN", "EMA", R"({"event_id":"e1"})");
  }
  for (const auto* suffix : {"", "-wal"}) {
    const fs::path file = temp.path() + suffix;
    if (!fs::exists(file)) continue;
    const auto perms = fs::status(file).permissions();
    CHECK_MESSAGE((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none, file.string());
  }
  // An outbox left world-readable by an older version is narrowed when it is opened.
  fs::permissions(temp.path(),
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  dpost::scanner::Outbox reopened(temp.path());
  CHECK((fs::status(temp.path()).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  CHECK(reopened.config("signing_key") == std::optional<std::string>("secret"));
}
