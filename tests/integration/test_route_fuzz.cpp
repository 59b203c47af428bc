// Every route the server registers, fed seeded mutations of valid requests: wrong JSON types, missing and
// extra fields, huge and odd values, truncated and non-UTF-8 bodies, garbage path parameters and queries, as
// every demo login and as nobody. Whatever comes in, the answer is never a 5xx, a 4xx of the API carries the
// error envelope, the server stays up and the stored history still verifies. The seed is fixed, so a failure
// repeats; the message names the request that drew it. Under scripts/sanitize this is also the widest memory
// and undefined-behaviour check the suite has.
#include "itest_common.hpp"

#include <doctest/doctest.h>

#include <array>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr int kRequests = 1500;
constexpr std::uint32_t kSeed = 20261208;

class Mutator {
 public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  json odd_value() {
    static const std::vector<json> values{nullptr,
                                          true,
                                          false,
                                          0,
                                          -1,
                                          1.5,
                                          1e308,
                                          -1e308,
                                          std::numeric_limits<std::int64_t>::max(),
                                          std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::uint64_t>::max(),
                                          "",
                                          " ",
                                          std::string("\0", 1),
                                          std::string(100000, 'a'),
                                          repeat("ấ", 5000),
                                          json::array(),
                                          json::object(),
                                          json::array({json::array({json::array()})}),
                                          json{{"a", {{"b", json::object()}}}},
                                          "2026-02-30T25:61:00Z",
                                          "9999-12-31T23:59:59Z",
                                          "0000-01-01T00:00:00Z",
                                          "2026-11-23T09:00:00+25:00",
                                          "EE123456785VN",
                                          "ee 1234 5678 5vn",
                                          "RR287043774IN",
                                          "../../etc/passwd",
                                          "%00",
                                          "🙂",
                                          "NaN",
                                          "-0",
                                          "BAG000000014",
                                          "BC-HN01",
                                          "MC-HN-BD",
                                          "' OR 1=1 --",
                                          "<script>alert(1)</script>"};
    return pick(values);
  }

  json mutate(const json& value, int depth = 0) {
    if (value.is_object() && !value.empty() && depth < 4 && chance(0.5)) {
      json copy = value;
      auto it = copy.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(below(copy.size())));
      const auto key = it.key();
      const auto op = below(10);
      if (op < 3) {
        copy.erase(key);
      } else if (op < 4) {
        copy["unexpected_" + std::to_string(below(10))] = odd_value();
      } else {
        copy[key] = mutate(copy[key], depth + 1);
      }
      return copy;
    }
    if (value.is_array() && !value.empty() && depth < 4 && chance(0.5)) {
      json copy = value;
      const auto op = below(10);
      if (op < 2) {
        const auto times = std::array<std::size_t, 3>{2, 300, 600}[below(3)];
        json longer = json::array();
        for (std::size_t i = 0; i < times; ++i)
          for (const auto& v : copy) longer.push_back(v);
        return longer;
      }
      if (op < 4) {
        copy.push_back(odd_value());
      } else {
        auto& slot = copy[below(copy.size())];
        slot = mutate(slot, depth + 1);
      }
      return copy;
    }
    return odd_value();
  }

  // A body that is not a well-formed JSON request at all, made from a valid one.
  std::string broken(const json& seed) {
    const auto text = seed.dump();
    switch (below(9)) {
      case 0:
        return text.substr(0, below(text.size() + 1));
      case 1:
        return "\xff\xfe" + text;
      case 2:
        return std::string(below(2) ? 100 : 100000, '[') + std::string(100, ']');
      case 3:
        return repeat("{\"a\":", 5000);
      case 4:
        return std::array<const char*, 4>{"null", "[]", "42", "\"text\""}[below(4)];
      case 5:
        return text.substr(0, text.size() - 1) + ",\"x\":1,}";
      case 6:
        return "{\"a\":\"\\ud800\"}";
      case 7:
        return "{\"event_id\":1e99999}";
      default: {
        auto bad = text;
        bad[below(bad.size())] = static_cast<char>(0xC3);
        return bad;
      }
    }
  }

  static std::string repeat(std::string_view piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
  }

 private:
  std::mt19937 rng_;
};

