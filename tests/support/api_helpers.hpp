#pragma once

#include "http_client.hpp"
#include "test_server.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Building blocks for the integration tests: request bodies in the wire format of design.md section 6 and a
// client that remembers one token per demo login.
namespace dpost::test {

// Demo sites and logins (design.md section 6).
inline constexpr std::string_view kPostOffice1 = "BC-HN01";  // clerk1
inline constexpr std::string_view kPostOffice2 = "BC-HN02";  // clerk2
inline constexpr std::string_view kOffice1 = "MC-HN-BD";     // staff1
inline constexpr std::string_view kOffice2 = "MC-HN-CG";     // staff2

// UPU S10 id computed here on purpose (not with the library under test): weights 8,6,4,2,3,5,9,7,
// check = 11 - (sum mod 11), 10 -> 0, 11 -> 5.
std::string s10_item_id(std::string_view service, std::uint32_t serial, std::string_view country = "VN");
// The same id with a wrong check digit.
std::string with_bad_check_digit(const std::string& item_id);
// A well-formed VN id the server has almost surely never issued.
std::string unknown_item_id();

// An applicant whose every field is a distinctive string, so that a response body can be searched for
// personal data.
struct TestApplicant {
  std::string name;
  std::string phone;
  std::string address;
  std::string id_number;
  nlohmann::json to_json() const;
  std::vector<std::string> personal_strings() const;
};
TestApplicant unique_applicant();

nlohmann::json dossier_body(const TestApplicant& applicant, std::string_view office = kOffice1,
                            std::string_view service = "both");

nlohmann::json scan_body(std::string_view item_id, std::string_view code, std::string_view site,
                         std::string_view occurred_at, std::string event_id = new_uuid());

// Times a little in the past, increasing with `step` (devices do not send future times). Its first hour never
// crosses midnight in Vietnam (it starts earlier when it would), so a test that reads one day's records (the day's
// handover slip) finds them all on one day whenever the suite runs.
class Timeline {
 public:
  explicit Timeline(std::chrono::minutes back = std::chrono::minutes(120))
      : next_(clear_of_vn_midnight(std::chrono::system_clock::now() - back)) {}
  std::string next(std::chrono::seconds step = std::chrono::seconds(60)) {
    next_ += step;
    return rfc3339_at(next_);
  }
  std::chrono::system_clock::time_point now() const { return next_; }
  // The Vietnam calendar day of the last time given, "2026-12-07".
  std::string vn_date() const;

 private:
  static std::chrono::system_clock::time_point clear_of_vn_midnight(std::chrono::system_clock::time_point start);
  std::chrono::system_clock::time_point next_;
};

// One client with the demo logins' tokens cached.
class ApiSession {
 public:
  explicit ApiSession(const TestServer& server) : client(server.host(), server.port()) {}
  // Token of a demo user (logs in the first time).
  const std::string& token(const std::string& username);
  // Logs in a user who is not a demo one; token(username) returns it afterwards.
  const std::string& login_as(const std::string& username, const std::string& password);

  // POST /api/v1/dossiers as `user`; returns the answer (status checked by the caller).
  HttpResult create_dossier(const std::string& user, const nlohmann::json& body);
  // POST /api/v1/scans as `user`.
  HttpResult scan(const std::string& user, const nlohmann::json& body);
  // GET /api/v1/items/{id} as `user`.
  HttpResult item(const std::string& user, std::string_view item_id);
  // GET /api/v1/track/{id}, no token.
  HttpResult track(std::string_view item_id);

  HttpClient client;

 private:
  std::map<std::string, std::string> tokens_;
};

// A scanner device enrolled for a demo user, with its Ed25519 key: signs scans as dossier-scanner does
// (signing::scan_signing_text over the scan as the server parses it, and the device's counter).
struct TestDevice {
  std::int64_t id = 0;
  std::string token;
  std::string public_key;  // base64
  std::string secret_key;  // raw 64 bytes
  std::int64_t next_seq = 1;
  nlohmann::json enrolment;  // the server's answer to the enrolment
  // The scan with "seq" and "signature" added (seq = next_seq++ unless given).
  nlohmann::json sign(nlohmann::json scan, std::optional<std::int64_t> seq = std::nullopt);
};
// POST /api/v1/devices as `user` with a fresh key; the answer must be 201.
TestDevice enroll_device(ApiSession& session, const std::string& user, const std::string& name);

// `a` contains `b` (for messages: strings searched in response bodies).
bool contains(std::string_view a, std::string_view b);

// The event_ids of an item view's "events", in the order given.
std::vector<std::string> event_ids(const nlohmann::json& item_view);
// The codes of an item view's "events", in the order given.
std::vector<std::string> event_codes(const nlohmann::json& item_view);

}  // namespace dpost::test
