#include "merkle.hpp"

#include <sodium.h>

#include <bit>
#include <mutex>
#include <stdexcept>

namespace dpost::merkle {
namespace {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

// The largest power of two smaller than n (n >= 2): the RFC's split point k.
std::uint64_t split_point(std::uint64_t n) {
  return std::bit_floor(n - 1);
}

// MTH(D[start:start+count]); `start` is aligned as the RFC's recursion guarantees.
Hash subtree(std::uint64_t start, std::uint64_t count, const SubtreeHashes& nodes) {
  if (std::has_single_bit(count) && start % count == 0) {
    return nodes(std::countr_zero(count), start / count);
  }
  const auto k = split_point(count);
  return node_hash(subtree(start, k, nodes), subtree(start + k, count - k, nodes));
}

void path(std::uint64_t m, std::uint64_t start, std::uint64_t n, const SubtreeHashes& nodes, std::vector<Hash>& out) {
  if (n <= 1) return;
  const auto k = split_point(n);
  if (m < k) {
    path(m, start, k, nodes, out);
    out.push_back(subtree(start + k, n - k, nodes));
  } else {
    path(m - k, start + k, n - k, nodes, out);
    out.push_back(subtree(start, k, nodes));
  }
}

void subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool complete, const SubtreeHashes& nodes,
              std::vector<Hash>& out) {
  if (m == n) {
    if (!complete) out.push_back(subtree(start, n, nodes));
    return;
  }
  const auto k = split_point(n);
  if (m <= k) {
    subproof(m, start, k, complete, nodes, out);
    out.push_back(subtree(start + k, n - k, nodes));
  } else {
    subproof(m - k, start + k, n - k, false, nodes, out);
    out.push_back(subtree(start, k, nodes));
  }
}

bool lsb(std::uint64_t x) {
  return (x & 1) != 0;
}

}  // namespace

Hash sha256(std::string_view data) {
  ensure_sodium();
  Hash out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

Hash leaf_hash(std::string_view data) {
  ensure_sodium();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  const unsigned char prefix = 0x00;
  crypto_hash_sha256_update(&state, &prefix, 1);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  Hash out{};
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash node_hash(const Hash& left, const Hash& right) {
  ensure_sodium();
  unsigned char buffer[1 + 2 * 32];
  buffer[0] = 0x01;
  std::copy(left.begin(), left.end(), buffer + 1);
  std::copy(right.begin(), right.end(), buffer + 33);
  Hash out{};
  crypto_hash_sha256(out.data(), buffer, sizeof buffer);
  return out;
}

Hash empty_root() {
  return sha256("");
}

std::string to_hex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::optional<Hash> from_hex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash out{};
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

Hash root(std::uint64_t size, const SubtreeHashes& nodes) {
  if (size == 0) return empty_root();
  return subtree(0, size, nodes);
}

std::vector<Hash> inclusion_proof(std::uint64_t index, std::uint64_t size, const SubtreeHashes& nodes) {
  if (index >= size) throw std::out_of_range("inclusion proof: leaf index beyond the tree");
  std::vector<Hash> out;
  path(index, 0, size, nodes, out);
  return out;
}

std::vector<Hash> consistency_proof(std::uint64_t first, std::uint64_t second, const SubtreeHashes& nodes) {
  if (first > second) throw std::out_of_range("consistency proof: first tree larger than the second");
  std::vector<Hash> out;
  if (first == 0 || first == second) return out;
  subproof(first, 0, second, true, nodes, out);
  return out;
}

bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, std::span<const Hash> proof,
                      const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf;
  for (const auto& p : proof) {
    if (sn == 0) return false;
    if (lsb(fn) || fn == sn) {
      r = node_hash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        std::span<const Hash> proof) {
  if (first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (first == 0) return proof.empty() && first_root == empty_root();
  if (proof.empty()) return false;
  std::vector<Hash> path(proof.begin(), proof.end());
  // When the first tree is a perfect subtree of the second, the proof leaves out its root (it is known).
  if (std::has_single_bit(first)) path.insert(path.begin(), first_root);
  std::uint64_t fn = first - 1;
  std::uint64_t sn = second - 1;
  while (lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const auto& c = path[i];
    if (sn == 0) return false;
    if (lsb(fn) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

std::vector<std::pair<int, std::uint64_t>> completed_by_append(std::uint64_t index) {
  std::vector<std::pair<int, std::uint64_t>> out;
  // Leaf `index` completes the subtree of level l that ends with it whenever index + 1 is a multiple of 2^l.
  std::uint64_t n = index + 1;
  for (int level = 1; level < 64 && n % (std::uint64_t{1} << level) == 0; ++level) {
    out.emplace_back(level, (index + 1) / (std::uint64_t{1} << level) - 1);
  }
  return out;
}

void CompactRange::append(const Hash& leaf, const Completed& completed) {
  const std::uint64_t n = size_;
  stack_.push_back(leaf);
  for (int level = 0; (n >> level) & 1; ++level) {
    const Hash right = stack_.back();
    stack_.pop_back();
    const Hash left = stack_.back();
    stack_.pop_back();
    stack_.push_back(node_hash(left, right));
    if (completed) completed(level + 1, n >> (level + 1), stack_.back());
  }
  size_ = n + 1;
}

Hash CompactRange::root() const {
  if (stack_.empty()) return empty_root();
  Hash r = stack_.back();
  for (auto it = stack_.rbegin() + 1; it != stack_.rend(); ++it) r = node_hash(*it, r);
  return r;
}

void MemoryTree::append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  const auto index = levels_[0].size();
  levels_[0].push_back(leaf);
  for (auto [level, i] : completed_by_append(index)) {
    if (levels_.size() <= static_cast<std::size_t>(level)) levels_.emplace_back();
    const auto& below = levels_[level - 1];
    levels_[level].push_back(node_hash(below[2 * i], below[2 * i + 1]));
  }
}

Hash MemoryTree::node(int level, std::uint64_t index) const {
  if (level < 0 || static_cast<std::size_t>(level) >= levels_.size() || index >= levels_[level].size()) {
    throw std::out_of_range("no such subtree in the tree");
  }
  return levels_[level][index];
}

SubtreeHashes MemoryTree::nodes() const {
  return [this](int level, std::uint64_t index) { return node(level, index); };
}

}  // namespace dpost::merkle
