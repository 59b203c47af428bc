// dossier-server's settings: flag > DPOST_* environment variable > --config file > default; unknown keys and
// flags refused with one line and a non-zero exit; the effective configuration printed once, secrets masked.
// Also: SIGTERM arriving after bind but before the server loop drains cleanly.
#include "itest_common.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

using namespace dpost::test;
using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The "configuration" JSON line the server printed on stderr (exactly one is expected).
json effective_config(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  std::vector<json> found;
  while (std::getline(lines, line)) {
    if (line.find("\"msg\":\"configuration\"") == std::string::npos) continue;
    found.push_back(json::parse(line));
  }
  REQUIRE(found.size() == 1);
  return found.front();
}

// Sets environment variables for the servers this test starts; restores them at scope end.
class ScopedEnv {
 public:
  void set(const std::string& name, const std::string& value) {
    names_.push_back(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& name : names_) ::unsetenv(name.c_str());
  }

 private:
  std::vector<std::string> names_;
};

// A scratch directory (the TestServer's own is reused when there is one).
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dpost-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ignored;
    if (std::getenv("DPOST_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

TEST_CASE("config: flag beats DPOST_* environment, which beats the --config file, which beats the default") {
  Scratch scratch;
  const auto conf = scratch.dir / "server.conf";
  write_file(conf,
             "# comments and blank lines are fine\n\n"
             "public-rate = 10\n"
             "workers = 3\n"
             "confirm-within-minutes = 100\n"
             "log-requests = \"off\"\n");
  ScopedEnv env;
  env.set("DPOST_PUBLIC_RATE", "20");
  env.set("DPOST_WORKERS", "5");
  // The test server adds --listen and --db as flags: DPOST_DB must lose to them.
  env.set("DPOST_DB", (scratch.dir / "not-this.db").string());
  TestServer server({"--config", conf.string(), "--public-rate", "30"});
  const auto line = effective_config(read_file(server.log_path()));
  INFO(line.dump());
  const auto& settings = line["settings"];
  CHECK(line["config_file"] == conf.string());
  CHECK(settings["public-rate"] == 30);              // flag over environment and file
  CHECK(settings["workers"] == 5);                   // environment over file
  CHECK(settings["confirm-within-minutes"] == 100);  // file over default
  CHECK(settings["log-requests"] == "off");          // file over default
  CHECK(settings["io-threads"].get<int>() >= 1);     // default
  CHECK(settings["db"] == server.db_path());         // flag over environment
  CHECK_FALSE(std::filesystem::exists(scratch.dir / "not-this.db"));
  // The server really runs with what it printed: with log-requests off no request line appears.
  HttpClient client(server.host(), server.port());
  CHECK(client.get("/healthz").status == 200);
  REQUIRE(server.stop() == 0);
  CHECK(read_file(server.log_path()).find("\"msg\":\"request\"") == std::string::npos);
}

TEST_CASE("config: an unknown key in the file, an unknown flag or a bad value is refused with one line") {
  Scratch scratch;
  const auto log = (scratch.dir / "tool.log").string();
  const auto db = (scratch.dir / "x.db").string();
  struct Case {
    std::string what, conf;
    std::vector<std::string> args;
    std::string expected;  // in the error line
  };
  const std::vector<Case> cases = {
      {"unknown key", "listen = \"127.0.0.1:0\"\nlisen-typo = 1\n", {}, "lisen-typo"},
      {"a section", "[serve]\nlisten = \"127.0.0.1:0\"\n", {}, "serve"},
      {"a value out of range", "workers = 0\n", {}, "--workers"},
      {"not a number", "public-rate = many\n", {}, "--public-rate"},
      {"unknown flag", "", {"--lisen", "127.0.0.1:0"}, "--lisen"},
      {"a tool's flag on serve", "", {"--to", "copy.db"}, "--to"},
      {"a serve flag on a tool", "", {"verify", "--demo"}, "--demo"},
      {"a missing config file", "", {"--config", (scratch.dir / "missing.conf").string()}, "missing.conf"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    std::filesystem::remove(log);
    std::vector<std::string> args = c.args;
    if (!c.conf.empty()) {
      write_file(scratch.dir / "bad.conf", c.conf);
      args.insert(args.begin(), {"--config", (scratch.dir / "bad.conf").string()});
    }
    if (args.empty() || args.front() != "verify") args.insert(args.end(), {"--db", db});
    CHECK(run_server_tool(args, log) == 2);
    const auto text = read_file(log);
    // The log starts with the tool runner's "---- running" header; the server wrote exactly one line after it.
    const auto body = text.substr(text.find('\n') + 1);
    INFO(body);
    CHECK(std::count(body.begin(), body.end(), '\n') == 1);
    CHECK(body.starts_with("dossier-server: "));
    CHECK(body.find(c.expected) != std::string::npos);
  }
  // A refusal never starts anything: no database was created.
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("config: the printed configuration masks the webhook secret, from the file or DPOST_WEBHOOK_SECRET") {
  const std::string file_secret = "file-secret-Ab12";
  const std::string env_secret = "env-secret-Cd34";
  Scratch scratch;
  const auto conf = scratch.dir / "server.conf";
  write_file(conf, "webhook-url = \"http://127.0.0.1:9/hooks\"\nwebhook-secret = \"" + file_secret + "\"\n");
  for (bool from_env : {false, true}) {
    CAPTURE(from_env);
    ScopedEnv env;
    if (from_env) env.set("DPOST_WEBHOOK_SECRET", env_secret);
    TestServer server({"--config", conf.string()});
    const auto log = read_file(server.log_path());
    const auto line = effective_config(log);
    INFO(line.dump());
    CHECK(line["settings"]["webhook-secret"] == "***");
    CHECK(line["settings"]["webhook-url"] == "http://127.0.0.1:9/hooks");
    CHECK(log.find(file_secret) == std::string::npos);
    CHECK(log.find(env_secret) == std::string::npos);
  }
  // Without a secret anywhere the webhook is refused, naming the flag and not starting.
  write_file(conf, "webhook-url = \"http://127.0.0.1:9/hooks\"\n");
  const auto log = (scratch.dir / "tool.log").string();
  CHECK(run_server_tool({"--config", conf.string(), "--db", (scratch.dir / "y.db").string()}, log) == 2);
  CHECK(read_file(log).find("--webhook-secret") != std::string::npos);
}

TEST_CASE("config: the old flags and --flag=value still work, the tools keep their flags") {
  TestServer server({"--demo", "--public-rate=0", "--log-requests", "off", "--confirm-within-minutes", "30",
                     "--io-threads", "1", "--workers", "2"});
  const auto settings = effective_config(read_file(server.log_path()))["settings"];
  CHECK(settings["public-rate"] == 0);
  CHECK(settings["demo"] == true);
  CHECK(settings["io-threads"] == 1);
  CHECK(settings["notify-file"] == server.db_path() + ".messages.log");
  REQUIRE(server.stop() == 0);
  const auto copy = (server.dir() / "copy.db").string();
  CHECK(run_server_tool({"backup", "--db", server.db_path(), "--to", copy}, server.log_path()) == 0);
  CHECK(run_server_tool({"verify", "--db", copy}, server.log_path()) == 0);
  CHECK(run_server_tool({"--help"}, server.log_path()) == 0);
  CHECK(run_server_tool({"verify", "--help"}, server.log_path()) == 0);
  const auto log = read_file(server.log_path());
  CHECK(log.find("Cách dùng / usage") != std::string::npos);
}

// SIGTERM between bind and the server loop. The server's stdout is a pipe filled to the brim before it starts,
// so it blocks writing its "listening on" line, which comes after bind and before run(): once its port accepts
// a TCP connection it is provably in that window. Then SIGTERM, then the pipe is drained. A server whose
// signal handling starts only in run() dies of the signal (exit 143); the fixed one drains and exits 0.
TEST_CASE("config: SIGTERM after bind, before the server loop starts, drains and exits 0") {
  Scratch scratch;
  // A free port (a small race with other processes, fine on a test machine).
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(probe >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const auto port = ntohs(address.sin_port);
  ::close(probe);

  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  ::fcntl(out[1], F_SETFL, O_NONBLOCK);
  std::string filler(4096, 'x');
  while (::write(out[1], filler.data(), filler.size()) > 0) {
  }
  while (::write(out[1], filler.data(), 1) > 0) {
  }
  ::fcntl(out[1], F_SETFL, 0);  // the server's writes must block, not fail

  const auto log = (scratch.dir / "server.log").string();
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(log_fd >= 0);
  std::vector<std::string> args{DPOST_SERVER_BIN, "--listen", "127.0.0.1:" + std::to_string(port), "--db",
                                (scratch.dir / "t.db").string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, DPOST_SERVER_BIN, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(log_fd);
  REQUIRE(rc == 0);

  // Wait (bounded) until the port accepts: bound and listening, stuck on the full stdout.
  bool bound = false;
  int status = 0;
  for (int attempt = 0; attempt < 3000 && !bound; ++attempt) {
    REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // still alive
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    bound = ::connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(s);
    if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!bound) ::kill(pid, SIGKILL);
  REQUIRE(bound);
  ::kill(pid, SIGTERM);
  // Let it go on: drain stdout until the process closes it.
  char buffer[65536];
  while (::read(out[0], buffer, sizeof buffer) > 0) {
  }
  ::close(out[0]);
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(read_file(log));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_file(log).find("stopped cleanly") != std::string::npos);
}
