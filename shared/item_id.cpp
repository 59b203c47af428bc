#include "item_id.hpp"

#include <cctype>

#include <array>
#include <stdexcept>

namespace dpost {

namespace {

// S10 check digit weights (UPU S10 standard, section 5.3).
constexpr std::array<int, 8> kWeights{8, 6, 4, 2, 3, 5, 9, 7};
constexpr std::size_t kLength = 13;

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Removes spaces and upper-cases; stops early once the text is too long to be an id.
std::string canonicalize(std::string_view text) {
  std::string out;
  out.reserve(kLength);
  for (char c : text) {
    if (c == ' ') continue;
    if (out.size() > kLength) break;
    out.push_back(to_upper(c));
  }
  return out;
}

int check_digit_of(std::string_view digits) {
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (digits[i] - '0') * kWeights[i];
  int check = 11 - sum % 11;
  if (check == 10) return 0;
  if (check == 11) return 5;
  return check;
}

}  // namespace

std::string_view to_code(ItemIdError error) {
  switch (error) {
    case ItemIdError::bad_length:
      return "bad_length";
    case ItemIdError::bad_format:
      return "bad_format";
    case ItemIdError::bad_check_digit:
      return "bad_check_digit";
    case ItemIdError::not_domestic:
      return "not_domestic";
  }
  return "bad_format";
}

std::string_view describe(ItemIdError error) {
  switch (error) {
    case ItemIdError::bad_length:
      return "An item id has 13 characters, e.g. EE123456785VN.";
    case ItemIdError::bad_format:
      return "An item id is two letters, nine digits and two letters, e.g. EE123456785VN.";
    case ItemIdError::bad_check_digit:
      return "The item id's check digit does not match its serial number: check for a mistyped digit.";
    case ItemIdError::not_domestic:
      return "The item id is not a Vietnamese one (it must end in VN).";
  }
  return "Invalid item id.";
}

void throw_exception_from_error(ItemIdError error, boost::source_location const& /*location*/) {
  throw std::invalid_argument(std::string(describe(error)));
}

boost::system::result<ItemId, ItemIdError> ItemId::parse_any_country(std::string_view text) {
  std::string id = canonicalize(text);
  if (id.size() != kLength) return ItemIdError::bad_length;
  if (!is_upper(id[0]) || !is_upper(id[1]) || !is_upper(id[11]) || !is_upper(id[12])) return ItemIdError::bad_format;
  for (std::size_t i = 2; i < 11; ++i) {
    if (!is_digit(id[i])) return ItemIdError::bad_format;
  }
  if (check_digit_of(std::string_view(id).substr(2, 8)) != id[10] - '0') return ItemIdError::bad_check_digit;
  return ItemId(std::move(id));
}

boost::system::result<ItemId, ItemIdError> ItemId::parse(std::string_view text) {
  auto id = parse_any_country(text);
  if (id && id->country() != "VN") return ItemIdError::not_domestic;
  return id;
}

std::optional<ItemId> ItemId::make(std::string_view service, std::uint32_t serial) {
  if (serial > 99'999'999 || service.size() != 2) return std::nullopt;
  std::string id;
  id.reserve(kLength);
  for (char c : service) {
    c = to_upper(c);
    if (!is_upper(c)) return std::nullopt;
    id.push_back(c);
  }
  std::array<char, 8> digits{};
  std::uint32_t rest = serial;
  for (std::size_t i = digits.size(); i-- > 0;) {
    digits[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  id.append(digits.data(), digits.size());
  id.push_back(static_cast<char>('0' + check_digit(serial)));
  id += "VN";
  return ItemId(std::move(id));
}

int ItemId::check_digit(std::uint32_t serial) {
  std::array<char, 8> digits{};
  for (std::size_t i = digits.size(); i-- > 0;) {
    digits[i] = static_cast<char>('0' + serial % 10);
    serial /= 10;
  }
  return check_digit_of(std::string_view(digits.data(), digits.size()));
}

std::string ItemId::grouped() const {
  std::string_view t = text_;
  std::string out;
  out.reserve(17);
  out.append(t.substr(0, 2)).push_back(' ');
  out.append(t.substr(2, 3)).push_back(' ');
  out.append(t.substr(5, 3)).push_back(' ');
  out.append(t.substr(8, 3)).push_back(' ');
  out.append(t.substr(11, 2));
  return out;
}

std::uint32_t ItemId::serial() const {
  std::uint32_t value = 0;
  for (std::size_t i = 2; i < 10; ++i) value = value * 10 + static_cast<std::uint32_t>(text_[i] - '0');
  return value;
}

std::string make_bag_id(std::uint32_t serial) {
  std::string digits = std::to_string(serial % 100'000'000);
  digits.insert(0, 8 - digits.size(), '0');
  return "BAG" + digits + std::to_string(ItemId::check_digit(serial % 100'000'000));
}

std::optional<std::string> parse_bag_id(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    compact.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (compact.size() != 12 || !compact.starts_with("BAG")) return std::nullopt;
  std::uint32_t serial = 0;
  for (std::size_t i = 3; i < 11; ++i) {
    if (compact[i] < '0' || compact[i] > '9') return std::nullopt;
    serial = serial * 10 + static_cast<std::uint32_t>(compact[i] - '0');
  }
  if (compact[11] - '0' != ItemId::check_digit(serial)) return std::nullopt;
  return compact;
}

}  // namespace dpost
