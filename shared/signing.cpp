#include "signing.hpp"

#include <sodium.h>

#include <charconv>
#include <mutex>
#include <stdexcept>

namespace dpost::signing {
namespace {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

// Text fields are checked for control characters on the way in (dossier.cpp), so '\n' separates fields
// unambiguously; "-" stands for absent and "=" prefixes a present value, so that absent and empty differ.
void field(std::string& out, std::string_view value) {
  out.append(value);
  out.push_back('\n');
}
void optional_field(std::string& out, const std::optional<std::string>& value) {
  field(out, value ? "=" + *value : std::string("-"));
}

}  // namespace

KeyPair generate_key_pair() {
  ensure_sodium();
  KeyPair pair;
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

KeyPair key_pair_from_seed(const Seed& seed) {
  ensure_sodium();
  KeyPair pair;
  crypto_sign_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed.data());
  return pair;
}

Seed seed_of(const KeyPair& pair) {
  Seed seed{};
  crypto_sign_ed25519_sk_to_seed(seed.data(), pair.secret_key.data());
  return seed;
}

Signature sign(std::string_view message, const SecretKey& secret_key) {
  ensure_sodium();
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_key.data());
  return signature;
}

bool is_valid_public_key(const PublicKey& key) {
  ensure_sodium();
  return crypto_core_ed25519_is_valid_point(key.data()) == 1;
}

bool verify(std::string_view message, std::span<const unsigned char> signature, std::span<const unsigned char> key) {
  ensure_sodium();
  if (signature.size() != crypto_sign_BYTES || key.size() != crypto_sign_PUBLICKEYBYTES) return false;
  return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

std::string base64_encode(std::span<const unsigned char> bytes) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
  ensure_sodium();
  std::vector<unsigned char> out(text.size() / 4 * 3 + 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string key_id(const PublicKey& key) {
  const auto digest = merkle::sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return merkle::to_hex(digest).substr(0, 16);
}

std::string checkpoint_text(const Checkpoint& c) {
  std::string out = c.origin + "\n";
  out += std::to_string(c.tree_size) + "\n";
  out += base64_encode(c.root_hash) + "\n";
  out += "time " + format_rfc3339(c.timestamp) + "\n";
  return out;
}

std::optional<Checkpoint> parse_checkpoint_text(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // every line ends with a newline
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() != 4 || lines[0].empty() || !lines[3].starts_with("time ")) return std::nullopt;
  Checkpoint c;
  c.origin = std::string(lines[0]);
  const auto size_text = lines[1];
  const auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), c.tree_size);
  if (ec != std::errc() || end != size_text.data() + size_text.size() || size_text.empty()) return std::nullopt;
  auto root = base64_decode_fixed<32>(lines[2]);
  if (!root) return std::nullopt;
  c.root_hash = *root;
  auto time = parse_rfc3339(lines[3].substr(5));
  if (!time) return std::nullopt;
  c.timestamp = *time;
  return c;
}

std::string scan_signing_text(const ScanRequest& s, std::int64_t seq) {
  std::string out;
  field(out, "dpost-scan-v1");
  field(out, s.event_id);
  field(out, s.item_id.str());
  field(out, to_string(s.code));
  field(out, s.site);
  field(out, std::to_string(s.occurred_at));
  optional_field(out, s.reason);
  if (s.recipient) {
    field(out, "=" + s.recipient->name);
    field(out, s.recipient->id_checked ? "1" : "0");
    optional_field(out, s.recipient->relation);
  } else {
    field(out, "-");
  }
  field(out, s.seal_intact ? (*s.seal_intact ? "1" : "0") : "-");
  field(out, s.issue ? std::string(to_string(*s.issue)) : std::string("-"));
  optional_field(out, s.device);
  // Issue 7's fields only when present: a scan without them signs the same text as before they existed.
  if (auto facts = delivery_facts_text(s.reason_code, s.action, s.recipient); !facts.empty()) field(out, facts);
  field(out, std::to_string(seq));
  return out;
}

}  // namespace dpost::signing