// A valid body for each route that takes one (what a client would send), keyed by "METHOD PATTERN".
std::map<std::string, json> seed_bodies(const std::string& item_id, const std::string& now) {
  json scan{{"event_id", new_uuid()},
            {"item_id", item_id},
            {"code", "EMA"},
            {"site", kPostOffice1},
            {"occurred_at", now},
            {"reason", "Vắng nhà"},
            {"seal_intact", true},
            {"issue", "other"},
            {"action", "redeliver"},
            {"reason_code", "absent"},
            {"device", "Máy quét 1"},
            {"recipient",
             {{"name", "Nguyễn Văn An"},
              {"id_checked", true},
              {"relation", "con"},
              {"id_document", {{"type", "cccd"}, {"number", "001090000001"}}},
              {"authorization", {{"number", "12/UQ"}, {"date", "2026-11-01"}}}}}};
  json sorted = scan;
  sorted["code"] = "EDD";
  json dossier = dossier_body(unique_applicant(), kOffice1, "both");
  dossier["due_date"] = "2026-12-30";
  dossier["processing_days"] = 3;
  return {
      {"POST /api/v1/login", {{"username", "clerk1"}, {"password", "demo"}}},
      {"POST /api/v1/sites",
       {{"code", "BC-FZ01"},
        {"kind", "post_office"},
        {"name", "Bưu cục thử"},
        {"agency_id", "1"},
        {"address", "Số 1"},
        {"province_code", "01"},
        {"area", "urban"}}},
      {"POST /api/v1/users",
       {{"username", "fuzz1"}, {"password", "0123456789ab"}, {"role", "clerk"}, {"site", kPostOffice1}}},
      {"PUT /api/v1/users/{username}/scope", {{"sites", {kPostOffice1, kOffice1}}}},
      {"POST /api/v1/dossiers", dossier},
      {"POST /api/v1/dossiers/{id}/result", json::object()},
      {"POST /api/v1/dossiers/{id}/pause", {{"reason", "Thiếu giấy tờ"}, {"at", now}}},
      {"POST /api/v1/dossiers/{id}/resume", {{"at", now}}},
      {"POST /api/v1/scans", scan},
      {"POST /api/v1/scans/batch", {{"events", {scan, sorted}}, {"sent_at", now}}},
      {"POST /api/v1/items/{item_id}/route", {{"site", kOffice2}}},
      {"POST /api/v1/labels/sheet", {{"items", {item_id}}}},
      {"POST /api/v1/track/token/{token}/redelivery", {{"preferred_date", "2026-12-20"}, {"note", "Chiều"}}},
      {"POST /api/v1/track/token/{token}/rating", {{"rating", 5}, {"comment", "Tốt"}}},
      {"POST /api/v1/bags", {{"destination", kOffice1}, {"items", {item_id}}}},
      {"POST /api/v1/bags/{bag_id}/items", {{"item_id", item_id}}},
      {"POST /api/v1/bags/{bag_id}/dispatch", {{"event_id", new_uuid()}, {"occurred_at", now}}},
      {"POST /api/v1/bags/{bag_id}/receive", {{"occurred_at", now}}},
      {"POST /api/v1/bags/{bag_id}/scan",
       {{"event_id", new_uuid()}, {"item_id", item_id}, {"seal_intact", false}, {"issue", "wet"}}},
      {"POST /api/v1/bags/{bag_id}/close", json::object()},
      {"POST /api/v1/devices", {{"name", "Máy quét"}, {"public_key", std::string(43, 'A') + "="}}},
      {"POST /api/v1/devices/{id}/revoke", json::object()},
  };
}

std::string fill(std::string path, Mutator& m, const std::map<std::string, std::vector<std::string>>& values) {
  const bool garbage = m.chance(0.3);
  for (const auto& [param, options] : values) {
    for (auto at = path.find(param); at != std::string::npos; at = path.find(param)) {
      path.replace(at, param.size(), garbage ? m.pick(options) : options.front());
    }
  }
  return path;
}

}  // namespace

