// The OpenAPI description (docs/openapi.json, served at GET /api/v1/openapi.json) against the real server: its
// paths and methods are exactly the route table `dossier-server routes` prints, both ways; every operation has
// a 2xx answer and every API error answer is the one Error body; and real answers carry every property the
// description marks required.
#include "itest_common.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace dpost::test;
using nlohmann::json;

namespace {

constexpr const char* kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

// "/api/v1/items/{item_id}/label" -> "/api/v1/items/{}/label": the router and OpenAPI both write a path
// parameter as {name}; only the position matters for "is this the same route", not the name.
std::string shape_of(const std::string& pattern) {
  static const std::regex param(R"(\{[^/{}]+\})");
  return std::regex_replace(pattern, param, "{}");
}

// The {name}s of a pattern, in order.
std::vector<std::string> params_of(const std::string& pattern) {
  static const std::regex param(R"(\{([^/{}]+)\})");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(pattern.begin(), pattern.end(), param); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1].str());
  }
  return names;
}

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

json fetch_spec(HttpClient& client) {
  auto answer = client.get("/api/v1/openapi.json");
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  CHECK(answer.header("content-type").find("application/json") != std::string::npos);
  json spec;
  try {
    spec = json::parse(answer.body);
  } catch (const json::parse_error& e) {
    FAIL("GET /api/v1/openapi.json is not JSON: " << e.what());
  }
  REQUIRE(spec.is_object());
  return spec;
}

// Follows a local "$ref" ("#/components/schemas/Error") until the object is not a reference.
const json& resolve(const json& spec, const json& node) {
  const json* current = &node;
  for (int depth = 0; current->is_object() && current->contains("$ref"); ++depth) {
    REQUIRE_MESSAGE(depth < 16, "a $ref cycle at " << current->dump());
    const auto ref = (*current)["$ref"].get<std::string>();
    REQUIRE_MESSAGE(ref.rfind("#/", 0) == 0, "only local references are used: " << ref);
    const json::json_pointer pointer(ref.substr(1));
    REQUIRE_MESSAGE(spec.contains(pointer), "the reference " << ref << " points nowhere");
    current = &spec.at(pointer);
  }
  return *current;
}

struct Operation {
  std::string method;  // upper case
  std::string path;
  const json* node;
  const json* path_item;
};

std::vector<Operation> operations_of(const json& spec) {
  std::vector<Operation> ops;
  for (const auto& [path, item] : spec.at("paths").items()) {
    for (const auto* method : kMethods) {
      if (item.contains(method)) ops.push_back({upper(method), path, &item.at(method), &item});
    }
  }
  return ops;
}

bool is_page(const json& op) {
  if (!op.contains("tags")) return false;
  for (const auto& tag : op.at("tags")) {
    if (tag == "pages") return true;
  }
  return false;
}

// Every property `schema` marks required is in `value`, recursively through the properties present, array
// items and allOf; null passes where the schema says nullable. Problems are collected with their JSON path.
void check_required(const json& spec, const json& schema_node, const json& value, const std::string& where,
                    std::vector<std::string>& problems) {
  const auto& schema = resolve(spec, schema_node);
  if (value.is_null()) {
    if (!schema.value("nullable", false) && schema.contains("type")) problems.push_back(where + " is null");
    return;
  }
  if (schema.contains("allOf")) {
    for (const auto& part : schema.at("allOf")) check_required(spec, part, value, where, problems);
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& name : schema.at("required")) {
        if (!value.contains(name.get<std::string>())) {
          problems.push_back(where + " lacks required \"" + name.get<std::string>() + "\"");
        }
      }
    }
    if (schema.contains("properties")) {
      for (const auto& [name, sub] : schema.at("properties").items()) {
        if (value.contains(name))
          check_required(spec, sub, value.at(name), std::string(where).append(".").append(name), problems);
      }
    }
    if (schema.contains("additionalProperties") && schema.at("additionalProperties").is_object()) {
      for (const auto& [name, sub] : value.items()) {
        if (!schema.contains("properties") || !schema.at("properties").contains(name)) {
          check_required(spec, schema.at("additionalProperties"), sub, std::string(where).append(".").append(name),
                         problems);
        }
      }
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check_required(spec, schema.at("items"), value[i], where + "[" + std::to_string(i) + "]", problems);
    }
  }
}

