#include "latency.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dpost::bench {

void LatencySamples::merge(const LatencySamples& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

std::int64_t LatencySamples::percentile(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples_.size())));
  return samples_[std::clamp<std::size_t>(rank, 1, samples_.size()) - 1];
}

void print_result(const std::string& title, LoadResult& result) {
  const double rate = result.seconds > 0 ? static_cast<double>(result.ok) / result.seconds : 0.0;
  const auto p50 = result.latency.percentile(50);
  const auto p99 = result.latency.percentile(99);
  std::printf("%s: %.0f/s over %.1f s (%llu ok, %llu errors), p50 %.2f ms, p99 %.2f ms\n", title.c_str(), rate,
              result.seconds, static_cast<unsigned long long>(result.ok),
              static_cast<unsigned long long>(result.errors), static_cast<double>(p50) / 1000.0,
              static_cast<double>(p99) / 1000.0);
  std::printf("result rate=%.1f p50_us=%lld p99_us=%lld ok=%llu errors=%llu\n", rate, static_cast<long long>(p50),
              static_cast<long long>(p99), static_cast<unsigned long long>(result.ok),
              static_cast<unsigned long long>(result.errors));
  std::fflush(stdout);
}

}  // namespace dpost::bench
