// The security property that matters most (design.md section 5): an action on an object of another site is
// refused and logged. A generated matrix of every endpoint that touches a site's objects x every role x a
// foreign site: no request succeeds, nothing is recorded, and every refusal is in the audit log.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace dpost::test;
using nlohmann::json;

namespace {

// One district: a post office, its one-stop office, their clerk and staff, and objects of theirs.
struct World {
  std::string post_office, office, clerk, staff;
  std::string item;       // an accepted dossier item
  std::string event_id;   // its EMA
  long long dossier = 0;  // its dossier
  std::string bag;        // an open bag to the office, holding `bag_item`
  std::string bag_item;   // out for delivery
  long long device = 0;   // the clerk's scanner
};

World make_world(ApiSession& s, Timeline& t, std::string po, std::string office, std::string clerk, std::string staff) {
  World w;
  w.post_office = po;
  w.office = office;
  w.clerk = clerk;
  w.staff = staff;
  auto created = s.create_dossier(clerk, dossier_body(unique_applicant(), office));
  REQUIRE(created.status == 201);
  w.dossier = created.json()["id"].get<long long>();
  w.item = created.json()["items"][0]["item_id"].get<std::string>();
  auto ema = scan_body(w.item, "EMA", po, t.next());
  w.event_id = ema["event_id"].get<std::string>();
  record(s, clerk, ema, "accepted");

  w.bag_item = create_dossier_item(s, clerk, unique_applicant(), office);
  for (const char* code : {"EMA", "EMG", "EDG"}) record(s, clerk, scan_body(w.bag_item, code, po, t.next()));
  auto bag = s.client.post("/api/v1/bags", json{{"destination", office}, {"items", {w.bag_item}}}, s.token(clerk));
  INFO(describe(bag));
  REQUIRE(bag.status == 201);
  w.bag = bag.json()["bag_id"].get<std::string>();
  w.device = enroll_device(s, clerk, "matrix-" + clerk).id;
  return w;
}

struct Request {
  std::string what;
  std::string method;
  std::string target;
  json body;           // null: no body
  bool batch = false;  // POST /scans/batch: the per-event status counts
};

json scan_json(const std::string& item, const std::string& code, const std::string& site, Timeline& t) {
  auto s = scan_body(item, code, site, t.next());
  if (code == "EMH") {
    s["reason"] = "vắng nhà";
    s["action"] = "redeliver";
  }
  if (code == "EMI")
    s["recipient"] = {
        {"name", "Người Nhận"}, {"id_checked", true}, {"id_document", {{"type", "cccd"}, {"number", "001090001234"}}}};
  return s;
}

// Every request that acts on world `w`'s objects, made by someone whose own site is `own_site`.
std::vector<Request> requests_on(const World& w, const std::string& own_site, Timeline& t) {
  std::vector<Request> r;
  const auto item = "/api/v1/items/" + w.item;
  const auto dossier = "/api/v1/dossiers/" + std::to_string(w.dossier);
  const auto bag = "/api/v1/bags/" + w.bag;
  r.push_back({"read item", "GET", item, nullptr});
  r.push_back({"label", "GET", item + "/label?format=zpl", nullptr});
  r.push_back({"custody", "GET", item + "/custody", nullptr});
  r.push_back({"reroute", "POST", item + "/route", json{{"site", w.post_office}}});
  r.push_back({"read dossier", "GET", dossier, nullptr});
  r.push_back({"receipt", "GET", dossier + "/receipt", nullptr});
  r.push_back({"create result", "POST", dossier + "/result", json::object()});
  r.push_back({"label sheet", "POST", "/api/v1/labels/sheet", json{{"items", {w.item}}}});
  r.push_back({"inclusion proof", "GET", "/api/v1/ledger/proof/inclusion?event_id=" + w.event_id, nullptr});
  for (const char* code : {"EMA", "EDD", "EDE", "EMG", "EDG", "EMH", "EMI", "RCV", "RES", "RTS"}) {
    for (const auto& site : {own_site, w.post_office, w.office}) {
      if (site.empty()) continue;
      r.push_back(
          {std::string("scan ") + code + " at " + site, "POST", "/api/v1/scans", scan_json(w.item, code, site, t)});
      r.push_back({std::string("batch ") + code + " at " + site, "POST", "/api/v1/scans/batch",
                   json{{"events", {scan_json(w.item, code, site, t)}}}, true});
    }
  }
  for (const auto& site : {w.post_office, w.office}) {
    r.push_back({"pending of " + site, "GET", "/api/v1/handoffs/pending?site=" + site, nullptr});
    r.push_back({"problems of " + site, "GET", "/api/v1/handoffs/problems?site=" + site, nullptr});
    r.push_back({"slip of " + site, "GET", "/api/v1/handoffs/slip?site=" + site, nullptr});
    r.push_back({"bags of " + site, "GET", "/api/v1/bags?site=" + site, nullptr});
    r.push_back({"audit of " + site, "GET", "/api/v1/audit?site=" + site, nullptr});
    r.push_back({"report of " + site, "GET", "/api/v1/reports/overview?site=" + site, nullptr});
    r.push_back({"waiting CSV of " + site, "GET", "/api/v1/reports/waiting.csv?site=" + site, nullptr});
    r.push_back({"on-time CSV of " + site, "GET", "/api/v1/reports/on-time.csv?site=" + site, nullptr});
  }
  r.push_back({"read bag", "GET", bag, nullptr});
  r.push_back({"bag slip", "GET", bag + "/slip", nullptr});
  r.push_back({"bag label", "GET", bag + "/label", nullptr});
  r.push_back({"add to bag", "POST", bag + "/items", json{{"item_id", w.item}}});
  r.push_back({"remove from bag", "DELETE", bag + "/items/" + w.bag_item, nullptr});
  r.push_back({"dispatch bag", "POST", bag + "/dispatch", json{{"event_id", new_uuid()}}});
  r.push_back({"receive bag", "POST", bag + "/receive", json::object()});
  r.push_back({"scan from bag", "POST", bag + "/scan", json{{"event_id", new_uuid()}, {"item_id", w.bag_item}}});
  r.push_back({"close bag", "POST", bag + "/close", json::object()});
  r.push_back({"bag their item", "POST", "/api/v1/bags", json{{"destination", w.office}, {"items", {w.bag_item}}}});
  r.push_back(
      {"revoke their device", "POST", "/api/v1/devices/" + std::to_string(w.device) + "/revoke", json::object()});
  r.push_back({"enrol a device for their clerk", "POST", "/api/v1/devices",
               json{{"name", "x"}, {"public_key", std::string(43, 'A') + "="}, {"username", w.clerk}}});
  return r;
}

// What only an admin may do.
std::vector<Request> admin_requests() {
  return {{"create site", "POST", "/api/v1/sites", json{{"code", "BC-X"}, {"kind", "post_office"}, {"name", "X"}}},
          {"list users", "GET", "/api/v1/users", nullptr},
          {"create user", "POST", "/api/v1/users",
           json{{"username", "mallory"}, {"password", "a-long-password"}, {"role", "admin"}}},
          {"set scope", "PUT", "/api/v1/users/supervisor1/scope", json{{"sites", {"BC-HN02"}}}}};
}

HttpResult send(ApiSession& s, const std::string& user, const Request& r) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + s.token(user)}};
  return s.client.request(r.method, r.target, r.body.is_null() ? "" : r.body.dump(), headers);
}

