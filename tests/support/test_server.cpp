#include "test_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace dpost::test {
namespace {

constexpr auto kStartDeadline = std::chrono::seconds(30);
constexpr auto kStopDeadline = std::chrono::seconds(30);
constexpr std::string_view kReadyMarker = "dossier-server listening on http://";

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "dpost-itest-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  return pattern;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void append_to_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

// "dossier-server listening on http://127.0.0.1:41234" -> 41234; 0 when the line is not the marker.
unsigned short parse_ready_line(std::string_view line) {
  auto at = line.find(kReadyMarker);
  if (at == std::string_view::npos) return 0;
  auto colon = line.rfind(':');
  if (colon == std::string_view::npos || colon < at + kReadyMarker.size()) return 0;
  unsigned long port = 0;
  for (char c : line.substr(colon + 1)) {
    if (c == '/' || c == '\r' || c == ' ') break;
    if (c < '0' || c > '9') return 0;
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535) return 0;
  }
  return static_cast<unsigned short>(port);
}

}  // namespace

TestServer::TestServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  // A server killed while we write to its socket must not take the test process down with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  dir_ = make_temp_dir();
  try {
    launch();
  } catch (...) {
    std::error_code ignored;
    if (std::getenv("DPOST_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

TestServer::~TestServer() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reap(status);
  }
  if (std::getenv("DPOST_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string TestServer::db_path() const {
  return (dir_ / "test.db").string();
}
std::string TestServer::log_path() const {
  return (dir_ / "server.log").string();
}

std::string TestServer::log_tail(std::size_t max_bytes) const {
  std::ifstream in(log_path(), std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

void TestServer::launch() {
  port_ = 0;
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw_errno("open " + log_path());
  }
  {
    std::string header = "---- starting " DPOST_SERVER_BIN "\n";
    [[maybe_unused]] auto written = ::write(log_fd, header.data(), header.size());
  }

  std::vector<std::string> args{DPOST_SERVER_BIN, "--listen", "127.0.0.1:0", "--db", db_path()};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);  // dup2 clears O_CLOEXEC on the target
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, DPOST_SERVER_BIN, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(log_fd);
  if (rc != 0) {
    ::close(out_pipe[0]);
    throw std::system_error(rc, std::generic_category(), "posix_spawn " DPOST_SERVER_BIN);
  }
  pid_ = pid;
  stdout_fd_ = out_pipe[0];

  // Read stdout until the ready line, the process dies, or the deadline passes.
  std::string pending;
  auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  std::string failure;
  while (port_ == 0 && failure.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      failure = "did not print \"" + std::string(kReadyMarker) + "PORT\" within 30 s";
      break;
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) throw_errno("poll");
    if (ready <= 0) continue;
    char buffer[4096];
    auto n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read server stdout");
    }
    if (n == 0) {
      failure = "closed its stdout (exited?) before printing the ready line";
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    for (auto eol = pending.find('\n'); eol != std::string::npos && port_ == 0; eol = pending.find('\n')) {
      std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      append_to_file(log_path(), "[stdout] " + line + "\n");
      port_ = parse_ready_line(line);
    }
  }

  if (port_ == 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reap(status);
    throw std::runtime_error("dossier-server (" DPOST_SERVER_BIN ") " + failure + "; exit status " +
                             std::to_string(exit_code(status)) + ". Server log " + log_path() + ":\n" + log_tail());
  }

  // Keep draining stdout so that a chatty server never blocks on a full pipe.
  int fd = stdout_fd_;
  std::string log = log_path();
  drain_ = std::thread([fd, log, rest = std::move(pending)] {
    if (!rest.empty()) append_to_file(log, "[stdout] " + rest);
    char buffer[4096];
    for (;;) {
      auto n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      append_to_file(log, std::string_view(buffer, static_cast<std::size_t>(n)));
    }
  });
}

void TestServer::reap(int status) {
  pid_ = -1;
  if (drain_.joinable()) drain_.join();  // the pipe reaches EOF once the process is gone
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  append_to_file(log_path(), "---- exited with status " + std::to_string(exit_code(status)) + "\n");
}

int TestServer::wait_for_exit(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reap(status);
      return exit_code(status);
    }
    if (done < 0 && errno != EINTR) throw_errno("waitpid");
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

int TestServer::stop(int signal_number) {
  if (!running()) throw std::logic_error("TestServer::stop: the server is not running");
  ::kill(pid_, signal_number);
  int code = wait_for_exit(kStopDeadline);
  if (code == -1 && running()) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(kStopDeadline);
    throw std::runtime_error("dossier-server did not exit within 30 s of signal " + std::to_string(signal_number) +
                             " (killed). Server log:\n" + log_tail());
  }
  return code;
}

int TestServer::kill9() {
  if (!running()) throw std::logic_error("TestServer::kill9: the server is not running");
  ::kill(pid_, SIGKILL);
  return wait_for_exit(kStopDeadline);
}

void TestServer::restart() {
  if (running()) {
    int code = stop();
    if (code != 0) {
      throw std::runtime_error("dossier-server exited with status " + std::to_string(code) +
                               " on SIGTERM before restart. Server log:\n" + log_tail());
    }
  }
  launch();
}

void TestServer::restart(std::vector<std::string> extra_args) {
  extra_args_ = std::move(extra_args);
  restart();
}

int run_server_tool(const std::vector<std::string>& args, const std::string& log_path) {
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw_errno("open " + log_path);
  std::string header = "---- running " DPOST_SERVER_BIN;
  for (const auto& arg : args) header += " " + arg;
  header += "\n";
  [[maybe_unused]] auto written = ::write(log_fd, header.data(), header.size());

  std::vector<std::string> all{DPOST_SERVER_BIN};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, DPOST_SERVER_BIN, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " DPOST_SERVER_BIN);

  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return exit_code(status);
    if (done < 0 && errno != EINTR) throw_errno("waitpid");
    if (std::chrono::steady_clock::now() >= until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw std::runtime_error("dossier-server " + (args.empty() ? std::string() : args.front()) +
                               " did not finish within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace dpost::test
