#include "http_types.hpp"

#include <optional>

namespace dpost::server {

namespace {

std::optional<int> hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      auto high = hex_value(text[i + 1]);
      auto low = hex_value(text[i + 2]);
      if (high && low) {
        out.push_back(static_cast<char>(*high * 16 + *low));
        i += 2;
        continue;
      }
    }
    // A malformed escape is kept as sent: rejecting it is the handler's choice, not the decoder's.
    out.push_back(text[i]);
  }
  return out;
}

std::string_view HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::string_view HttpRequest::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::string HttpRequest::query_param(std::string_view name) const {
  // Query strings follow application/x-www-form-urlencoded: '+' is a space there (unlike in the path).
  auto decode_form = [](std::string_view part) {
    std::string spaced(part);
    for (char& c : spaced) {
      if (c == '+') c = ' ';
    }
    return percent_decode(spaced);
  };
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (decode_form(key) == name) return decode_form(value);
  }
  return {};
}

}  // namespace dpost::server
