#include "session_cache.hpp"

namespace dpost::server {

std::optional<Actor> SessionCache::find(const std::string& token_hash, UnixMillis now) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(token_hash);
  if (it == entries_.end()) return std::nullopt;
  const auto& s = it->second;
  if (s.generation != generation_.load()) return std::nullopt;
  if (s.entry.expires_at && *s.entry.expires_at <= now) return std::nullopt;
  // A clock set back must not keep an entry alive: age in both directions.
  if (now - s.stored_at >= max_age_ms_ || now < s.stored_at) return std::nullopt;
  return s.entry.actor;
}

void SessionCache::store(std::string token_hash, Entry entry, std::uint64_t generation, UnixMillis now) {
  std::lock_guard lock(mutex_);
  if (generation != generation_.load()) return;
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_.insert_or_assign(std::move(token_hash), Stored{std::move(entry), generation, now});
}

void SessionCache::invalidate() {
  generation_.fetch_add(1);
  std::lock_guard lock(mutex_);
  entries_.clear();
}

std::size_t SessionCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace dpost::server
