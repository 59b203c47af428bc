#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dpost::bench {

// A command-line mistake: main prints it with the usage text and exits with status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "--name value" and "--flag" options of one subcommand. Every option must be read by the subcommand, so a
// misspelt option is reported instead of silently ignored (see check_all_used()).
class Args {
 public:
  // `flags` are the option names that take no value.
  Args(int argc, char** argv, int first, std::set<std::string> flags);

  std::string text(std::string_view name);  // required
  std::string text(std::string_view name, std::string fallback);
  std::int64_t number(std::string_view name);  // required
  std::int64_t number(std::string_view name, std::int64_t fallback);
  bool flag(std::string_view name);
  void check_all_used() const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::set<std::string, std::less<>> used_;
};

}  // namespace dpost::bench