// The JSON schema the description gives for `method path` answering `status`.
const json& response_schema(const json& spec, const std::string& method, const std::string& path, int status) {
  std::string key = method;
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto pointer = json::json_pointer("/paths") / path / key;
  REQUIRE_MESSAGE(spec.contains(pointer), "the description has no " << method << " " << path);
  const auto& responses = spec.at(pointer).at("responses");
  const auto code = std::to_string(status);
  REQUIRE_MESSAGE(responses.contains(code), method << " " << path << " does not describe a " << code << " answer");
  const auto& response = resolve(spec, responses.at(code));
  REQUIRE_MESSAGE(response.contains("content"), method << " " << path << " " << code << " has no content");
  REQUIRE(response.at("content").contains("application/json"));
  return response.at("content").at("application/json").at("schema");
}

// A real answer against the description: the status is one it describes, and the body has every required
// property of that status's schema.
void check_answer(const json& spec, const std::string& method, const std::string& path, const HttpResult& answer) {
  INFO(method << " " << path << " -> " << describe(answer));
  const auto& schema = response_schema(spec, method, path, answer.status);
  std::vector<std::string> problems;
  check_required(spec, schema, answer.json(), "body", problems);
  for (const auto& p : problems) FAIL_CHECK(method << " " << path << " " << answer.status << ": " << p);
  CHECK(problems.empty());
}

}  // namespace

