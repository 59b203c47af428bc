// The real HttpServer in-process on 127.0.0.1:0, driven over plain blocking TCP sockets so that the tests see
// exactly the bytes a client sees (including half-sent headers and closed connections).
#include "api_error.hpp"
#include "http_server.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace dpost::server;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A client socket; closed on destruction. Every receive gives up after 10 s so that a bug cannot hang ctest.
class Client {
 public:
  explicit Client(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  struct Response {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };

  // Reads one response framed by Content-Length; nullopt when the connection ends first.
  std::optional<Response> read_response() {
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Response response;
    std::string head = pending_.substr(0, header_end);
    pending_.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    response.status = static_cast<unsigned>(std::stoul(status_line.substr(status_line.find(' ') + 1, 3)));
    while (line_end != std::string::npos) {
      std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[name] = value;
    }
    std::size_t length = std::stoul(response.headers.at("content-length"));
    while (pending_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) before the receive timeout.
  bool closed_by_server() {
    char buffer[4096];
    for (;;) {
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill() {
    char buffer[4096];
    auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

// The server under test, with a small dispatcher:
//   /slow   replies 200 from another thread after 300 ms (a worker or storage writer in the real service);
//   /drop   never calls its Reply (a handler bug);
//   /throw  throws an ApiError from the dispatcher itself;
//   other   echoes the request as JSON.
class TestServer {
 public:
  explicit TestServer(HttpServerOptions options = small_options())
      : server_(std::move(options),
                [this](HttpRequest&& request, Reply reply) { dispatch(std::move(request), reply); }) {
    server_.listen();
    runner_ = std::thread([this] {
      server_.run();
      run_returned_ = true;
    });
  }
  ~TestServer() {
    server_.stop();
    if (runner_.joinable()) runner_.join();
    std::lock_guard lock(mutex_);
    for (auto& worker : workers_) worker.join();
  }

  static HttpServerOptions small_options() {
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    options.body_limit = 1024;
    options.header_limit = 1024;
    options.header_timeout = 1s;
    options.body_timeout = 2s;
    options.idle_timeout = 2s;
    options.write_timeout = 2s;
    options.max_connections_per_address = 3;
    options.handle_signals = false;
    return options;
  }

  HttpServer& server() { return server_; }
  unsigned short port() const { return server_.port(); }
  bool run_returned() const { return run_returned_; }
  bool slow_started() const { return slow_started_; }

  // Waits (bounded) for run() to return.
  bool wait_for_run_to_return(std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!run_returned_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    return run_returned_;
  }

 private:
  void dispatch(HttpRequest&& request, Reply reply) {
    if (request.path == "/slow") {
      slow_started_ = true;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([reply] {
        std::this_thread::sleep_for(300ms);
        HttpResponse response;
        response.body = R"({"slow":true})";
        reply(std::move(response));
      });
      return;
    }
    if (request.path == "/drop") return;
    if (request.path == "/throw") throw conflict("illegal_transition", "Thrown by the dispatcher.");
    json echo = {{"method", request.method},
                 {"target", request.target},
                 {"path", request.path},
                 {"query", request.query},
                 {"body", request.body},
                 {"remote", request.remote_address},
                 {"x_test", request.header("x-test")}};
    HttpResponse response;
    response.body = echo.dump();
    response.headers = {{"Cache-Control", "no-store"}};
    reply(std::move(response));
  }

  HttpServer server_;
  std::thread runner_;
  std::atomic<bool> run_returned_{false};
  std::atomic<bool> slow_started_{false};
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

json error_of(const Client::Response& response) {
  CHECK(response.headers.at("content-type") == "application/json");
  return json::parse(response.body).at("error");
}

// The server's last answer on a connection: an error with this status and code, then the server closes.
void check_final_error(Client& client, unsigned status, const std::string& code) {
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == status);
  CHECK(error_of(*response)["code"] == code);
  CHECK(response->headers.at("connection") == "close");
  CHECK(client.closed_by_server());
}

}  // namespace

TEST_CASE("http server: keep-alive serves two requests on one connection") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.connected());

  REQUIRE(client.send(get("/api/v1/items/EE%20123?x=1&y=%C4%90", "X-Test: one\r\n")));
  auto first = client.read_response();
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->headers.at("server") == "dossier-post");
  CHECK(first->headers.at("content-type") == "application/json");
  CHECK(first->headers.at("cache-control") == "no-store");
  CHECK(first->headers.count("connection") == 0);
  auto echo = json::parse(first->body);
  CHECK(echo["method"] == "GET");
  CHECK(echo["target"] == "/api/v1/items/EE%20123?x=1&y=%C4%90");
  CHECK(echo["path"] == "/api/v1/items/EE 123");
  CHECK(echo["query"] == "x=1&y=%C4%90");
  CHECK(echo["x_test"] == "one");
  CHECK(echo["remote"] == "127.0.0.1");

  const std::string body = R"({"event_id":"e1"})";
  REQUIRE(
      client.send("POST /api/v1/scans HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
  auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(json::parse(second->body)["body"] == body);
}

TEST_CASE("http server: HTTP/1.0 closes unless asked, Connection: close is honoured") {
  TestServer server;
  SUBCASE("HTTP/1.0") {
    Client client(server.port());
    REQUIRE(client.send("GET /a HTTP/1.0\r\n\r\n"));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->headers.at("connection") == "close");
    CHECK(client.closed_by_server());
  }
  SUBCASE("HTTP/1.0 keep-alive") {
    Client client(server.port());
    REQUIRE(client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->headers.at("connection") == "keep-alive");
    REQUIRE(client.send("GET /b HTTP/1.0\r\n\r\n"));
    REQUIRE(client.read_response());
  }
  SUBCASE("HTTP/1.1 Connection: close") {
    Client client(server.port());
    REQUIRE(client.send(get("/a", "Connection: close\r\n")));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->headers.at("connection") == "close");
    CHECK(client.closed_by_server());
  }
}

TEST_CASE("http server: a body over the limit is a 413 and the connection closes") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send("POST /api/v1/scans HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n" +
                      std::string(5000, 'x')));
  check_final_error(client, 413, "payload_too_large");
}