bool succeeded(const Request& r, const HttpResult& answer) {
  if (answer.status < 200 || answer.status >= 300) return false;
  if (!r.batch) return true;
  for (const auto& e : answer.json()["results"]) {
    if (e["status"].get<int>() < 300) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("access matrix: no request on another site's objects succeeds, and every refusal is logged") {
  TestServer server({"--demo", "--log-requests", "off"});
  ApiSession s(server);
  Timeline t;
  // A second supervisor for Cầu Giấy, so that each district has an outsider supervisor.
  auto made = s.client.post(
      "/api/v1/users",
      json{{"username", "supervisor2"}, {"password", "a-long-password"}, {"role", "supervisor"}, {"site", "MC-HN-CG"}},
      s.token("admin"));
  REQUIRE(made.status == 201);
  REQUIRE(s.client
              .request("PUT", "/api/v1/users/supervisor2/scope", json{{"sites", {"BC-HN02"}}}.dump(),
                       {{"Authorization", "Bearer " + s.token("admin")}})
              .status == 200);
  s.login_as("supervisor2", "a-long-password");
  const auto ba_dinh = make_world(s, t, "BC-HN01", "MC-HN-BD", "clerk1", "staff1");
  const auto cau_giay = make_world(s, t, "BC-HN02", "MC-HN-CG", "clerk2", "staff2");

  struct Outsider {
    std::string user;
    std::string role;
    std::string own_site;
  };
  // For each world, who is foreign to it: the other district's clerk, staff and supervisor, and the admin.
  const std::vector<std::pair<const World*, std::vector<Outsider>>> cases = {
      {&ba_dinh,
       {{"clerk2", "clerk", "BC-HN02"},
        {"staff2", "office_staff", "MC-HN-CG"},
        {"supervisor2", "supervisor", "MC-HN-CG"},
        {"admin", "admin", ""}}},
      {&cau_giay,
       {{"clerk1", "clerk", "BC-HN01"},
        {"staff1", "office_staff", "MC-HN-BD"},
        {"supervisor1", "supervisor", "MC-HN-BD"},
        {"admin", "admin", ""}}},
  };

  const auto events_before = [&](const World& w) {
    return std::pair{s.item(w.clerk, w.item).json()["events"].size(),
                     s.item(w.clerk, w.bag_item).json()["events"].size()};
  };
  const auto before_bd = events_before(ba_dinh);
  const auto before_cg = events_before(cau_giay);

  int total = 0;
  int refused_403 = 0;
  int refusals = 0;  // 403 answers, and events refused with 403 inside batches
  std::vector<std::string> leaks;
  for (const auto& [world, outsiders] : cases) {
    for (const auto& o : outsiders) {
      auto requests = requests_on(*world, o.own_site, t);
      if (o.role != "admin") {
        for (auto& r : admin_requests()) requests.push_back(r);
      }
      if (o.role == "clerk" || o.role == "office_staff") {
        // Supervisors and admins may run the ledger check; desk roles may not.
        requests.push_back({"ledger check", "GET", "/api/v1/ledger/verify", nullptr});
      }
      if (o.role == "office_staff" || o.role == "supervisor" || o.role == "admin") {
        // Clerks register dossiers for any office (they serve the citizen at the door); nobody else does
        // for an office not theirs.
        requests.push_back(
            {"register for their office", "POST", "/api/v1/dossiers", dossier_body(unique_applicant(), world->office)});
      }
      if (o.role == "admin") {
        // An administrator manages accounts; the audit log of a site is theirs to read, nothing of its cases.
        std::erase_if(requests, [](const Request& r) {
          return r.what.starts_with("audit of") || r.what.starts_with("enrol") || r.what.starts_with("revoke");
        });
      }
      for (const auto& r : requests) {
        const auto answer = send(s, o.user, r);
        ++total;
        if (answer.status == 403) ++refused_403;
        if (answer.status == 403) ++refusals;
        if (r.batch && answer.status == 200) {
          for (const auto& e : answer.json()["results"]) refusals += e["status"] == 403 ? 1 : 0;
        }
        if (succeeded(r, answer))
          leaks.push_back(o.user + " (" + o.role + "): " + r.what + " -> " + std::to_string(answer.status));
        if (answer.status >= 500) leaks.push_back(o.user + ": " + r.what + " -> server error " + answer.body);
      }
    }
  }
  MESSAGE("access matrix: " << total << " foreign requests (endpoint x role x site), " << refused_403
                            << " answered 403, " << leaks.size() << " succeeded");
  for (const auto& l : leaks) FAIL_CHECK(l);
  CHECK(leaks.empty());
  CHECK(total > 400);

  // Nothing was recorded on either district's items.
  CHECK(events_before(ba_dinh) == before_bd);
  CHECK(events_before(cau_giay) == before_cg);

  // Every 403 is in the audit log as a refusal, with who and from where.
  int denied = 0;
  std::optional<long long> before_id;
  for (;;) {
    std::string target = "/api/v1/audit?limit=1000";
    if (before_id) target += "&before_id=" + std::to_string(*before_id);
    auto page = s.client.get(target, s.token("admin"));
    REQUIRE(page.status == 200);
    const auto entries = page.json()["entries"];
    for (const auto& e : entries) {
      if (e["outcome"] == "denied") {
        ++denied;
        CHECK_FALSE(e["username"].get<std::string>().empty());
        CHECK(e["address"] == "127.0.0.1");
      }
    }
    if (entries.size() < 1000) break;
    before_id = entries.back()["id"].get<long long>();
  }
  MESSAGE("audit log: " << denied << " refusals on record for " << refusals << " refused requests and events");
  CHECK(denied >= refusals);
  CHECK(denied >= refused_403);
}

TEST_CASE("access matrix: the same requests by the district's own staff do succeed") {
  TestServer server({"--demo", "--log-requests", "off"});
  ApiSession s(server);
  Timeline t;
  const auto w = make_world(s, t, "BC-HN01", "MC-HN-BD", "clerk1", "staff1");
  int ok = 0;
  const std::vector<std::pair<std::string, Request>> own = {
      {"clerk1", {"read item", "GET", "/api/v1/items/" + w.item, nullptr}},
      {"staff1", {"read item", "GET", "/api/v1/items/" + w.item, nullptr}},
      {"supervisor1", {"read item", "GET", "/api/v1/items/" + w.item, nullptr}},
      {"clerk1", {"label", "GET", "/api/v1/items/" + w.item + "/label?format=zpl", nullptr}},
      {"staff1", {"read dossier", "GET", "/api/v1/dossiers/" + std::to_string(w.dossier), nullptr}},
      {"supervisor1", {"custody", "GET", "/api/v1/items/" + w.item + "/custody", nullptr}},
      {"clerk1", {"inclusion proof", "GET", "/api/v1/ledger/proof/inclusion?event_id=" + w.event_id, nullptr}},
      {"staff1", {"pending", "GET", "/api/v1/handoffs/pending?site=MC-HN-BD", nullptr}},
      {"supervisor1", {"problems", "GET", "/api/v1/handoffs/problems?site=BC-HN01", nullptr}},
      {"clerk1", {"read bag", "GET", "/api/v1/bags/" + w.bag, nullptr}},
      {"staff1", {"bag of my office", "GET", "/api/v1/bags/" + w.bag, nullptr}},
      {"supervisor1", {"audit of my office", "GET", "/api/v1/audit?site=MC-HN-BD", nullptr}},
      {"clerk1", {"scan EDD", "POST", "/api/v1/scans", scan_json(w.item, "EDD", "BC-HN01", t)}},
      {"supervisor1", {"report", "GET", "/api/v1/reports/overview?site=MC-HN-BD", nullptr}},
      {"staff1", {"waiting CSV", "GET", "/api/v1/reports/waiting.csv?site=MC-HN-BD", nullptr}},
  };
  for (const auto& [user, r] : own) {
    const auto answer = send(s, user, r);
    INFO(user << ": " << r.what << " -> " << describe(answer));
    CHECK(succeeded(r, answer));
    ok += succeeded(r, answer) ? 1 : 0;
  }
  MESSAGE("own-site requests that succeed: " << ok << " of " << own.size());
}
