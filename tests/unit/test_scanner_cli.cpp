// cli.hpp is on the include path only where the test target links dpost_scanner (unit_tests needs
// `dpost_scanner` in its target_link_libraries); without it this file compiles to nothing rather than breaking
// the build.
#if __has_include("cli.hpp")

#include "cli.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

// Runs the CLI in-process with std::cout and std::cerr redirected, so the test output stays readable.
Run run(std::vector<std::string> args) {
  args.insert(args.begin(), "dossier-scanner");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out;
  std::ostringstream err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  const int code = dpost::scanner::run_cli(static_cast<int>(args.size()), argv.data());
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("scanner cli: help exits 0 and lists the coming subcommands") {
  for (const auto& args : std::vector<std::vector<std::string>>{{}, {"--help"}, {"-h"}}) {
    const Run r = run(args);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    for (const char* word : {"decode", "scan", "status", "sync", "Cách dùng", "Usage"}) {
      CHECK(r.out.find(word) != std::string::npos);
    }
    // Vietnamese first, English second.
    CHECK(r.out.find("Cách dùng") < r.out.find("Usage"));
  }
}

TEST_CASE("scanner cli: unknown or not yet available subcommands exit 2 with one line on stderr") {
  for (const char* command : {"frobnicate", "--bogus", "decode", "scan", "status", "sync"}) {
    CAPTURE(command);
    const Run r = run({command});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(command) != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
}

#endif  // __has_include("cli.hpp")
