#pragma once

#include "storage.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace dpost::server {

// Bearer tokens already checked against the database, so that an authenticated request (every scan) does not
// open a read transaction only to learn who is calling. Keyed by the token's SHA-256, never by the token.
//
// Correctness rests on one rule: whoever commits a change to sessions, devices, users or their sites calls
// invalidate() after the commit returned, and a reader takes generation() before it opens its read
// transaction and stores its answer under that generation. An answer read before a commit therefore carries
// an older generation than the one invalidate() leaves, and is never served. Entries also age out after
// `max_age_ms`, which bounds how long a change written by another process into the same database file can go
// unseen.
class SessionCache {
 public:
  explicit SessionCache(std::int64_t max_age_ms = 10'000, std::size_t max_entries = 4096)
      : max_age_ms_(max_age_ms), max_entries_(max_entries) {}

  struct Entry {
    Actor actor;
    std::optional<UnixMillis> expires_at;  // a login session's end; none for a device token (valid until revoked)
  };

  std::uint64_t generation() const { return generation_.load(); }

  std::optional<Actor> find(const std::string& token_hash, UnixMillis now) const;

  // Keeps `entry` unless the cache was invalidated since `generation` was taken.
  void store(std::string token_hash, Entry entry, std::uint64_t generation, UnixMillis now);

  void invalidate();

  std::size_t size() const;

 private:
  struct Stored {
    Entry entry;
    std::uint64_t generation = 0;
    UnixMillis stored_at = 0;
  };
  const std::int64_t max_age_ms_;
  const std::size_t max_entries_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Stored> entries_;
};

}  // namespace dpost::server