TEST_CASE("route fuzz: seeded bad requests on every route never draw a 5xx or a bare error") {
  TestServer server({"--demo", "--public-rate", "0"});
  ApiSession session(server);
  Timeline timeline;
  Mutator m(kSeed);

  // Live ids to aim at: a fresh dossier, its item and tracking token, an open bag.
  auto created = session.create_dossier("clerk1", dossier_body(unique_applicant(), kOffice1, "both"));
  REQUIRE(created.status == 201);
  const auto dossier_id = std::to_string(created.json()["id"].get<long long>());
  const auto item_id = created.json()["items"][0]["item_id"].get<std::string>();
  const auto item = session.item("clerk1", item_id);
  REQUIRE(item.status == 200);
  const auto token = item.json()["tracking_token"].get<std::string>();
  const auto bag = session.client.post("/api/v1/bags", json{{"destination", kOffice1}}, session.token("clerk1"));
  REQUIRE(bag.status == 201);
  const auto bag_id = bag.json()["bag_id"].get<std::string>();

  // The first value of each is the live one.
  const std::map<std::string, std::vector<std::string>> params{
      {"{username}", {"clerk1", "nobody", "%2e%2e", std::string(300, 'a')}},
      {"{id}", {dossier_id, "1", "0", "-1", "99999999999999999999", "abc", "1.5", "%20"}},
      {"{item_id}", {item_id, "EE123456785VN", "ee%20123456785vn", "RR287043774IN", "x", std::string(5000, 'A')}},
      {"{token}", {token, "x", "%FF%FE", std::string(3000, 'A')}},
      {"{bag_id}", {bag_id, "BAG000000014", "BAG1", "x"}},
      {"{name}", {"app.js", "..%2f..%2fetc%2fpasswd", "x"}},
  };
  const std::vector<std::string> queries{"",
                                         "?site=BC-HN01",
                                         "?site=%FF",
                                         "?from=2026-01-01&to=2026-12-31",
                                         "?from=x&to=y",
                                         "?period=week",
                                         "?period=zz&site=MC-HN-BD",
                                         "?limit=-1",
                                         "?limit=999999999999999999999",
                                         "?first=0&second=5",
                                         "?first=5&second=1",
                                         "?index=99999999&size=3",
                                         "?size=-4&index=-1",
                                         "?a=%",
                                         "?=&=&",
                                         "?q=" + std::string(10000, 'a'),
                                         "?date=2026-13-45",
                                         "?format=zpl",
                                         "?format=png",
                                         "?format=x&dpi=99999",
                                         "?item_id=" + item_id};
  const std::vector<std::string> users{"admin", "clerk1", "clerk2", "staff1", "staff2", "supervisor1", "", ""};

  // Every login first: mutated logins soon lock accounts and the address out (429), by design.
  for (const auto& user : users)
    if (!user.empty()) session.token(user);
  const auto routes = server_routes(server);
  const auto seeds = seed_bodies(item_id, timeline.next());
  std::map<int, int> statuses;
  std::set<std::string> error_codes;
  for (int n = 0; n < kRequests; ++n) {
    const auto& [method, pattern] = routes[m.below(routes.size())];
    const auto target = fill(pattern, m, params) + m.pick(queries);
    const auto user = m.pick(users);
    // Logging out would end the session the rest of the run uses: that route gets no valid token.
    const bool logout = pattern == "/api/v1/logout";
    const std::string bearer = user.empty() || logout ? "" : session.token(user);
    std::string body;
    if (method != "GET") {
      const auto seed = seeds.find(method + " " + pattern);
      if (seed != seeds.end() && m.chance(0.8)) {
        auto mutated = m.mutate(seed->second);
        if (m.chance(0.5)) mutated = m.mutate(mutated);
        // Mostly a fresh event id, so that mutations reach past the duplicate check.
        if (mutated.is_object() && mutated.contains("event_id") && m.chance(0.7)) mutated["event_id"] = new_uuid();
        body = mutated.dump();
      } else if (seed != seeds.end()) {
        body = m.broken(seed->second);
      } else if (m.chance(0.5)) {
        body = "note=" + Mutator::repeat("ấ", m.below(3000)) + "&rating=" + std::to_string(m.below(12));
      }
    }
    std::map<std::string, std::string> headers;
    if (!bearer.empty()) headers["Authorization"] = "Bearer " + bearer;
    const auto answer = session.client.request(method, target, body, headers);
    CAPTURE(method);
    CAPTURE(target.substr(0, 300));
    CAPTURE(user);
    CAPTURE(body.substr(0, 300));
    ++statuses[answer.status];
    REQUIRE(answer.status < 500);
    if (answer.status >= 400 && target.rfind("/api/", 0) == 0) {
      check_error(answer, answer.status);
      const auto parsed = json::parse(answer.body, nullptr, false);
      if (parsed.is_object()) error_codes.insert(parsed["error"].value("code", ""));
    }
  }

  // The run reached past the front door: successes, and refusals of many kinds.
  INFO("statuses seen: " << json(statuses).dump() << ", error codes: " << json(error_codes).dump());
  CHECK(statuses[200] > 50);
  CHECK(statuses[403] > 20);
  CHECK(error_codes.size() >= 20);
  CHECK(session.client.get("/healthz").status == 200);
  // Nothing half-written: the history still verifies.
  REQUIRE(server.stop() == 0);
  CHECK(run_server_tool({"verify", "--db", server.db_path()}, (server.dir() / "verify.log").string()) == 0);
}
