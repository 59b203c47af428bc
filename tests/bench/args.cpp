#include "args.hpp"

#include <charconv>

namespace dpost::bench {

Args::Args(int argc, char** argv, int first, std::set<std::string> flags) {
  for (int i = first; i < argc; ++i) {
    std::string name = argv[i];
    if (!name.starts_with("--")) throw UsageError("unexpected argument '" + name + "'");
    name.erase(0, 2);
    if (flags.contains(name)) {
      values_.insert_or_assign(name, std::string());
      continue;
    }
    if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
    values_.insert_or_assign(name, std::string(argv[++i]));
  }
}

std::string Args::text(std::string_view name) {
  auto it = values_.find(name);
  if (it == values_.end()) throw UsageError("missing option --" + std::string(name));
  used_.emplace(name);
  return it->second;
}

std::string Args::text(std::string_view name, std::string fallback) {
  if (!values_.contains(name)) return fallback;
  return text(name);
}

std::int64_t Args::number(std::string_view name) {
  const std::string value = text(name);
  std::int64_t result = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (ec != std::errc() || end != value.data() + value.size() || result < 0) {
    throw UsageError("option --" + std::string(name) + " needs a non-negative integer, not '" + value + "'");
  }
  return result;
}

std::int64_t Args::number(std::string_view name, std::int64_t fallback) {
  if (!values_.contains(name)) return fallback;
  return number(name);
}

bool Args::flag(std::string_view name) {
  if (!values_.contains(name)) return false;
  used_.emplace(name);
  return true;
}

void Args::check_all_used() const {
  for (const auto& [name, value] : values_) {
    if (!used_.contains(name)) throw UsageError("unknown option --" + name);
  }
}

}  // namespace dpost::bench
