#include "authorize.hpp"

#include <algorithm>

namespace dpost::server {
namespace {

AccessDecision allow() {
  return {true, {}};
}
AccessDecision deny(std::string reason) {
  return {false, std::move(reason)};
}

bool contains(const std::vector<std::string>& sites, std::string_view site) {
  return !site.empty() && std::find(sites.begin(), sites.end(), site) != sites.end();
}

std::string role_name(const Actor& a) {
  return std::string(to_string(a.role));
}

// Every site an item belongs to: its route, its sender, its destination and the dossier's office.
std::vector<std::string> sites_of(const ItemFacts& item) {
  std::vector<std::string> sites = item.route;
  for (const auto* s : {&item.origin_site, &item.destination_site, &item.office}) {
    if (!s->empty()) sites.push_back(*s);
  }
  return sites;
}

bool clerk_on_route(const Actor& a, const ItemFacts& item) {
  return contains(item.route, a.site);
}

// Office staff act on the items of their own office: dossiers addressed to it, results it sends, returns to it.
bool office_owns(const Actor& a, const ItemFacts& item) {
  return !a.site.empty() && (item.office == a.site || item.destination_site == a.site || item.origin_site == a.site);
}

AccessDecision read_item(const Actor& a, const ItemFacts& item) {
  switch (a.role) {
    case Role::clerk:
      if (clerk_on_route(a, item)) return allow();
      return deny("This item is not routed through your post office (" + a.site + ").");
    case Role::office_staff:
      if (office_owns(a, item)) return allow();
      return deny("This item belongs to office " + item.office + ", not to yours (" + a.site + ").");
    case Role::supervisor: {
      const auto sites = sites_of(item);
      if (std::any_of(sites.begin(), sites.end(), [&](const std::string& s) { return in_scope(a, s); })) {
        return allow();
      }
      return deny("This item concerns none of the sites you supervise.");
    }
    case Role::admin:
      return deny("Administrators manage sites, users and devices; they do not read dossiers.");
  }
  return deny("Not allowed.");
}

AccessDecision record_event(const Actor& a, const ItemFacts& item, std::string_view site, EventCode code) {
  const std::string name(to_string(code));
  switch (a.role) {
    case Role::clerk:
      if (!recorded_by_post(code)) return deny(name + " is recorded by one-stop office staff, not by postal clerks.");
      if (!clerk_on_route(a, item)) {
        return deny("This item is not routed through your post office (" + a.site + ").");
      }
      if (code == EventCode::RES) {
        // A clerk collecting a result at the office counter records the handover at that office.
        if (site != item.origin_site) {
          return deny("RES is recorded at the office handing over the result (" + item.origin_site + ").");
        }
        return allow();
      }
      if (site != a.site) {
        return deny("Clerks record events at their own post office (" + a.site + "), not at " + std::string(site) +
                    ".");
      }
      return allow();
    case Role::office_staff:
      if (!recorded_by_office(code)) return deny(name + " is a postal event: postal clerks record it.");
      if (site != a.site) {
        return deny("Office staff record events at their own office (" + a.site + "), not at " + std::string(site) +
                    ".");
      }
      if (code == EventCode::RCV) {
        const auto& owner = item.kind == ItemKind::dossier ? item.destination_site : item.origin_site;
        if (owner != a.site) return deny("This item is addressed to " + owner + ", not to your office.");
      }
      if (code == EventCode::RES && item.origin_site != a.site) {
        return deny("This result belongs to office " + item.origin_site + ", not to yours.");
      }
      return allow();
    case Role::supervisor:
    case Role::admin:
      return deny("Only postal clerks and one-stop office staff record scans.");
  }
  return deny("Not allowed.");
}

AccessDecision own_site(const Actor& a, std::string_view site, std::string_view what) {
  if ((a.role == Role::clerk || a.role == Role::office_staff) && site == a.site) return allow();
  return deny("Your role (" + role_name(a) + ") at " + (a.site.empty() ? std::string("no site") : a.site) +
              " may not " + std::string(what) + " at " + std::string(site) + ".");
}

}  // namespace

std::string_view to_string(Action action) {
  switch (action) {
    case Action::read_item:
      return "read_item";
    case Action::print_label:
      return "print_label";
    case Action::record_event:
      return "record_event";
    case Action::create_dossier:
      return "create_dossier";
    case Action::create_result:
      return "create_result";
    case Action::pause_clock:
      return "pause_clock";
    case Action::reroute_item:
      return "reroute_item";
    case Action::manage_bag:
      return "manage_bag";
    case Action::receive_bag:
      return "receive_bag";
    case Action::read_bag:
      return "read_bag";
    case Action::read_site:
      return "read_site";
    case Action::read_audit:
      return "read_audit";
    case Action::verify_ledger:
      return "verify_ledger";
    case Action::manage_sites:
      return "manage_sites";
    case Action::manage_users:
      return "manage_users";
    case Action::manage_devices:
      return "manage_devices";
  }
  return "unknown";
}

bool in_scope(const Actor& a, std::string_view site) {
  if (site.empty()) return false;
  switch (a.role) {
    case Role::clerk:
    case Role::office_staff:
      return a.site == site;
    case Role::supervisor:
      return a.site == site || contains(a.scope, site);
    case Role::admin:
      return false;
  }
  return false;
}

ItemFacts facts_of(const ItemView& item) {
  ItemFacts f;
  f.kind = item.kind;
  f.state = item.state;
  f.origin_site = item.origin_site;
  f.destination_site = item.destination_site;
  f.office = item.dossier.office;
  for (const auto& stop : item.route) f.route.push_back(stop.site);
  return f;
}

ItemFacts facts_of(const DossierInfo& dossier, const std::vector<std::string>& routes) {
  ItemFacts f;
  f.origin_site = dossier.origin_site;
  f.office = dossier.office;
  f.destination_site = dossier.office;
  f.route = routes;
  return f;
}

AccessDecision authorize(const Actor& a, const AccessRequest& r) {
  if (a.role != Role::admin && a.site.empty()) {
    return deny("Your account is not bound to a site.");
  }
  switch (r.action) {
    case Action::read_item:
      if (!r.item) return deny("No item.");
      return read_item(a, *r.item);
    case Action::print_label:
      if (!r.item) return deny("No item.");
      if (a.role == Role::supervisor) return deny("Supervisors read items; labels are printed where the item is.");
      return read_item(a, *r.item);
    case Action::record_event:
      if (!r.item || !r.code) return deny("No item.");
      return record_event(a, *r.item, r.site, *r.code);
    case Action::create_dossier:
      if (a.role == Role::clerk) return allow();  // accepted at the clerk's own post office, for any office
      if (a.role == Role::office_staff) {
        if (r.site == a.site) return allow();
        return deny("Office staff register dossiers for their own office (" + a.site + ").");
      }
      return deny("Your role (" + role_name(a) + ") may not register dossiers.");
    case Action::create_result:
      if (a.role == Role::office_staff && r.site == a.site) return allow();
      if (a.role == Role::office_staff) {
        return deny("This dossier belongs to office " + r.site + ", not to yours (" + a.site + ").");
      }
      return deny("Your role (" + role_name(a) + ") may not create result items.");
    case Action::pause_clock:
      if (a.role == Role::office_staff && r.site == a.site) return allow();
      if (a.role == Role::office_staff) {
        return deny("This dossier belongs to office " + r.site + ", not to yours (" + a.site + ").");
      }
      return deny("Only the dossier's own office stops or restarts its deadline clock; your role (" + role_name(a) +
                  ") may not.");
    case Action::reroute_item:
      if (!r.item) return deny("No item.");
      if (a.role == Role::clerk && clerk_on_route(a, *r.item)) return allow();
      if (a.role == Role::supervisor && read_item(a, *r.item).allowed && in_scope(a, r.site)) return allow();
      return deny("Only a post office on the item's route (or its supervisor) may send it on to another office.");
    case Action::manage_bag:
      return own_site(a, r.site, "make up bags");
    case Action::receive_bag:
      return own_site(a, r.site, "receive bags");
    case Action::read_bag:
      if (in_scope(a, r.site) || in_scope(a, r.other_site)) return allow();
      return deny("This bag travels between " + r.site + " and " + r.other_site + ", none of them yours.");
    case Action::read_site:
      if (in_scope(a, r.site)) return allow();
      if (r.site.empty()) return deny("Your role (" + role_name(a) + ") reads no site's records.");
      return deny("Your role (" + role_name(a) + ") may not read the records of " + r.site + ".");
    case Action::read_audit:
      if (a.role == Role::admin) return allow();
      if (a.role == Role::supervisor && (r.site.empty() || in_scope(a, r.site))) return allow();
      if (a.role == Role::supervisor) return deny("Site " + r.site + " is not among the sites you supervise.");
      return deny("Only administrators and supervisors read the security audit log.");
    case Action::verify_ledger:
      if (a.role == Role::admin || a.role == Role::supervisor) return allow();
      return deny("Only administrators and supervisors run the ledger check.");
    case Action::manage_sites:
    case Action::manage_users:
    case Action::manage_devices: {
      if (a.role == Role::admin) return allow();
      const char* what = r.action == Action::manage_sites   ? "manage sites"
                         : r.action == Action::manage_users ? "manage user accounts"
                                                            : "enrol or revoke someone else's devices";
      return deny("Only administrators " + std::string(what) + "; your role (" + role_name(a) + ") may not.");
    }
  }
  return deny("Not allowed.");
}

}  // namespace dpost::server
