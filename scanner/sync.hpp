#pragma once

#include "http.hpp"
#include "outbox.hpp"

#include <chrono>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace dpost::scanner {

struct Credentials {
  ServerUrl server;
  std::string token;  // device token (or a login token while testing)
};

// Why a sync stopped.
enum class SyncStop {
  done,          // nothing left to send
  offline,       // transport failure, 5xx or 429: retry later
  unauthorized,  // 401: token unknown or expired; scans stay queued
  revoked,       // 401 device_revoked: scans stay queued until the device is enrolled again
  rejected,      // the server refused the request as a whole (400/422): a bug or a bad device clock
};

// The server's verdict on one event, as shown to the clerk.
struct EventAnswer {
  std::string event_id;
  std::string item_id;
  std::string code;
  std::string outcome;  // recorded duplicate illegal_transition event_id_conflict unknown_item forbidden invalid
  int http_status = 0;
  std::string state;    // the item's state, when the server said
  std::string message;  // the server's reason for a refusal
  bool refused() const { return outcome != "recorded" && outcome != "duplicate"; }
};

struct SyncReport {
  SyncStop stop = SyncStop::done;
  std::vector<EventAnswer> answers;
  std::string detail;  // transport error or server message when stop != done
  std::int64_t remaining = 0;
  std::chrono::milliseconds retry_after{0};  // the server's Retry-After, if it sent one
};

// Sends everything unsent, in batches (POST /api/v1/scans/batch with the device clock as sent_at), and stores
// each answer. Each batch is marked `sending` before it leaves so that a crash or a lost answer leads to a
// re-send, which the server answers "duplicate": every event reaches the server exactly once.
SyncReport sync_once(Outbox& outbox, const Credentials& credentials, std::size_t batch_size = 200);

// Exponential backoff for attempt n (0-based): 0.5 s doubling, capped at 60 s, with jitter in [d/2, d] so that
// a room full of devices coming back online does not hit the server in step.
std::chrono::milliseconds backoff_delay(int attempt, std::mt19937& rng);

// sync_once, retried with backoff while the failure is retryable (offline) and `give_up_after` has not passed.
SyncReport sync_with_retry(Outbox& outbox, const Credentials& credentials, std::chrono::milliseconds give_up_after);

// A random version-4 UUID (std::random_device: /dev/urandom on Linux), lower case.
std::string new_event_id();

}  // namespace dpost::scanner
