// Notifications (issue 6): citizen messages in the messages file, signed webhooks to a small receiver started
// here, retries with backoff, exactly one delivery per event across a restart, nothing for a refused scan.
#include "itest_common.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr auto kWait = std::chrono::seconds(30);
constexpr std::string_view kSecret = "test-webhook-secret-ü";

// Polls `condition` every 50 ms for up to 30 s (no timing assertions: only a generous upper bound).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int answered = 0;
};

// A minimal HTTP/1.1 receiver on 127.0.0.1. The port is bound at construction but connections are refused
// (no listen()) until start(), so a server can be pointed at it while it is "down". It answers each request
// with the next status of `script`, then 200.
class Receiver {
 public:
  explicit Receiver(std::vector<int> script = {}) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~Receiver() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/dossier-post"; }

  void start() {
    REQUIRE(::listen(fd_, 16) == 0);
    thread_ = std::thread([this] { serve(); });
  }

  std::vector<ReceivedRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Requests per Idempotency-Key.
  std::map<std::string, int> counts() {
    std::map<std::string, int> out;
    for (auto& r : requests()) ++out[r.headers["idempotency-key"]];
    return out;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      handle(conn);
      ::close(conn);
    }
  }

  void handle(int conn) {
    timeval tv{5, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string data;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    ReceivedRequest r;
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::istringstream head(data.substr(0, header_end));
          std::string line;
          std::getline(head, line);
          std::istringstream first(line);
          first >> r.method >> r.target;
          while (std::getline(head, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
          }
          if (r.headers.count("content-length")) content_length = std::stoul(r.headers["content-length"]);
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      const auto n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) return;  // the client gave up: nothing recorded
      data.append(buffer, static_cast<std::size_t>(n));
    }
    r.body = data.substr(header_end + 4, content_length);
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      if (next_ < script_.size()) status = script_[next_++];
      r.answered = status;
      requests_.push_back(r);
    }
    const std::string reason = status == 200 ? "OK" : "Error";
    const std::string answer =
        "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    [[maybe_unused]] auto sent = ::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  unsigned short port_ = 0;
  std::vector<int> script_;
  std::size_t next_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<ReceivedRequest> requests_;
};

std::string hmac_hex(std::string_view key, std::string_view body) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : mac) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<std::string> webhook_args(const Receiver& receiver) {
  return {"--demo", "--webhook-url", receiver.url(), "--webhook-secret", std::string(kSecret)};
}

struct Row {
  std::string channel;
  int attempts = 0;
  bool delivered = false;
};
// The notification rows of one event, read from the server's database (WAL: safe while it runs).
std::vector<Row> rows_of(const TestServer& server, const std::string& event_id) {
  SQLite::Database db(server.db_path(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  SQLite::Statement q(db,
                      "SELECT channel, attempts, delivered_at IS NOT NULL FROM notifications WHERE event_id = ? "
                      "ORDER BY channel");
  q.bind(1, event_id);
  std::vector<Row> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt(), q.getColumn(2).getInt() != 0});
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string grouped(const std::string& item_id) {
  return item_id.substr(0, 2) + " " + item_id.substr(2, 3) + " " + item_id.substr(5, 3) + " " + item_id.substr(8, 3) +
         " " + item_id.substr(11, 2);
}

// Records an EMA on a new dossier item; returns {item_id, event_id}.
std::pair<std::string, std::string> pickup(ApiSession& session, Timeline& timeline,
                                           const TestApplicant& applicant = unique_applicant()) {
  auto item_id = create_dossier_item(session, "clerk1", applicant);
  auto scan = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
  record(session, "clerk1", scan, "accepted");
  return {item_id, scan["event_id"].get<std::string>()};
}

}  // namespace

