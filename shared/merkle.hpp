#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Merkle hash trees as RFC 6962 section 2.1 defines them (and RFC 9162 section 2.1 verifies them): the shape
// Certificate Transparency logs use, so that any RFC 6962 verifier can check our proofs.
namespace dpost::merkle {

using Hash = std::array<unsigned char, 32>;

Hash sha256(std::string_view data);
Hash leaf_hash(std::string_view data);                // SHA-256(0x00 || data)
Hash node_hash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash empty_root();                                    // SHA-256 of nothing: the root of a tree of size 0

std::string to_hex(const Hash& hash);
std::optional<Hash> from_hex(std::string_view text);

// Where the hashes of perfect subtrees come from: the hash of the 2^level leaves starting at index * 2^level.
// Every range the RFC's recursion asks for is either such a perfect, aligned subtree or split further, so a
// store of those (a database table, a vector) is all a tree needs to give roots and proofs of any size.
using SubtreeHashes = std::function<Hash(int level, std::uint64_t index)>;

// MTH(D[0:size]). Preconditions for all three: the source holds every perfect subtree within [0, size).
Hash root(std::uint64_t size, const SubtreeHashes& nodes);
// PATH(index, D[0:size]), index < size.
std::vector<Hash> inclusion_proof(std::uint64_t index, std::uint64_t size, const SubtreeHashes& nodes);
// PROOF(first, D[0:second]), first <= second; empty when first is 0 or equals second.
std::vector<Hash> consistency_proof(std::uint64_t first, std::uint64_t second, const SubtreeHashes& nodes);

// RFC 9162 section 2.1.3.2: the leaf is the index-th of a tree of `size` leaves whose root is `root`.
bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, std::span<const Hash> proof,
                      const Hash& root);
// RFC 9162 section 2.1.4.2: the tree of `second` leaves extends the tree of `first` leaves. A tree is always
// consistent with itself (empty proof) and with the empty tree (empty proof, first_root = empty_root()).
bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        std::span<const Hash> proof);

// The perfect subtrees that appending leaf number `index` (0-based) completes above level 0, lowest first:
// (level, index at that level). A store appends the leaf at (0, index), then each of these as the node hash of
// its two children, which are already stored.
std::vector<std::pair<int, std::uint64_t>> completed_by_append(std::uint64_t index);

// The right edge of a tree: one perfect subtree per set bit of its size, enough to append leaves and give the
// root in O(log n) memory. Verification streams millions of leaves through it.
class CompactRange {
 public:
  using Completed = std::function<void(int level, std::uint64_t index, const Hash& hash)>;
  // Appends a leaf; `completed` sees every perfect subtree above level 0 that the leaf completes.
  void append(const Hash& leaf, const Completed& completed = {});
  std::uint64_t size() const { return size_; }
  Hash root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> stack_;  // largest subtree first
};

// A whole tree in memory: for tests, tools and recomputation during verification.
class MemoryTree {
 public:
  void append(const Hash& leaf);
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash node(int level, std::uint64_t index) const;  // a stored perfect subtree
  SubtreeHashes nodes() const;                      // reads this tree; valid while it lives
  Hash root() const { return merkle::root(size(), nodes()); }

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[l][i]: the perfect subtree (l, i)
};

}  // namespace dpost::merkle
