#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpost {

enum class ItemIdError {
  bad_length,       // not 13 characters once spaces are removed
  bad_format,       // not [A-Z]{2}[0-9]{9}[A-Z]{2}
  bad_check_digit,  // S10 check digit does not match the serial
  not_domestic,     // country is not VN (only with ItemId::parse)
};

// Stable snake_case code ("bad_check_digit") and an English sentence for API errors.
std::string_view to_code(ItemIdError error);
std::string_view describe(ItemIdError error);

// Found by ADL so that boost::system::result<ItemId, ItemIdError>::value() compiles: throws
// std::invalid_argument carrying describe(error).
[[noreturn]] void throw_exception_from_error(ItemIdError error, boost::source_location const& location);

// UPU S10 item identifier, e.g. EE123456785VN: service indicator, 8-digit serial, check digit, country.
class ItemId {
 public:
  // Accepts lower case and spaces ("ee 123 456 785 vn"); requires country VN.
  static boost::system::result<ItemId, ItemIdError> parse(std::string_view text);
  // Same rules, any ISO country (RR473124829GB is valid here).
  static boost::system::result<ItemId, ItemIdError> parse_any_country(std::string_view text);
  // Builds the VN id for a serial (0..99'999'999) and a two-letter service indicator; nullopt when out of range.
  static std::optional<ItemId> make(std::string_view service, std::uint32_t serial);
  // S10 check digit, weights 8,6,4,2,3,5,9,7; 11 - (sum mod 11), 10 -> 0, 11 -> 5.
  static int check_digit(std::uint32_t serial);

  const std::string& str() const { return text_; }
  // Human-readable grouping printed under the barcode: "EE 123 456 785 VN".
  std::string grouped() const;
  std::string_view service() const { return std::string_view(text_).substr(0, 2); }
  std::uint32_t serial() const;
  std::string_view country() const { return std::string_view(text_).substr(11, 2); }

  friend bool operator==(const ItemId&, const ItemId&) = default;
  friend auto operator<=>(const ItemId&, const ItemId&) = default;

 private:
  explicit ItemId(std::string canonical) : text_(std::move(canonical)) {}
  std::string text_;
};

// Bags (túi gói, with their manifest, bảng kê): "BAG" + an 8-digit serial + its S10 check digit, e.g.
// BAG000000015. Not an S10 id, so a scanner can never take a bag for an item.
std::string make_bag_id(std::uint32_t serial);
// Accepts lower case and spaces; nullopt when it is not a bag id or its check digit is wrong.
std::optional<std::string> parse_bag_id(std::string_view text);

}  // namespace dpost
