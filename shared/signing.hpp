#pragma once

#include "clock.hpp"
#include "dossier.hpp"
#include "merkle.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Ed25519 signatures (libsodium) for the two things that must be provable outside the server: the ledger's
// checkpoints (the server's key) and the scans of scanner devices (each device's key).
namespace dpost::signing {

using PublicKey = std::array<unsigned char, 32>;
using SecretKey = std::array<unsigned char, 64>;  // libsodium's seed || public key
using Signature = std::array<unsigned char, 64>;
using Seed = std::array<unsigned char, 32>;

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};
KeyPair generate_key_pair();
KeyPair key_pair_from_seed(const Seed& seed);
Seed seed_of(const KeyPair& pair);

Signature sign(std::string_view message, const SecretKey& secret_key);
bool verify(std::string_view message, std::span<const unsigned char> signature, std::span<const unsigned char> key);
// Whether `key` can be a device's Ed25519 public key: a point on the curve, in the main subgroup, not of small
// order (an all-zero or low-order key would let forged signatures verify).
bool is_valid_public_key(const PublicKey& key);

// Standard base64 with padding (RFC 4648 section 4): what the JSON fields carry.
std::string base64_encode(std::span<const unsigned char> bytes);
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text);
template <std::size_t N>
std::optional<std::array<unsigned char, N>> base64_decode_fixed(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<unsigned char, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// A short public name for a key: the first 8 bytes of SHA-256(key), hex.
std::string key_id(const PublicKey& key);

// --- the ledger's signed checkpoints

// The signed text, in the shape of a C2SP tlog checkpoint ("origin\nsize\nbase64 root\n") with the time as an
// extension line, so that standard transparency-log tooling can read it.
struct Checkpoint {
  std::string origin;  // names the log, e.g. "dossier-post/ledger"
  std::uint64_t tree_size = 0;
  merkle::Hash root_hash{};
  UnixMillis timestamp = 0;
};
std::string checkpoint_text(const Checkpoint& checkpoint);
std::optional<Checkpoint> parse_checkpoint_text(std::string_view text);

// --- device-signed scans

// The exact bytes a scanner device signs for one scan: every field the server records from it, normalised
// (canonical item id, lower-case event id, occurred_at in milliseconds), so that a scan changed on the way, or
// signed for another event or device counter, does not verify. `seq` is the device's own counter: a device
// never signs two scans with the same number, which lets the server refuse replayed signatures.
std::string scan_signing_text(const ScanRequest& scan, std::int64_t seq);

}  // namespace dpost::signing