TEST_CASE("openapi: the served description parses, is OpenAPI 3.0.3 and is the checked-in docs/openapi.json") {
  auto& server = shared_demo_server();
  HttpClient client(server.host(), server.port());
  const auto spec = fetch_spec(client);
  CHECK(spec.value("openapi", "") == "3.0.3");
  REQUIRE(spec.contains("info"));
  CHECK_FALSE(spec["info"].value("title", "").empty());
  REQUIRE(spec.contains("paths"));
  REQUIRE(spec.contains("components"));

  // Embedded at build time: the binary serves the description of its own sources.
  std::ifstream in(DPOST_OPENAPI_FILE, std::ios::binary);
  REQUIRE(in);
  std::stringstream file;
  file << in.rdbuf();
  CHECK(json::parse(file.str()) == spec);

  // Revalidation as for the staff assets: the ETag answers 304 without a body.
  auto first = client.get("/api/v1/openapi.json");
  const auto etag = first.header("etag");
  REQUIRE_FALSE(etag.empty());
  auto again = client.request("GET", "/api/v1/openapi.json", "", {{"If-None-Match", etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(again.header("etag") == etag);
  auto stale = client.request("GET", "/api/v1/openapi.json", "", {{"If-None-Match", "\"0000000000000000\""}});
  CHECK(stale.status == 200);
}

TEST_CASE("openapi: the described paths and methods are exactly the server's route table, both ways") {
  auto& server = shared_demo_server();
  HttpClient client(server.host(), server.port());
  const auto spec = fetch_spec(client);
  const auto routes = server_routes(server);

  std::set<std::pair<std::string, std::string>> described;  // method, shape
  for (const auto& op : operations_of(spec)) {
    const auto inserted = described.emplace(op.method, shape_of(op.path)).second;
    CHECK_MESSAGE(inserted, "described twice (same shape): " << op.method << " " << op.path);
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& [method, pattern] : routes) served.emplace(method, shape_of(pattern));

  for (const auto& route : routes) {
    const auto& [method, pattern] = route;
    const auto name = std::string(method).append(" ").append(pattern);
    CHECK_MESSAGE(described.count({method, shape_of(pattern)}) == 1,
                  "the server has " << name << " but docs/openapi.json does not describe it");
  }
  for (const auto& op : operations_of(spec)) {
    CHECK_MESSAGE(served.count({op.method, shape_of(op.path)}) == 1,
                  "docs/openapi.json describes " << op.method << " " << op.path << " but the server has no such route");
  }
  CHECK(served.size() == described.size());

  // /api/v1 and the operations endpoints are all there by name.
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"}) {
    CHECK_MESSAGE(spec["paths"].contains(path), path);
  }
}

TEST_CASE("openapi: each operation declares its path parameters, has a 2xx answer, and every API 4xx is Error") {
  auto& server = shared_demo_server();
  HttpClient client(server.host(), server.port());
  const auto spec = fetch_spec(client);
  const auto& error_schema = spec.at(json::json_pointer("/components/schemas/Error"));
  REQUIRE(error_schema.at("required") == json::array({"error"}));
  CHECK(error_schema.at(json::json_pointer("/properties/error/required")) == json::array({"code", "message"}));

  std::set<std::string> operation_ids;
  int count = 0;
  for (const auto& op : operations_of(spec)) {
    ++count;
    const auto name = op.method + " " + op.path;
    INFO(name);
    const auto& node = *op.node;
    CHECK_MESSAGE(!node.value("summary", "").empty(), name << ": no summary");
    if (node.contains("operationId")) {
      CHECK_MESSAGE(operation_ids.insert(node["operationId"].get<std::string>()).second,
                    name << ": operationId reused");
    }

    // Path parameters: each {name} of the path is declared "in": "path", required, and nothing else is.
    std::set<std::string> declared;
    for (const auto* holder : {op.path_item, op.node}) {
      if (!holder->contains("parameters")) continue;
      for (const auto& p : holder->at("parameters")) {
        const auto& parameter = resolve(spec, p);
        if (parameter.value("in", "") != "path") continue;
        CHECK_MESSAGE(parameter.value("required", false), name << ": path parameter not required");
        declared.insert(parameter.at("name").get<std::string>());
      }
    }
    const auto names = params_of(op.path);
    CHECK_MESSAGE(declared == std::set<std::string>(names.begin(), names.end()),
                  name << ": the path parameters declared differ from the path's {names}");

    REQUIRE_MESSAGE(node.contains("responses"), name << ": no responses");
    bool has_2xx = false;
    for (const auto& response_entry : node.at("responses").items()) {
      const std::string& code = response_entry.key();
      const auto& response_node = response_entry.value();
      if (code.size() == 3 && code[0] == '2') has_2xx = true;
      // The citizen's HTML forms answer success with 303 back to their page (Post/Redirect/Get): for a page,
      // that redirect is the success answer.
      if (code == "303" && is_page(node) && op.method == "POST") has_2xx = true;
      if (code.empty() || code[0] != '4') continue;
      const auto& response = resolve(spec, response_node);
      const bool json_body = response.contains("content") && response.at("content").contains("application/json");
      if (!json_body && is_page(node)) {
        // A page for people answers its refusals as an HTML page, and says so.
        CHECK_MESSAGE(response.contains("content"), name << " " << code << ": no content");
        if (response.contains("content")) CHECK(response.at("content").contains("text/html"));
        continue;
      }
      REQUIRE_MESSAGE(json_body, name << " " << code << ": an API error must be described as application/json");
      const auto& schema = response.at("content").at("application/json").at("schema");
      CHECK_MESSAGE(schema.value("$ref", "") == "#/components/schemas/Error",
                    name << " " << code << ": the error body must be #/components/schemas/Error");
    }
    CHECK_MESSAGE(has_2xx, name << ": no 2xx answer described");

    // Who may call: public operations say so with an empty list; the rest use the declared schemes.
    const auto& security = node.contains("security") ? node.at("security") : spec.at("security");
    for (const auto& requirement : security) {
      for (const auto& entry : requirement.items()) {
        const std::string& scheme = entry.key();
        CHECK_MESSAGE(spec.contains(json::json_pointer("/components/securitySchemes") / scheme),
                      name << ": unknown security scheme " << scheme);
      }
    }
  }
  CHECK(count > 60);
}

TEST_CASE("openapi: real answers carry every property the description marks required") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto spec = fetch_spec(session.client);
  Timeline timeline;

  auto login = session.client.post("/api/v1/login", json{{"username", "staff1"}, {"password", "demo"}});
  check_answer(spec, "POST", "/api/v1/login", login);
  check_answer(spec, "GET", "/api/v1/me", session.client.get("/api/v1/me", session.token("clerk1")));
  check_answer(spec, "GET", "/healthz", session.client.get("/healthz"));

  // A dossier registered at a citizen's door, its item scanned and looked at.
  auto created = session.create_dossier("clerk1", dossier_body(unique_applicant(), kOffice1, "both"));
  check_answer(spec, "POST", "/api/v1/dossiers", created);
  REQUIRE(created.status == 201);
  const auto dossier_id = created.json()["id"].get<std::int64_t>();
  const auto item_id = created.json()["items"][0]["item_id"].get<std::string>();

  const auto scan = scan_body(item_id, "EMA", kPostOffice1, timeline.next());
  auto recorded = session.scan("clerk1", scan);
  REQUIRE(recorded.status == 201);
  check_answer(spec, "POST", "/api/v1/scans", recorded);
  auto duplicate = session.scan("clerk1", scan);
  REQUIRE(duplicate.status == 200);
  check_answer(spec, "POST", "/api/v1/scans", duplicate);

  auto item = session.item("clerk1", item_id);
  REQUIRE(item.status == 200);
  check_answer(spec, "GET", "/api/v1/items/{item_id}", item);
  REQUIRE_FALSE(item.json()["events"].empty());
  check_answer(spec, "GET", "/api/v1/dossiers/{id}",
               session.client.get("/api/v1/dossiers/" + std::to_string(dossier_id), session.token("staff1")));
  check_answer(spec, "GET", "/api/v1/track/{item_id}", session.track(item_id));
  check_answer(spec, "GET", "/api/v1/items/{item_id}/custody",
               session.client.get("/api/v1/items/" + item_id + "/custody", session.token("clerk1")));
  check_answer(spec, "GET", "/api/v1/sites", session.client.get("/api/v1/sites", session.token("clerk1")));

  auto batch = session.client.post(
      "/api/v1/scans/batch", json{{"events", json::array({scan_body(item_id, "EDD", kPostOffice1, timeline.next())})}},
      session.token("clerk1"));
  check_answer(spec, "POST", "/api/v1/scans/batch", batch);

  // Errors: the one Error body, for the statuses the description names.
  auto illegal = session.scan("clerk1", scan_body(item_id, "EMA", kPostOffice1, timeline.next()));
  CHECK(illegal.status == 409);  // accepted twice: the journey refuses it
  check_answer(spec, "POST", "/api/v1/scans", illegal);
  auto unknown = session.track(unknown_item_id());
  CHECK(unknown.status == 404);
  check_answer(spec, "GET", "/api/v1/track/{item_id}", unknown);
  auto anonymous = session.client.get("/api/v1/items/" + item_id);
  CHECK(anonymous.status == 401);
  check_answer(spec, "GET", "/api/v1/items/{item_id}", anonymous);
  auto invalid =
      session.client.post("/api/v1/dossiers", json{{"procedure", {{"code", "1.005129"}}}}, session.token("clerk1"));
  CHECK(invalid.status == 422);
  check_answer(spec, "POST", "/api/v1/dossiers", invalid);
  auto other_site = session.client.get("/api/v1/dossiers/" + std::to_string(dossier_id), session.token("staff2"));
  CHECK(other_site.status == 403);
  check_answer(spec, "GET", "/api/v1/dossiers/{id}", other_site);
}

TEST_CASE("openapi: the answers of bags, handoffs, reports, deadlines, ledger, devices and accounts match it too") {
  auto& server = shared_demo_server();
  ApiSession session(server);
  const auto spec = fetch_spec(session.client);
  Timeline timeline;
  auto get = [&](const std::string& pattern, const std::string& path, const std::string& user) {
    check_answer(spec, "GET", pattern, session.client.get(path, user.empty() ? "" : session.token(user)));
  };

  const auto item_id = accepted_dossier_item(session, timeline);
  auto item = session.item("clerk1", item_id).json();
  const auto event_id = item["events"][0]["event_id"].get<std::string>();
  const auto dossier_id = std::to_string(item["dossier"]["id"].get<std::int64_t>());

  get("/readyz", "/readyz", "");
  get("/api/v1/track/token/{token}", "/api/v1/track/token/" + item["tracking_token"].get<std::string>(), "");
  get("/api/v1/users", "/api/v1/users", "admin");
  get("/api/v1/devices", "/api/v1/devices", "clerk1");
  get("/api/v1/dossiers/{id}/deadline", "/api/v1/dossiers/" + dossier_id + "/deadline", "staff1");
  get("/api/v1/handoffs/pending", "/api/v1/handoffs/pending", "staff1");
  get("/api/v1/handoffs/problems", "/api/v1/handoffs/problems", "supervisor1");
  get("/api/v1/reports/overview", "/api/v1/reports/overview", "supervisor1");
  get("/api/v1/reports/series", "/api/v1/reports/series?group=month", "supervisor1");
  get("/api/v1/audit", "/api/v1/audit?limit=5", "admin");
  get("/api/v1/ledger/key", "/api/v1/ledger/key", "");
  get("/api/v1/ledger/checkpoints", "/api/v1/ledger/checkpoints", "supervisor1");
  get("/api/v1/ledger/verify", "/api/v1/ledger/verify", "supervisor1");
  get("/api/v1/ledger/proof/inclusion", "/api/v1/ledger/proof/inclusion?event_id=" + event_id, "clerk1");
  auto checkpoint = session.client.get("/api/v1/ledger/checkpoint");
  check_answer(spec, "GET", "/api/v1/ledger/checkpoint", checkpoint);
  if (checkpoint.status == 200) {
    const auto size = std::to_string(checkpoint.json()["tree_size"].get<std::int64_t>());
    get("/api/v1/ledger/proof/consistency", "/api/v1/ledger/proof/consistency?first=1&second=" + size, "");
  }

  // A bag from the post office to the office, made up and looked at.
  auto bag = session.client.post("/api/v1/bags", json{{"destination", kOffice1}}, session.token("clerk1"));
  check_answer(spec, "POST", "/api/v1/bags", bag);
  REQUIRE(bag.status == 201);
  const auto bag_id = bag.json()["bag_id"].get<std::string>();
  get("/api/v1/bags/{bag_id}", "/api/v1/bags/" + bag_id, "clerk1");
  get("/api/v1/bags", "/api/v1/bags", "clerk1");
  check_answer(spec, "POST", "/api/v1/bags/{bag_id}/dispatch",
               session.client.post("/api/v1/bags/" + bag_id + "/dispatch", json{{"event_id", new_uuid()}},
                                   session.token("clerk1")));

  // Refusals keep the one error body.
  check_answer(spec, "POST", "/api/v1/login",
               session.client.post("/api/v1/login", json{{"username", "clerk1"}, {"password", "wrong"}}));
  get("/api/v1/users", "/api/v1/users", "clerk1");
  get("/api/v1/bags/{bag_id}", "/api/v1/bags/BAG000000014", "clerk1");
}
