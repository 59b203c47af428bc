// cli.hpp is on the include path only where the test target links dpost_scanner (unit_tests needs
// `dpost_scanner` in its target_link_libraries); without it this file compiles to nothing rather than breaking
// the build.
#if __has_include("cli.hpp")

#include "../scanner_corpus/label_corpus.hpp"
#include "cli.hpp"

#include <doctest/doctest.h>

#include <filesystem>
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

TEST_CASE("scanner cli: help exits 0 and lists the subcommands") {
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

TEST_CASE("scanner cli: unknown commands and bad usage exit 2 with one line on stderr") {
  for (const char* command : {"frobnicate", "--bogus"}) {
    CAPTURE(command);
    const Run r = run({command});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(command) != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"decode"},
           {"decode", "--bogus", "x.png"},
           {"scan", "--site", "BC-HN01", "x.png"},
           {"scan", "--code", "XYZ", "--site", "BC-HN01", "x.png"},
           {"scan", "--code", "EMH", "--site", "BC-HN01", "--outbox", "/tmp/dpost-never-created/o.db", "x.png"},
           // A failed attempt needs its action, known reason codes and actions only.
           {"scan", "--code", "EMH", "--site", "BC-HN01", "--reason", "Vắng nhà", "--outbox",
            "/tmp/dpost-never-created/o.db", "x.png"},
           {"scan", "--code", "EMH", "--site", "BC-HN01", "--reason-code", "absent", "--action", "later", "--outbox",
            "/tmp/dpost-never-created/o.db", "x.png"},
           {"scan", "--code", "EMH", "--site", "BC-HN01", "--reason-code", "sleeping", "--action", "redeliver",
            "--outbox", "/tmp/dpost-never-created/o.db", "x.png"},
           // Someone other than the applicant needs the authorization; an ID number needs the ID check.
           {"scan", "--code", "EMI", "--site", "BC-HN01", "--recipient-name", "Lê Văn B", "--id-checked", "--relation",
            "con", "--outbox", "/tmp/dpost-never-created/o.db", "x.png"},
           {"scan", "--code", "EMI", "--site", "BC-HN01", "--recipient-name", "Lê Văn B", "--id-number", "001090001234",
            "--outbox", "/tmp/dpost-never-created/o.db", "x.png"},
           {"scan", "--code", "EMI", "--site", "BC-HN01", "--recipient-name", "Lê Văn B", "--id-checked", "--id-type",
            "visa", "--id-number", "1234", "--outbox", "/tmp/dpost-never-created/o.db", "x.png"},
           {"sync", "--lang", "fr"}}) {
    CAPTURE(args.front());
    const Run r = run(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find('\n') == r.err.size() - 1);
    // Both languages on the one line, Vietnamese first, whatever --lang says.
    CHECK(r.err.find(" / ") != std::string::npos);
    CHECK(r.err.find("(xem / see dossier-scanner --help)") != std::string::npos);
  }
  // The words themselves, for two of them.
  CHECK(run({"sync", "--lang", "fr"}).err ==
        "dossier-scanner: --lang phải là vi hoặc en / --lang must be vi or en "
        "(xem / see dossier-scanner --help)\n");
  // A wrong event code is named before anything else is asked for.
  const Run bad_code = run({"scan", "--code", "XYZ"});
  CHECK(bad_code.code == 2);
  CHECK(bad_code.err.rfind("dossier-scanner: mã sự kiện không hợp lệ XYZ (EMA, ", 0) == 0);
  CHECK(bad_code.err.find("/ unknown event code XYZ") != std::string::npos);
}

TEST_CASE("scanner cli: decode prints one line per file in the documented forms") {
  const std::string dir = "/tmp/dpost-scanner-cli-test";
  std::filesystem::create_directories(dir);
  const std::string label = dir + "/label.png";
  const std::string blank = dir + "/blank.png";
  const auto image =
      dpost::scanner_corpus::render_label(dpost::scanner_corpus::corpus_id(3), dpost::scanner_corpus::corpus_url(3));
  stbi_write_png(label.c_str(), image.width, image.height, 1, image.pixels.data(), image.width);
  const dpost::scanner::GrayImage white(64, 48, 255);
  stbi_write_png(blank.c_str(), white.width, white.height, 1, white.pixels.data(), white.width);

  Run r = run({"decode", label});
  CHECK(r.code == 0);
  CHECK(r.out == label + ": " + dpost::scanner_corpus::corpus_id(3) + "\n");
  r = run({"decode", label, blank});
  CHECK(r.code == 1);
  CHECK(r.out ==
        label + ": " + dpost::scanner_corpus::corpus_id(3) + "\n" + blank + ": không tìm thấy mã / no code found\n");
  r = run({"decode", "--json", label});
  CHECK(r.code == 0);
  CHECK(r.out ==
        R"({"file":")" + label + R"(","ids":[")" + dpost::scanner_corpus::corpus_id(3) + R"("],"ignored":[]})" + "\n");
  std::filesystem::remove_all(dir);
}

#endif  // __has_include("cli.hpp")
