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

std::string_view to_string(BagState state) {
  switch (state) {
    case BagState::open:
      return "open";
    case BagState::dispatched:
      return "dispatched";
    case BagState::receiving:
      return "receiving";
    case BagState::closed:
      return "closed";
  }
  return "open";
}

Custody custody_of(ItemKind kind, ItemState state, const std::vector<EventRecord>& events, std::string_view origin_site,
                   std::string_view destination_site) {
  Custody c;
  const EventRecord* last = events.empty() ? nullptr : &events.back();
  if (last) {
    c.since = last->occurred_at;
    c.site = last->site;
  }
  switch (state) {
    case ItemState::created:
      // A dossier waits with the citizen; a result, at the office that made it.
      c.holder = kind == ItemKind::dossier ? "citizen" : "office";
      c.site = kind == ItemKind::dossier ? std::string() : std::string(origin_site);
      break;
    case ItemState::handed_to_post:
      // RES: the office let go, the post has not confirmed with EMA yet.
      c.holder = "post";
      c.awaiting_confirmation = true;
      c.awaiting_site = "";  // the post office that collects it (pickup) confirms
      break;
    case ItemState::delivered:
      if (kind == ItemKind::dossier) {
        c.holder = "office";
        c.site = std::string(destination_site);
        c.awaiting_confirmation = true;  // EMI at the counter, RCV still to come
        c.awaiting_site = std::string(destination_site);
      } else {
        c.holder = "citizen";
        c.site.clear();
      }
      break;
    case ItemState::received:
      c.holder = "office";
      break;
    case ItemState::returned:
      c.holder = (last && last->code == EventCode::RCV) ? "office" : "citizen";
      if (c.holder == "citizen") c.site.clear();
      break;
    default:
      c.holder = "post";
      break;
  }
  return c;
}

}  // namespace dpost::server
