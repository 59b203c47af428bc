#include "merkle.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

using dpost::merkle::Hash;
using dpost::merkle::MemoryTree;
namespace merkle = dpost::merkle;

namespace {

Hash h(const char* hex) {
  auto hash = merkle::from_hex(hex);
  REQUIRE(hash.has_value());
  return *hash;
}

std::string bytes(std::initializer_list<unsigned char> list) {
  return std::string(list.begin(), list.end());
}

// The leaves of the Certificate Transparency reference tree (RFC 6962 test data, as every CT implementation
// uses it), and its published roots for sizes 0..8.
std::vector<std::string> reference_leaves() {
  return {"",
          bytes({0x00}),
          bytes({0x10}),
          bytes({0x20, 0x21}),
          bytes({0x30, 0x31}),
          bytes({0x40, 0x41, 0x42, 0x43}),
          bytes({0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57}),
          bytes({0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f})};
}

const char* const kReferenceRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

MemoryTree reference_tree() {
  MemoryTree tree;
  for (const auto& leaf : reference_leaves()) tree.append(merkle::leaf_hash(leaf));
  return tree;
}

// A tree whose leaves are distinct, for the exhaustive checks.
MemoryTree numbered_tree(std::uint64_t size) {
  MemoryTree tree;
  for (std::uint64_t i = 0; i < size; ++i) tree.append(merkle::leaf_hash("leaf " + std::to_string(i)));
  return tree;
}

}  // namespace

TEST_CASE("merkle: roots of the RFC 6962 reference tree for every size 0..8") {
  const auto leaves = reference_leaves();
  for (std::size_t n = 0; n <= leaves.size(); ++n) {
    CAPTURE(n);
    MemoryTree tree;
    for (std::size_t i = 0; i < n; ++i) tree.append(merkle::leaf_hash(leaves[i]));
    CHECK(merkle::to_hex(tree.root()) == kReferenceRoots[n]);
  }
  CHECK(merkle::to_hex(merkle::empty_root()) == kReferenceRoots[0]);
}

TEST_CASE("merkle: RFC 6962 reference inclusion proofs") {
  const auto tree = reference_tree();
  struct Vector {
    std::uint64_t index, size;
    std::vector<const char*> path;
  };
  const Vector vectors[] = {
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.index);
    CAPTURE(v.size);
    const auto proof = merkle::inclusion_proof(v.index, v.size, tree.nodes());
    REQUIRE(proof.size() == v.path.size());
    for (std::size_t i = 0; i < proof.size(); ++i) CHECK(merkle::to_hex(proof[i]) == v.path[i]);
    CHECK(merkle::verify_inclusion(tree.node(0, v.index), v.index, v.size, proof, h(kReferenceRoots[v.size])));
  }
}

TEST_CASE("merkle: RFC 6962 reference consistency proofs") {
  const auto tree = reference_tree();
  struct Vector {
    std::uint64_t first, second;
    std::vector<const char*> proof;
  };
  const Vector vectors[] = {
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {2,
       8,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.first);
    CAPTURE(v.second);
    const auto proof = merkle::consistency_proof(v.first, v.second, tree.nodes());
    REQUIRE(proof.size() == v.proof.size());
    for (std::size_t i = 0; i < proof.size(); ++i) CHECK(merkle::to_hex(proof[i]) == v.proof[i]);
    CHECK(merkle::verify_consistency(v.first, v.second, h(kReferenceRoots[v.first]), h(kReferenceRoots[v.second]),
                                     proof));
  }
}

TEST_CASE("merkle: every inclusion proof verifies for every tree size up to 300, and a changed one does not") {
  constexpr std::uint64_t kMax = 300;
  const auto tree = numbered_tree(kMax);
  std::vector<Hash> roots;
  for (std::uint64_t n = 0; n <= kMax; ++n) roots.push_back(merkle::root(n, tree.nodes()));
  std::uint64_t checked = 0;
  bool all_ok = true;
  bool tampered_refused = true;
  for (std::uint64_t n = 1; n <= kMax; ++n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = merkle::inclusion_proof(i, n, tree.nodes());
      const auto leaf = tree.node(0, i);
      all_ok = all_ok && merkle::verify_inclusion(leaf, i, n, proof, roots[n]);
      // The same proof for a neighbour, against the next tree's root, with a changed hash or a shortened path
      // must fail. (A wrong size with the right root can pass: the root, not the size, is what binds.)
      if (n > 1)
        tampered_refused = tampered_refused && !merkle::verify_inclusion(leaf, (i + 1) % n, n, proof, roots[n]);
      if (n < kMax)
        tampered_refused = tampered_refused && !merkle::verify_inclusion(leaf, i, n + 1, proof, roots[n + 1]);
      if (!proof.empty()) {
        auto changed = proof;
        changed.back()[7] ^= 0x01;
        tampered_refused = tampered_refused && !merkle::verify_inclusion(leaf, i, n, changed, roots[n]);
        changed = proof;
        changed.pop_back();
        tampered_refused = tampered_refused && !merkle::verify_inclusion(leaf, i, n, changed, roots[n]);
      }
      auto extended = proof;
      extended.push_back(roots[n]);
      tampered_refused = tampered_refused && !merkle::verify_inclusion(leaf, i, n, extended, roots[n]);
      ++checked;
    }
  }
  MESSAGE("inclusion proofs checked: " << checked);
  CHECK(checked == kMax * (kMax + 1) / 2);
  CHECK(all_ok);
  CHECK(tampered_refused);
}

