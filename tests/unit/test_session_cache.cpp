// The cache of checked bearer tokens (server/session_cache.hpp): it may only ever answer what the database
// would have answered.
#include "session_cache.hpp"

#include <doctest/doctest.h>

using dpost::server::Actor;
using dpost::server::SessionCache;

namespace {

Actor clerk() {
  Actor a;
  a.user_id = 7;
  a.username = "clerk1";
  a.site = "BC-HN01";
  return a;
}

}  // namespace

TEST_CASE("session cache: an answer is served until the session ends, the entry ages out or anything changed") {
  SessionCache cache(10'000, 100);
  const long long t = 1'800'000'000'000;

  SUBCASE("unknown token") {
    CHECK_FALSE(cache.find("h", t));
  }

  SUBCASE("served while the session lasts, never at or after its end") {
    cache.store("h", {clerk(), t + 5'000}, cache.generation(), t);
    REQUIRE(cache.find("h", t + 4'999));
    CHECK(cache.find("h", t + 4'999)->username == "clerk1");
    CHECK_FALSE(cache.find("h", t + 5'000));
    CHECK_FALSE(cache.find("other", t));
  }

  SUBCASE("a device token has no end, but the entry still ages out, also when the clock goes back") {
    cache.store("d", {clerk(), std::nullopt}, cache.generation(), t);
    CHECK(cache.find("d", t + 9'999));
    CHECK_FALSE(cache.find("d", t + 10'000));
    CHECK_FALSE(cache.find("d", t - 1));
  }

  SUBCASE("invalidate drops every entry") {
    cache.store("a", {clerk(), std::nullopt}, cache.generation(), t);
    cache.store("b", {clerk(), std::nullopt}, cache.generation(), t);
    cache.invalidate();
    CHECK_FALSE(cache.find("a", t));
    CHECK_FALSE(cache.find("b", t));
    CHECK(cache.size() == 0);
  }

  SUBCASE("an answer read before a change is not kept after it") {
    // A reader takes the generation, a commit changes sessions and invalidates, the reader stores what it read
    // before the commit: that answer may be stale, so it is dropped.
    const auto before = cache.generation();
    cache.invalidate();
    cache.store("h", {clerk(), std::nullopt}, before, t);
    CHECK_FALSE(cache.find("h", t));
    CHECK(cache.size() == 0);
    // Read after the change: kept.
    cache.store("h", {clerk(), std::nullopt}, cache.generation(), t);
    CHECK(cache.find("h", t));
  }

  SUBCASE("bounded: a full cache starts again rather than growing") {
    for (int i = 0; i < 250; ++i) {
      std::string key = std::to_string(i);  // (not "k" + to_string: GCC 12 warns falsely on it)
      cache.store(key, {clerk(), std::nullopt}, cache.generation(), t);
    }
    CHECK(cache.size() <= 100);
    CHECK(cache.find("249", t));
  }
}