TEST_CASE("a pickup writes one Vietnamese SMS with the tracking link to the messages file") {
  TestServer server({"--demo"});
  ApiSession session(server);
  Timeline timeline;
  const auto applicant = unique_applicant();
  const auto [item_id, event_id] = pickup(session, timeline, applicant);
  const auto messages = server.db_path() + ".messages.log";

  REQUIRE_MESSAGE(wait_until([&] { return contains(read_file(messages), event_id); }), server.log_tail());
  std::istringstream lines(read_file(messages));
  std::string line;
  std::vector<json> mine;
  while (std::getline(lines, line)) {
    auto j = json::parse(line);
    if (j["event_id"] == event_id) mine.push_back(j);
  }
  REQUIRE(mine.size() == 1);
  const auto& m = mine[0];
  CHECK(m["to"] == applicant.phone);
  CHECK(m["channel"] == "sms");
  const auto text = m["text"].get<std::string>();
  INFO(text);
  CHECK(text.starts_with("Dossier Post: Hồ sơ " + grouped(item_id) + " ("));
  CHECK(contains(text, ") đã được bưu điện nhận lúc "));
  auto view = session.item("clerk1", item_id);
  REQUIRE(view.status == 200);
  CHECK(text.ends_with(". Tra cứu: " + view.json()["tracking_url"].get<std::string>()));

  struct stat st {};
  REQUIRE(::stat(messages.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The row is marked right after the line is written: wait for that commit.
  REQUIRE(wait_until([&] {
    auto rows = rows_of(server, event_id);
    return !rows.empty() && rows[0].delivered;
  }));
  const auto rows = rows_of(server, event_id);
  REQUIRE(rows.size() == 1);  // no webhook configured: citizen only
  CHECK(rows[0].channel == "citizen");
  CHECK(rows[0].delivered);
  CHECK(rows[0].attempts == 1);
  // The phone is personal data: it is in the gateway file, never in the log.
  CHECK_FALSE(contains(server.log_tail(1 << 20), applicant.phone));
}

TEST_CASE("the webhook carries the event without personal data, signed, with a stable idempotency key") {
  Receiver receiver;
  receiver.start();
  TestServer server(webhook_args(receiver));
  ApiSession session(server);
  Timeline timeline;
  const auto applicant = unique_applicant();
  const auto [item_id, event_id] = pickup(session, timeline, applicant);

  REQUIRE_MESSAGE(wait_until([&] { return receiver.counts().count(event_id + ":webhook") > 0; }), server.log_tail());
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  auto r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/hooks/dossier-post");
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.headers["idempotency-key"] == event_id + ":webhook");
  CHECK(r.headers["x-dossier-signature"] == "sha256=" + hmac_hex(kSecret, r.body));
  CHECK(r.headers["x-dossier-signature"] != "sha256=" + hmac_hex("another secret", r.body));
  const auto body = json::parse(r.body);
  CHECK(body["event_id"] == event_id);
  CHECK(body["idempotency_key"] == event_id + ":webhook");
  CHECK(body["item_id"] == item_id);
  CHECK(body["code"] == "EMA");
  CHECK(body["state"] == "accepted");
  CHECK(body["site"] == std::string(kPostOffice1));
  CHECK(body.contains("dossier_code"));
  CHECK(body["occurred_at"].is_string());
  CHECK(body["received_at"].is_string());
  for (const auto& personal : applicant.personal_strings()) CHECK_FALSE(contains(r.body, personal));
  // The secret never reaches the log.
  CHECK_FALSE(contains(server.log_tail(1 << 20), kSecret));

  // An event that is not notified (into a sorting office) sends nothing.
  record(session, "clerk1", scan_body(item_id, "EDD", kPostOffice1, timeline.next()), "at_sorting");
  const auto [item2, event2] = pickup(session, timeline);
  REQUIRE(wait_until([&] { return receiver.counts().count(event2 + ":webhook") > 0; }));
  CHECK(receiver.requests().size() == 2);
}

TEST_CASE("a failing webhook is retried with backoff until it is delivered, once") {
  Receiver receiver({500, 500});
  receiver.start();
  TestServer server(webhook_args(receiver));
  ApiSession session(server);
  Timeline timeline;
  const auto [item_id, event_id] = pickup(session, timeline);
  const auto key = event_id + ":webhook";

  auto delivered = [&] {
    auto rows = rows_of(server, event_id);
    return std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.channel == "webhook" && r.delivered; });
  };
  REQUIRE_MESSAGE(wait_until(delivered), server.log_tail());
  for (const auto& row : rows_of(server, event_id)) {
    if (row.channel == "webhook") CHECK(row.attempts == 3);
  }
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].answered == 500);
  CHECK(requests[1].answered == 500);
  CHECK(requests[2].answered == 200);
  // Every retry is the same signed body.
  CHECK(requests[0].body == requests[2].body);
  CHECK(requests[0].headers.at("x-dossier-signature") == requests[2].headers.at("x-dossier-signature"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a chance for a wrong second delivery
  CHECK(receiver.counts()[key] == 3);
  CHECK(contains(server.log_tail(1 << 20), "HTTP 500"));
}

TEST_CASE("events queued while the receiver is down arrive exactly once after a server restart") {
  Receiver receiver;  // bound, not listening: connections are refused
  TestServer server(webhook_args(receiver));
  std::vector<std::string> events;
  {
    ApiSession session(server);
    Timeline timeline;
    for (int i = 0; i < 3; ++i) events.push_back(pickup(session, timeline).second);
  }
  // Every event has been tried at least once (and refused) before the server stops.
  REQUIRE_MESSAGE(wait_until([&] {
                    return std::all_of(events.begin(), events.end(), [&](const std::string& e) {
                      auto rows = rows_of(server, e);
                      return std::any_of(rows.begin(), rows.end(), [](const Row& r) {
                        return r.channel == "webhook" && r.attempts >= 1 && !r.delivered;
                      });
                    });
                  }),
                  server.log_tail());
  CHECK(server.stop(SIGTERM) == 0);

  receiver.start();
  server.restart();
  auto all_delivered = [&] {
    return std::all_of(events.begin(), events.end(), [&](const std::string& e) {
      auto rows = rows_of(server, e);
      return std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.channel == "webhook" && r.delivered; });
    });
  };
  REQUIRE_MESSAGE(wait_until(all_delivered), server.log_tail());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a chance for a wrong second delivery
  const auto counts = receiver.counts();
  CHECK(counts.size() == events.size());
  for (const auto& e : events) {
    const auto it = counts.find(e + ":webhook");
    REQUIRE(it != counts.end());
    CHECK(it->second == 1);
  }
}

TEST_CASE("a refused scan queues no notification") {
  Receiver receiver;
  receiver.start();
  TestServer server(webhook_args(receiver));
  ApiSession session(server);
  Timeline timeline;
  auto item_id = create_dossier_item(session, "clerk1", unique_applicant());
  // Delivered before it was even picked up: the transition table forbids it.
  auto refused = scan_body(item_id, "EMI", kPostOffice1, timeline.next());
  check_error(session.scan("clerk1", refused), 409, "illegal_transition");
  const auto refused_id = refused["event_id"].get<std::string>();

  // A later accepted event is delivered on both channels: by then the refused one would have been too.
  const auto [item2, accepted] = pickup(session, timeline);
  REQUIRE_MESSAGE(wait_until([&] {
                    auto rows = rows_of(server, accepted);
                    return rows.size() == 2 && rows[0].delivered && rows[1].delivered;
                  }),
                  server.log_tail());
  CHECK(rows_of(server, refused_id).empty());
  CHECK_FALSE(contains(read_file(server.db_path() + ".messages.log"), refused_id));
  for (const auto& r : receiver.requests()) CHECK_FALSE(contains(r.body, refused_id));
  CHECK(receiver.requests().size() == 1);
}