TEST_CASE("merkle: every consistency proof verifies for every pair of sizes up to 300") {
  constexpr std::uint64_t kMax = 300;
  const auto tree = numbered_tree(kMax);
  std::vector<Hash> roots;
  for (std::uint64_t n = 0; n <= kMax; ++n) roots.push_back(merkle::root(n, tree.nodes()));
  std::uint64_t checked = 0;
  bool all_ok = true;
  bool tampered_refused = true;
  for (std::uint64_t second = 0; second <= kMax; ++second) {
    for (std::uint64_t first = 0; first <= second; ++first) {
      const auto proof = merkle::consistency_proof(first, second, tree.nodes());
      all_ok = all_ok && merkle::verify_consistency(first, second, roots[first], roots[second], proof);
      if (first > 0 && first < second) {
        // A root that is not the first tree's, or a changed proof, must fail.
        tampered_refused =
            tampered_refused && !merkle::verify_consistency(first, second, roots[first - 1], roots[second], proof);
        auto changed = proof;
        changed.front()[3] ^= 0x80;
        tampered_refused =
            tampered_refused && !merkle::verify_consistency(first, second, roots[first], roots[second], changed);
        changed = proof;
        changed.pop_back();
        tampered_refused =
            tampered_refused && !merkle::verify_consistency(first, second, roots[first], roots[second], changed);
      }
      ++checked;
    }
  }
  MESSAGE("consistency proofs checked: " << checked);
  CHECK(all_ok);
  CHECK(tampered_refused);
}

TEST_CASE("merkle: degenerate consistency cases and bad arguments") {
  const auto tree = numbered_tree(8);
  const auto root4 = merkle::root(4, tree.nodes());
  const auto root5 = merkle::root(5, tree.nodes());
  const auto root8 = merkle::root(8, tree.nodes());
  CHECK(merkle::verify_consistency(4, 4, root4, root4, {}));
  CHECK_FALSE(merkle::verify_consistency(4, 4, root4, root5, {}));
  CHECK(merkle::verify_consistency(0, 8, merkle::empty_root(), root8, {}));
  CHECK_FALSE(merkle::verify_consistency(0, 8, root4, root8, {}));
  CHECK_FALSE(merkle::verify_consistency(8, 4, root8, root4, {}));
  CHECK_FALSE(merkle::verify_consistency(4, 8, root4, root8, {}));
  CHECK_FALSE(merkle::verify_inclusion(tree.node(0, 0), 8, 8, {}, root8));
  CHECK_THROWS_AS(merkle::inclusion_proof(8, 8, tree.nodes()), std::out_of_range);
  CHECK_THROWS_AS(merkle::consistency_proof(5, 3, tree.nodes()), std::out_of_range);
  CHECK_FALSE(merkle::from_hex("zz").has_value());
  CHECK_FALSE(merkle::from_hex(std::string(64, 'g')).has_value());
}

TEST_CASE("merkle: an append completes exactly the perfect subtrees ending at the new leaf") {
  using Nodes = std::vector<std::pair<int, std::uint64_t>>;
  CHECK(merkle::completed_by_append(0) == Nodes{});
  CHECK(merkle::completed_by_append(1) == Nodes{{1, 0}});
  CHECK(merkle::completed_by_append(2) == Nodes{});
  CHECK(merkle::completed_by_append(3) == Nodes{{1, 1}, {2, 0}});
  CHECK(merkle::completed_by_append(7) == Nodes{{1, 3}, {2, 1}, {3, 0}});
  CHECK(merkle::completed_by_append(10) == Nodes{});
  CHECK(merkle::completed_by_append(11) == Nodes{{1, 5}, {2, 2}});
}

TEST_CASE("merkle: a compact range gives the same roots and subtrees as the whole tree") {
  MemoryTree tree;
  dpost::merkle::CompactRange range;
  bool same_nodes = true;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto leaf = merkle::leaf_hash("leaf " + std::to_string(i));
    tree.append(leaf);
    range.append(leaf, [&](int level, std::uint64_t index, const Hash& hash) {
      same_nodes = same_nodes && tree.node(level, index) == hash;
    });
    CHECK(range.size() == tree.size());
    CHECK(range.root() == tree.root());
  }
  CHECK(same_nodes);
  CHECK(dpost::merkle::CompactRange().root() == merkle::empty_root());
}