TEST_CASE("http server: a chunked body over the limit is a 413") {
  TestServer server;
  Client client(server.port());
  std::string chunk(800, 'y');
  REQUIRE(client.send("POST /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                      "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 413);
}

TEST_CASE("http server: huge headers are a 431") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send(get("/a", "X-Big: " + std::string(4000, 'h') + "\r\n")));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 431);
  CHECK(error_of(*response)["code"] == "headers_too_large");
  CHECK(client.closed_by_server());
}

TEST_CASE("http server: HTTP/1.1 without Host is a 400") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send("GET /a HTTP/1.1\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(error_of(*response)["code"] == "missing_host");
  CHECK(client.closed_by_server());
}

TEST_CASE(
    "http server: two Host headers, or a transfer coding besides chunked, are refused and the connection closes") {
  // What a proxy in front and this server disagree on is how request smuggling starts (RFC 9112 3.2, 6.1).
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "duplicate_host"},
      {"GET /a HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, "duplicate_host"},
      {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501,
       "unsupported_transfer_coding"},
      {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
       "unsupported_transfer_coding"},
      {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 501,
       "unsupported_transfer_coding"},
      {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 501, "unsupported_transfer_coding"},
      // A refused coding leaves the body unread: the answer must still arrive while the client sends it.
      {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n" + std::string(60000, 'z'), 501,
       "unsupported_transfer_coding"},
      {"POST /a HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "malformed_request"},
  };
  TestServer server;
  for (const auto& [raw, status, code] : cases) {
    INFO(raw);
    Client client(server.port());
    REQUIRE(client.send(raw));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == status);
    CHECK(error_of(*response)["code"] == code);
    CHECK(client.closed_by_server());
  }
  // Plain chunked is still read.
  Client client(server.port());
  REQUIRE(client.send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status != 501);
  CHECK(response->status != 400);
}

