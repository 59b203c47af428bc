#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dpost::bench {

// Latencies of completed operations, in microseconds. One per thread or connection (no locking), merged
// at the end.
class LatencySamples {
 public:
  void add(std::chrono::steady_clock::duration latency) {
    samples_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  }
  void merge(const LatencySamples& other);
  std::size_t count() const { return samples_.size(); }
  // Nearest-rank percentile (0 < p <= 100) in microseconds; 0 when empty. Sorts the samples.
  std::int64_t percentile(double p);

 private:
  std::vector<std::int64_t> samples_;
  bool sorted_ = false;
};

// What every load subcommand prints last, one line that scripts/bench parses:
//   result rate=1234.5 p50_us=800 p99_us=2100 ok=12345 errors=0
struct LoadResult {
  double seconds = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  LatencySamples latency;
};
void print_result(const std::string& title, LoadResult& result);

}  // namespace dpost::bench
