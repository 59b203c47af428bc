#include "sync.hpp"

#include <clock.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <thread>

namespace dpost::scanner {

namespace {

using nlohmann::json;

std::string error_message(const json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    if (e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  return {};
}

std::string error_code(const json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    if (e.contains("code") && e["code"].is_string()) return e["code"].get<std::string>();
  }
  return {};
}

std::string string_at(const json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::chrono::milliseconds parse_retry_after(const std::string& header) {
  if (header.empty() || header.find_first_not_of("0123456789") != std::string::npos || header.size() > 6) return {};
  return std::chrono::seconds(std::stoi(header));
}

}  // namespace

SyncReport sync_once(Outbox& outbox, const Credentials& credentials, std::size_t batch_size) {
  SyncReport report;
  for (;;) {
    const auto batch = outbox.unsent(batch_size);
    if (batch.empty()) break;
    std::vector<std::string> ids;
    json events = json::array();
    for (const auto& e : batch) {
      ids.push_back(e.event_id);
      events.push_back(json::parse(e.payload));
    }
    outbox.mark_sending(ids);
    const json body = {{"events", std::move(events)}, {"sent_at", format_rfc3339(now_millis())}};
    const auto answer = http_request(credentials.server, "POST", "/api/v1/scans/batch", body.dump(), credentials.token);
    if (!answer.ok()) {
      outbox.mark_retry(ids, answer.transport_error);
      report.stop = SyncStop::offline;
      report.detail = answer.transport_error;
      break;
    }
    const json parsed = json::parse(answer.body, nullptr, false);
    if (answer.status == 401) {
      report.stop = error_code(parsed) == "device_revoked" ? SyncStop::revoked : SyncStop::unauthorized;
      report.detail = error_message(parsed);
      outbox.mark_retry(ids, report.detail);
      break;
    }
    if (answer.status == 413 && batch_size > 1) {
      batch_size = std::max<std::size_t>(1, batch_size / 2);
      continue;
    }
    if (answer.status == 429 || answer.status >= 500) {
      report.stop = SyncStop::offline;
      report.detail = "HTTP " + std::to_string(answer.status) + " " + error_message(parsed);
      report.retry_after = parse_retry_after(answer.retry_after);
      outbox.mark_retry(ids, report.detail);
      break;
    }
    if (answer.status != 200 || !parsed.is_object() || !parsed.contains("results") || !parsed["results"].is_array()) {
      report.stop = SyncStop::rejected;
      report.detail = "HTTP " + std::to_string(answer.status) + " " + error_message(parsed);
      outbox.mark_retry(ids, report.detail);
      break;
    }
    bool retry_later = false;
    for (const auto& r : parsed["results"]) {
      EventAnswer a;
      a.event_id = string_at(r, "event_id");
      a.outcome = string_at(r, "outcome");
      a.http_status = r.contains("status") && r["status"].is_number_integer() ? r["status"].get<int>() : 0;
      const auto stored = outbox.find(a.event_id);
      if (!stored) continue;
      a.item_id = stored->item_id;
      a.code = stored->code;
      if (r.contains("item")) a.state = string_at(r["item"], "state");
      if (r.contains("error")) {
        if (a.state.empty()) a.state = string_at(r["error"], "state");
        a.message = string_at(r["error"], "message");
      }
      if (a.http_status >= 500 || a.http_status == 429) {
        // The server could not store this one now (storage busy): it stays queued.
        outbox.mark_retry({a.event_id}, a.message);
        retry_later = true;
        continue;
      }
      if (a.refused()) {
        outbox.mark_refused(a.event_id, a.outcome, a.http_status, a.state, a.message);
      } else {
        outbox.mark_done(a.event_id, a.outcome, a.http_status, a.state);
      }
      report.answers.push_back(std::move(a));
    }
    if (retry_later) {
      report.stop = SyncStop::offline;
      report.detail = "server busy";
      break;
    }
  }
  report.remaining = outbox.counts().pending;
  return report;
}

std::chrono::milliseconds backoff_delay(int attempt, std::mt19937& rng) {
  const int exponent = std::clamp(attempt, 0, 16);
  const auto full = std::min<std::int64_t>(500LL << exponent, 60'000);
  std::uniform_int_distribution<std::int64_t> jitter(full / 2, full);
  return std::chrono::milliseconds(jitter(rng));
}

SyncReport sync_with_retry(Outbox& outbox, const Credentials& credentials, std::chrono::milliseconds give_up_after) {
  const auto deadline = std::chrono::steady_clock::now() + give_up_after;
  std::mt19937 rng(std::random_device{}());
  SyncReport total;
  for (int attempt = 0;; ++attempt) {
    auto report = sync_once(outbox, credentials);
    for (auto& a : report.answers) total.answers.push_back(std::move(a));
    total.stop = report.stop;
    total.detail = report.detail;
    total.remaining = report.remaining;
    if (report.stop != SyncStop::offline) return total;
    auto delay = std::max(backoff_delay(attempt, rng), report.retry_after);
    if (std::chrono::steady_clock::now() + delay > deadline) return total;
    std::this_thread::sleep_for(delay);
  }
}

std::string new_event_id() {
  std::random_device device;
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    const auto word = device();
    for (std::size_t k = 0; k < 4; ++k) bytes[i + k] = static_cast<std::uint8_t>(word >> (8 * k));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  char hex[3];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof hex, "%02x", bytes[i]);
    out += hex;
  }
  return out;
}

}  // namespace dpost::scanner