TEST_CASE("http server: malformed HTTP is a 400 and the connection closes") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send("THIS IS NOT HTTP\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(error_of(*response)["code"] == "malformed_request");
  CHECK(client.closed_by_server());
}

TEST_CASE("http server: a client that sends half a header is answered 408 and disconnected") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send("GET /a HTTP/1.1\r\nHost: te"));
  check_final_error(client, 408, "request_timeout");  // header_timeout is 1 s; the receive gives up after 10 s
}

TEST_CASE("http server: a body shorter than its Content-Length is answered 408 and never dispatched") {
  TestServer server;
  Client client(server.port());
  REQUIRE(
      client.send("POST /a HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                  "Content-Length: 20\r\n\r\n{\"half\":"));
  check_final_error(client, 408, "request_timeout");  // body_timeout is 2 s

  // The server is unharmed and the next connection is served as usual.
  Client next(server.port());
  REQUIRE(next.send(get("/b")));
  auto served = next.read_response();
  REQUIRE(served);
  CHECK(served->status == 200);
}

TEST_CASE("http server: a request sent slowly but within the deadline is served") {
  TestServer server;  // header_timeout 1 s, body_timeout 2 s
  Client client(server.port());
  const std::string body = R"({"a":1})";
  REQUIRE(client.send("POST /a HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"));
  std::this_thread::sleep_for(100ms);
  REQUIRE(client.send("\r\n{\"a\""));
  std::this_thread::sleep_for(100ms);
  REQUIRE(client.send(":1}"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(json::parse(response->body)["body"] == body);
  // The connection stays open for the next request.
  REQUIRE(client.send(get("/c")));
  auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->status == 200);
}

TEST_CASE("http server: an idle keep-alive connection is closed after idle_timeout") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send(get("/a")));
  REQUIRE(client.read_response());
  CHECK(client.closed_by_server());
}

TEST_CASE("http server: a dropped Reply is answered 500, a throwing dispatcher with its error") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.send(get("/drop")));
  auto dropped = client.read_response();
  REQUIRE(dropped);
  CHECK(dropped->status == 500);
  CHECK(error_of(*dropped)["code"] == "internal_error");

  REQUIRE(client.send(get("/throw")));  // the connection is still usable
  auto thrown = client.read_response();
  REQUIRE(thrown);
  CHECK(thrown->status == 409);
  CHECK(error_of(*thrown)["code"] == "illegal_transition");
}

TEST_CASE("http server: connections beyond the per-address cap get a 429") {
  TestServer server;  // cap: 3 per address
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    REQUIRE(clients.back()->send(get("/a")));
    auto response = clients.back()->read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
  }
  Client extra(server.port());
  REQUIRE(extra.connected());
  extra.send(get("/a"));
  check_final_error(extra, 429, "too_many_connections");

  // Closing one frees its slot (the count drops when the server notices the close).
  clients.pop_back();
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    Client again(server.port());
    again.send(get("/a"));
    auto response = again.read_response();
    admitted = response && response->status == 200;
    if (!admitted) std::this_thread::sleep_for(50ms);
  }
  CHECK(admitted);
}

TEST_CASE("http server: stop() drains: in-flight request finishes, idle closes, new refused, run() returns") {
  TestServer server;

  Client idle(server.port());
  REQUIRE(idle.send(get("/a")));
  REQUIRE(idle.read_response());

  Client busy(server.port());
  REQUIRE(busy.send(get("/slow")));
  for (int i = 0; i < 500 && !server.slow_started(); ++i) std::this_thread::sleep_for(2ms);
  REQUIRE(server.slow_started());

  server.server().stop();
  server.server().stop();  // idempotent

  CHECK(idle.closed_by_server());  // at once, not after idle_timeout (not asserted: no timing checks)

  auto response = busy.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == R"({"slow":true})");
  CHECK(response->headers.at("connection") == "close");
  CHECK(busy.closed_by_server());

  // The acceptor closed before the idle connection was notified, so a new connection is refused.
  Client late(server.port());
  if (late.connected()) {
    late.send(get("/a"));
    CHECK_FALSE(late.read_response());
  }

  CHECK(server.wait_for_run_to_return(10s));
}

