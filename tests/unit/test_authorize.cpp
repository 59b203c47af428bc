#include "authorize.hpp"

#include <doctest/doctest.h>

using namespace dpost;
using namespace dpost::server;

namespace {

Actor actor(Role role, std::string site, std::vector<std::string> scope = {}) {
  return Actor{1, std::string("tester"), role, std::move(site), std::nullopt, std::move(scope), std::string()};
}

// A dossier from post office P1 to office O1 (served by P1), routed also through P3.
ItemFacts dossier_item() {
  ItemFacts f;
  f.kind = ItemKind::dossier;
  f.state = ItemState::accepted;
  f.origin_site = "P1";
  f.destination_site = "O1";
  f.office = "O1";
  f.route = {"P1", "P3"};
  return f;
}

ItemFacts result_item() {
  ItemFacts f;
  f.kind = ItemKind::result;
  f.state = ItemState::created;
  f.origin_site = "O1";
  f.office = "O1";
  f.route = {"P1"};
  return f;
}

bool allowed(const Actor& a, Action action, const ItemFacts* item = nullptr, std::string site = {},
             std::optional<EventCode> code = std::nullopt, std::string other = {}) {
  return authorize(a, AccessRequest{action, item, std::move(site), std::move(other), code}).allowed;
}

}  // namespace

TEST_CASE("authorize: items are read by the post offices on their route and their office only") {
  const auto item = dossier_item();
  CHECK(allowed(actor(Role::clerk, "P1"), Action::read_item, &item));
  CHECK(allowed(actor(Role::clerk, "P3"), Action::read_item, &item));
  CHECK_FALSE(allowed(actor(Role::clerk, "P2"), Action::read_item, &item));
  CHECK(allowed(actor(Role::office_staff, "O1"), Action::read_item, &item));
  CHECK_FALSE(allowed(actor(Role::office_staff, "O2"), Action::read_item, &item));
  CHECK(allowed(actor(Role::supervisor, "X", {"O1"}), Action::read_item, &item));
  CHECK(allowed(actor(Role::supervisor, "P3"), Action::read_item, &item));
  CHECK_FALSE(allowed(actor(Role::supervisor, "X", {"O2", "P2"}), Action::read_item, &item));
  CHECK_FALSE(allowed(actor(Role::admin, ""), Action::read_item, &item));
  // Supervisors read but do not print.
  CHECK_FALSE(allowed(actor(Role::supervisor, "O1"), Action::print_label, &item));
  CHECK(allowed(actor(Role::clerk, "P1"), Action::print_label, &item));
}

TEST_CASE("authorize: every event code by every role at own and foreign sites") {
  const auto dossier = dossier_item();
  const auto result = result_item();
  int cases = 0;
  for (auto code : kAllEventCodes) {
    for (const auto* item : {&dossier, &result}) {
      CAPTURE(to_string(code));
      CAPTURE(to_string(item->kind));
      // A clerk off the route, office staff of another office, supervisors and admins never record.
      CHECK_FALSE(allowed(actor(Role::clerk, "P2"), Action::record_event, item, "P2", code));
      CHECK_FALSE(allowed(actor(Role::office_staff, "O2"), Action::record_event, item, "O2", code));
      CHECK_FALSE(allowed(actor(Role::supervisor, "O1", {"P1"}), Action::record_event, item, "P1", code));
      CHECK_FALSE(allowed(actor(Role::admin, ""), Action::record_event, item, "P1", code));
      // Nobody records at a site that is not theirs.
      CHECK_FALSE(allowed(actor(Role::clerk, "P1"), Action::record_event, item, "P3", code));
      const bool clerk_ok = allowed(actor(Role::clerk, "P1"), Action::record_event, item,
                                    code == EventCode::RES ? item->origin_site : "P1", code);
      CHECK(clerk_ok == recorded_by_post(code));
      // The office records RCV of what is addressed to it and RES of its own results.
      const bool staff_ok = allowed(actor(Role::office_staff, "O1"), Action::record_event, item, "O1", code);
      CHECK(staff_ok == (recorded_by_office(code) && !(code == EventCode::RES && item->kind == ItemKind::dossier)));
      cases += 9;
    }
  }
  MESSAGE("record_event cases: " << cases);
}

TEST_CASE("authorize: site-level actions") {
  CHECK(allowed(actor(Role::clerk, "P1"), Action::read_site, nullptr, "P1"));
  CHECK_FALSE(allowed(actor(Role::clerk, "P1"), Action::read_site, nullptr, "P2"));
  CHECK(allowed(actor(Role::supervisor, "O1", {"P1"}), Action::read_site, nullptr, "P1"));
  CHECK_FALSE(allowed(actor(Role::supervisor, "O1", {"P1"}), Action::read_site, nullptr, "P2"));
  CHECK_FALSE(allowed(actor(Role::admin, ""), Action::read_site, nullptr, "P1"));
  CHECK(allowed(actor(Role::clerk, "P1"), Action::manage_bag, nullptr, "P1"));
  CHECK_FALSE(allowed(actor(Role::clerk, "P1"), Action::manage_bag, nullptr, "P2"));
  CHECK_FALSE(allowed(actor(Role::supervisor, "P1"), Action::manage_bag, nullptr, "P1"));
  CHECK(allowed(actor(Role::office_staff, "O1"), Action::receive_bag, nullptr, "O1"));
  CHECK(allowed(actor(Role::office_staff, "O1"), Action::read_bag, nullptr, "P1", std::nullopt, "O1"));
  CHECK_FALSE(allowed(actor(Role::office_staff, "O1"), Action::read_bag, nullptr, "P1", std::nullopt, "O2"));
  CHECK(allowed(actor(Role::admin, ""), Action::read_audit));
  CHECK(allowed(actor(Role::supervisor, "O1"), Action::read_audit, nullptr, "O1"));
  CHECK_FALSE(allowed(actor(Role::supervisor, "O1"), Action::read_audit, nullptr, "O2"));
  CHECK_FALSE(allowed(actor(Role::clerk, "P1"), Action::read_audit));
  for (auto action : {Action::manage_sites, Action::manage_users, Action::manage_devices}) {
    CHECK(allowed(actor(Role::admin, ""), action));
    CHECK_FALSE(allowed(actor(Role::supervisor, "O1"), action));
    CHECK_FALSE(allowed(actor(Role::clerk, "P1"), action));
  }
  CHECK(allowed(actor(Role::office_staff, "O1"), Action::create_dossier, nullptr, "O1"));
  CHECK_FALSE(allowed(actor(Role::office_staff, "O1"), Action::create_dossier, nullptr, "O2"));
  CHECK(allowed(actor(Role::clerk, "P1"), Action::create_dossier, nullptr, "O2"));
  CHECK_FALSE(allowed(actor(Role::supervisor, "O1"), Action::create_dossier, nullptr, "O1"));
  CHECK(allowed(actor(Role::office_staff, "O1"), Action::create_result, nullptr, "O1"));
  CHECK_FALSE(allowed(actor(Role::office_staff, "O2"), Action::create_result, nullptr, "O1"));
  const auto item = dossier_item();
  CHECK(allowed(actor(Role::clerk, "P1"), Action::reroute_item, &item, "P2"));
  CHECK_FALSE(allowed(actor(Role::clerk, "P2"), Action::reroute_item, &item, "P2"));
  // An account without a site can do nothing but administration.
  CHECK_FALSE(allowed(actor(Role::clerk, ""), Action::read_site, nullptr, ""));
}
