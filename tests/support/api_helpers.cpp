#include "api_helpers.hpp"

#include "clock.hpp"
#include "dossier.hpp"
#include "signing.hpp"

#include <random>
#include <stdexcept>

namespace dpost::test {
namespace {

std::mt19937_64& engine() {
  thread_local std::mt19937_64 instance{std::random_device{}()};
  return instance;
}

std::string random_digits(std::size_t count) {
  std::uniform_int_distribution<int> digit(0, 9);
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += static_cast<char>('0' + digit(engine()));
  return out;
}

std::string random_letters(std::size_t count) {
  std::uniform_int_distribution<int> letter(0, 25);
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += static_cast<char>('a' + letter(engine()));
  return out;
}

}  // namespace

std::chrono::system_clock::time_point Timeline::clear_of_vn_midnight(std::chrono::system_clock::time_point start) {
  constexpr auto kClear = std::chrono::hours(1);
  const auto vn_day = [](std::chrono::system_clock::time_point t) {
    return format_date_vn(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  // Midnight in Vietnam comes within the hour: start an hour earlier, on the day before it, instead.
  return vn_day(start) == vn_day(start + kClear) ? start : start - kClear;
}

std::string Timeline::vn_date() const {
  return format_date_vn(std::chrono::duration_cast<std::chrono::milliseconds>(next_.time_since_epoch()).count());
}

std::string s10_item_id(std::string_view service, std::uint32_t serial, std::string_view country) {
  static constexpr int kWeights[8] = {8, 6, 4, 2, 3, 5, 9, 7};
  std::string digits = std::to_string(serial);
  if (digits.size() > 8) throw std::invalid_argument("S10 serial over 8 digits");
  digits.insert(0, 8 - digits.size(), '0');
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += (digits[static_cast<std::size_t>(i)] - '0') * kWeights[i];
  int check = 11 - (sum % 11);
  if (check == 10) check = 0;
  if (check == 11) check = 5;
  return std::string(service) + digits + static_cast<char>('0' + check) + std::string(country);
}

std::string with_bad_check_digit(const std::string& item_id) {
  std::string bad = item_id;
  char& check = bad.at(10);
  check = check == '9' ? '0' : static_cast<char>(check + 1);
  return bad;
}

std::string unknown_item_id() {
  std::uniform_int_distribution<std::uint32_t> serial(90'000'000, 99'999'999);
  return s10_item_id("RZ", serial(engine()));
}

nlohmann::json TestApplicant::to_json() const {
  return {{"name", name}, {"phone", phone}, {"address", address}, {"id_number", id_number}};
}

std::vector<std::string> TestApplicant::personal_strings() const {
  return {name, phone, address, id_number};
}

TestApplicant unique_applicant() {
  std::string tag = random_letters(6);
  tag[0] = 'Q';
  TestApplicant applicant;
  applicant.name = "Nguyễn Văn " + tag;
  applicant.phone = "09" + random_digits(8);
  applicant.address = "Số " + random_digits(3) + " ngõ Kiểm Thử " + tag + ", Ba Đình, Hà Nội";
  applicant.id_number = "0012" + random_digits(8);
  return applicant;
}

nlohmann::json dossier_body(const TestApplicant& applicant, std::string_view office, std::string_view service) {
  return {{"procedure", {{"code", "1.005129"}, {"name", "Cấp bản sao trích lục hộ tịch"}}},
          {"applicant", applicant.to_json()},
          {"office", office},
          {"service", service}};
}

nlohmann::json scan_body(std::string_view item_id, std::string_view code, std::string_view site,
                         std::string_view occurred_at, std::string event_id) {
  return {{"event_id", std::move(event_id)},
          {"item_id", item_id},
          {"code", code},
          {"site", site},
          {"occurred_at", occurred_at}};
}

const std::string& ApiSession::token(const std::string& username) {
  auto found = tokens_.find(username);
  if (found == tokens_.end()) found = tokens_.emplace(username, login(client, username)).first;
  return found->second;
}

const std::string& ApiSession::login_as(const std::string& username, const std::string& password) {
  return tokens_[username] = login(client, username, password);
}

HttpResult ApiSession::create_dossier(const std::string& user, const nlohmann::json& body) {
  return client.post("/api/v1/dossiers", body, token(user));
}

HttpResult ApiSession::scan(const std::string& user, const nlohmann::json& body) {
  return client.post("/api/v1/scans", body, token(user));
}

HttpResult ApiSession::item(const std::string& user, std::string_view item_id) {
  return client.get("/api/v1/items/" + std::string(item_id), token(user));
}

HttpResult ApiSession::track(std::string_view item_id) {
  return client.get("/api/v1/track/" + std::string(item_id));
}

bool contains(std::string_view a, std::string_view b) {
  return a.find(b) != std::string_view::npos;
}

std::vector<std::string> event_ids(const nlohmann::json& item_view) {
  std::vector<std::string> ids;
  for (const auto& event : item_view.at("events")) ids.push_back(event.at("event_id").get<std::string>());
  return ids;
}

std::vector<std::string> event_codes(const nlohmann::json& item_view) {
  std::vector<std::string> codes;
  for (const auto& event : item_view.at("events")) codes.push_back(event.at("code").get<std::string>());
  return codes;
}

nlohmann::json TestDevice::sign(nlohmann::json scan, std::optional<std::int64_t> seq) {
  const auto n = seq ? *seq : next_seq++;
  auto parsed = dpost::parse_scan(scan);
  if (!std::holds_alternative<dpost::ScanRequest>(parsed)) throw std::runtime_error("TestDevice::sign: bad scan");
  dpost::signing::SecretKey key{};
  std::copy(secret_key.begin(), secret_key.end(), key.begin());
  const auto signature =
      dpost::signing::sign(dpost::signing::scan_signing_text(std::get<dpost::ScanRequest>(parsed), n), key);
  scan["seq"] = n;
  scan["signature"] = dpost::signing::base64_encode(signature);
  return scan;
}

TestDevice enroll_device(ApiSession& session, const std::string& user, const std::string& name) {
  const auto pair = dpost::signing::generate_key_pair();
  TestDevice d;
  d.public_key = dpost::signing::base64_encode(pair.public_key);
  d.secret_key.assign(reinterpret_cast<const char*>(pair.secret_key.data()), pair.secret_key.size());
  auto answer = session.client.post("/api/v1/devices", nlohmann::json{{"name", name}, {"public_key", d.public_key}},
                                    session.token(user));
  if (answer.status != 201) {
    throw std::runtime_error("enrol device: HTTP " + std::to_string(answer.status) + " " + answer.body);
  }
  const auto j = answer.json();
  d.enrolment = j;
  d.id = j["id"].get<std::int64_t>();
  d.token = j["token"].get<std::string>();
  return d;
}

}  // namespace dpost::test