TEST_CASE("http server: /readyz goes to the dispatcher while serving, answers 503 draining once stop() began") {
  auto options = TestServer::small_options();
  options.header_timeout = 30s;  // the half-sent request below must outlive any scheduling delay
  TestServer server(options);
  CHECK_FALSE(server.server().draining());

  Client before(server.port());
  REQUIRE(before.send(get("/readyz")));
  auto served = before.read_response();
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(json::parse(served->body)["path"] == "/readyz");  // the echo dispatcher answered

  // `before` counts until its write completed, which may be just after the client read the answer.
  for (int i = 0; i < 5000 && server.server().requests_in_progress() != 0; ++i) std::this_thread::sleep_for(2ms);
  REQUIRE(server.server().requests_in_progress() == 0);

  // A request whose header is half-sent when the drain begins is still served (it is not idle).
  Client probe(server.port());
  REQUIRE(probe.send("GET /readyz HTTP/1.1\r\n"));
  for (int i = 0; i < 5000 && server.server().requests_in_progress() == 0; ++i) std::this_thread::sleep_for(2ms);
  REQUIRE(server.server().requests_in_progress() == 1);

  server.server().stop();
  for (int i = 0; i < 5000 && !server.server().draining(); ++i) std::this_thread::sleep_for(2ms);
  REQUIRE(server.server().draining());

  REQUIRE(probe.send("Host: test\r\n\r\n"));
  auto draining = probe.read_response();
  REQUIRE(draining);
  CHECK(draining->status == 503);
  CHECK(error_of(*draining)["code"] == "draining");
  CHECK(draining->headers.at("connection") == "close");
  CHECK(server.wait_for_run_to_return(10s));
}

TEST_CASE("http server: stop() before any connection makes run() return") {
  TestServer server;
  server.server().stop();
  CHECK(server.wait_for_run_to_return(10s));
}

TEST_CASE("http server: SIGTERM starts the same drain when handle_signals is on") {
  auto options = TestServer::small_options();
  options.handle_signals = true;
  TestServer server(options);
  // A served request proves run() has installed the signal handler (it is armed before accepting starts).
  Client client(server.port());
  REQUIRE(client.send(get("/a")));
  REQUIRE(client.read_response());
  std::raise(SIGTERM);
  CHECK(client.closed_by_server());
  CHECK(server.wait_for_run_to_return(10s));
}

TEST_CASE("http server: SIGTERM right after listen(), before run(), drains instead of killing the process") {
  // Without the signal set installed by listen(), SIGTERM here takes its default action and this test process
  // dies: the check is that we are still alive and that run() then returns by itself.
  auto options = TestServer::small_options();
  options.handle_signals = true;
  HttpServer server(options, [](HttpRequest&&, Reply reply) { reply(HttpResponse{}); });
  server.listen();
  std::raise(SIGTERM);
  CHECK_FALSE(server.draining());  // queued: nothing drains before the loop runs
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    server.run();
    returned = true;
  });
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!returned && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  CHECK(returned);
  CHECK(server.draining());
  if (!returned) server.stop();
  runner.join();
}

TEST_CASE("http server: listen() reports an unusable address") {
  TestServer first;
  auto options = TestServer::small_options();
  options.port = first.port();
  HttpServer taken(options, [](HttpRequest&&, Reply) {});
  CHECK_THROWS_WITH_AS(taken.listen(), doctest::Contains("cannot listen on 127.0.0.1:"), std::runtime_error);

  options.host = "no such host";
  HttpServer bad(options, [](HttpRequest&&, Reply) {});
  CHECK_THROWS_WITH_AS(bad.listen(), doctest::Contains("cannot listen on no such host:"), std::runtime_error);

  options.host = "localhost";
  options.port = 0;
  HttpServer local(options, [](HttpRequest&&, Reply) {});
  CHECK_NOTHROW(local.listen());
  CHECK(local.port() != 0);
}
