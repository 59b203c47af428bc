#include "storage.hpp"

#include <array>
#include <utility>

namespace dpost::server {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 4> kRoleNames{{
    {Role::clerk, "clerk"},
    {Role::office_staff, "office_staff"},
    {Role::supervisor, "supervisor"},
    {Role::admin, "admin"},
}};

constexpr std::array<std::pair<SiteKind, std::string_view>, 2> kSiteKindNames{{
    {SiteKind::post_office, "post_office"},
    {SiteKind::office, "office"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, n] : names) {
    if (v == value) return n;
  }
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view text) {
  for (const auto& [v, n] : names) {
    if (n == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Role role) {
  return name_of(kRoleNames, role);
}
std::optional<Role> parse_role(std::string_view text) {
  return value_of(kRoleNames, text);
}
std::string_view to_string(SiteKind kind) {
  return name_of(kSiteKindNames, kind);
}
std::optional<SiteKind> parse_site_kind(std::string_view text) {
  return value_of(kSiteKindNames, text);
}

}  // namespace dpost::server
