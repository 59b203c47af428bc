#pragma once

#include "storage.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dpost::server {

// Everything a request can do to or with an object, as the one authorization function sees it. Every handler
// names its action here and asks authorize(); nothing else decides who may touch what (design.md section 5).
enum class Action {
  read_item,       // an item or dossier with the citizen's personal data (staff views, labels, receipts)
  print_label,     // render the label or receipt of an item
  record_event,    // a scan: `code` at `site` on `item`
  create_dossier,  // register a dossier for the office `site`
  create_result,   // create the result item of a dossier of office `site`
  pause_clock,     // stop or restart the deadline clock of a dossier of office `site`
  reroute_item,    // add the post office `site` to an item's route
  manage_bag,      // create a bag at `site`, add or remove items, dispatch it
  receive_bag,     // open and reconcile a bag addressed to `site`
  read_bag,        // a bag between `site` and `other_site`
  read_site,       // a site's pending handoffs, exceptions and handover slips
  read_audit,      // the security audit log (of `site`, or of all sites when empty)
  verify_ledger,   // run the full ledger check
  manage_sites,    // create sites, change serving post offices
  manage_users,    // create users, set supervisor scopes
  manage_devices,  // enrol or revoke a device for someone else
};
std::string_view to_string(Action action);

// What the rules need to know about an item: its kind and where it belongs.
struct ItemFacts {
  ItemKind kind = ItemKind::dossier;
  ItemState state = ItemState::created;
  std::string origin_site;         // who sent it: the post office that registered a dossier, the office of a result
  std::string destination_site;    // the office a dossier item goes to; empty when the citizen is the recipient
  std::string office;              // the dossier's one-stop office
  std::vector<std::string> route;  // post offices it is routed through (item_route)
};
ItemFacts facts_of(const ItemView& item);
// A dossier as a whole: its office, where it was registered, and the routes of all its items.
ItemFacts facts_of(const DossierInfo& dossier, const std::vector<std::string>& routes);

struct AccessRequest {
  // A constructor rather than an aggregate: call sites name only what their action needs.
  explicit AccessRequest(Action action_, const ItemFacts* item_ = nullptr, std::string site_ = {},
                         std::string other_site_ = {}, std::optional<EventCode> code_ = std::nullopt)
      : action(action_), item(item_), site(std::move(site_)), other_site(std::move(other_site_)), code(code_) {}
  Action action = Action::read_item;
  const ItemFacts* item = nullptr;  // for item actions
  std::string site;                 // the site acted at or on
  std::string other_site;           // read_bag: the bag's other end
  std::optional<EventCode> code;    // record_event
};

struct AccessDecision {
  bool allowed = false;
  std::string reason;  // English sentence for the 403 (and the audit log) when refused
};

// The one authorization function: role x the actor's site (a supervisor's scope) x the item's route and owner.
AccessDecision authorize(const Actor& actor, const AccessRequest& request);

// Does the actor's scope cover `site`? Clerks and office staff: their own site; supervisors: their scope
// (own site included); admins: no site (they manage accounts, not cases).
bool in_scope(const Actor& actor, std::string_view site);

}  // namespace dpost::server
