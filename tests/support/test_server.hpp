#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace dpost::test {

// The real dossier-server (DPOST_SERVER_BIN) on 127.0.0.1 with an ephemeral port and a database in its own
// temporary directory. The server's stderr (and any stdout after the "listening on" line) goes to
// `log_path()`. Failures to start throw std::runtime_error carrying the end of that log, so the test that
// needed the server fails with the reason in its output.
//
// Set DPOST_KEEP_TEST_DIRS=1 to keep the temporary directories (database and log) after the tests.
class TestServer {
 public:
  // Starts the server at once: `--listen 127.0.0.1:0 --db <dir>/test.db` followed by `extra_args`.
  explicit TestServer(std::vector<std::string> extra_args = {});
  // Kills the server if still running and removes the temporary directory.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  unsigned short port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string db_path() const;
  std::string log_path() const;
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Sends `signal_number` (SIGTERM by default) and waits (30 s at most, then SIGKILL and throw). Returns the
  // exit code, or 128 + signal when the process died from a signal.
  int stop(int signal_number = SIGTERM);
  // SIGKILL and wait; returns 128 + SIGKILL normally.
  int kill9();
  // Stops the server (SIGTERM) if it runs, then starts it again on the same database with the same extra
  // arguments, or with `extra_args` when given. The port changes.
  void restart();
  void restart(std::vector<std::string> extra_args);

  // The last `max_bytes` of the server's log, for failure messages.
  std::string log_tail(std::size_t max_bytes = 4000) const;

 private:
  void launch();
  int wait_for_exit(std::chrono::milliseconds deadline);
  void reap(int status);

  std::filesystem::path dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  int stdout_fd_ = -1;
  std::thread drain_;  // copies the server's stdout into the log once it is ready
};

// Runs `dossier-server ARGS...` (a sub-command such as `verify --db FILE`) to completion, its stdout and
// stderr appended to `log_path`; returns the exit code (128 + signal when killed). Throws after 60 s.
int run_server_tool(const std::vector<std::string>& args, const std::string& log_path);

}  // namespace dpost::test
