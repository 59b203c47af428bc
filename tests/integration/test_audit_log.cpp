// The security audit log (issue 5): every login, failed login, refusal and staff read of a citizen's personal
// data, with who, what, when (UTC) and from where; admins see all of it, a supervisor their sites', nobody
// else any, and nobody can change it through the database's normal paths.
#include "itest_common.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <algorithm>

using namespace dpost::test;
using nlohmann::json;

namespace {

json entries(ApiSession& s, const std::string& user, const std::string& query = "") {
  auto answer = s.client.get("/api/v1/audit?limit=1000" + query, s.token(user));
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  return answer.json()["entries"];
}

const json* find_entry(const json& list, const std::string& action, const std::string& username,
                       const std::string& target = "") {
  for (const auto& e : list) {
    if (e["action"] == action && e["username"] == username &&
        (target.empty() || contains(e["target"].get<std::string>(), target))) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("audit log: logins, failed logins, refusals and reads of personal data, with who, when and where") {
  TestServer server({"--demo"});
  ApiSession s(server);
  const auto item = create_dossier_item(s, "clerk1", unique_applicant());  // clerk1 logs in
  HttpClient other(server.host(), server.port());
  CHECK(other.post("/api/v1/login", json{{"username", "staff1"}, {"password", "wrong password"}}).status == 401);
  CHECK(other.post("/api/v1/login", json{{"username", "nobody-at-all"}, {"password", "x"}}).status == 401);
  // staff1 reads the item (with the applicant's data) and prints its label; staff2 is refused it.
  REQUIRE(s.item("staff1", item).status == 200);
  REQUIRE(s.client.get("/api/v1/items/" + item + "/label?format=zpl", s.token("clerk1")).status == 200);
  check_error(s.item("staff2", item), 403);

  const auto all = entries(s, "admin");
  const auto* login = find_entry(all, "login", "clerk1");
  REQUIRE(login);
  CHECK((*login)["outcome"] == "ok");
  CHECK((*login)["address"] == "127.0.0.1");
  CHECK((*login)["role"] == "clerk");
  CHECK(contains((*login)["at"].get<std::string>(), "Z"));  // UTC
  const auto* failed = find_entry(all, "login_failed", "staff1");
  REQUIRE(failed);
  CHECK((*failed)["outcome"] == "failed");
  CHECK(find_entry(all, "login_failed", "nobody-at-all"));
  const auto* read = find_entry(all, "read_personal", "staff1", item);
  REQUIRE(read);
  CHECK((*read)["target_site"] == kOffice1);
  CHECK(find_entry(all, "read_personal", "clerk1", item));  // the label carries the name and address
  const auto* denied = find_entry(all, "denied", "staff2", item);
  REQUIRE(denied);
  CHECK((*denied)["outcome"] == "denied");
  CHECK((*denied)["site"] == kOffice2);
  // No entry carries the personal data itself.
  for (const auto& e : all) CHECK_FALSE(contains(e["detail"].get<std::string>(), "Số "));

  // Filters, and who may read it.
  const auto only_failed = entries(s, "admin", "&action=login_failed");
  CHECK(
      std::all_of(only_failed.begin(), only_failed.end(), [](const json& e) { return e["action"] == "login_failed"; }));
  const auto ba_dinh = entries(s, "supervisor1");
  CHECK(find_entry(ba_dinh, "read_personal", "staff1", item));
  CHECK_FALSE(find_entry(ba_dinh, "login_failed", "nobody-at-all"));  // not at their sites
  check_error(s.client.get("/api/v1/audit", s.token("clerk1")), 403);
  check_error(s.client.get("/api/v1/audit", s.token("staff1")), 403);
  check_error(s.client.get("/api/v1/audit?site=MC-HN-CG", s.token("supervisor1")), 403);
  check_error(s.client.get("/api/v1/audit"), 401);

  // Append-only in the file: the database refuses to change or delete an entry.
  SQLite::Database db(server.db_path(), SQLite::OPEN_READWRITE);
  CHECK_THROWS(db.exec("UPDATE audit_log SET username = 'someone' WHERE id = 1"));
  CHECK_THROWS(db.exec("DELETE FROM audit_log WHERE id = 1"));
}
