#include "signing.hpp"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace signing = dpost::signing;

namespace {

std::vector<unsigned char> unhex(std::string_view hex) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

template <std::size_t N>
std::array<unsigned char, N> fixed(std::string_view hex) {
  const auto bytes = unhex(hex);
  REQUIRE(bytes.size() == N);
  std::array<unsigned char, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

dpost::ScanRequest sample_scan() {
  auto parsed = dpost::parse_scan(nlohmann::json{{"event_id", "6F1C2A6E-8D1B-4C2E-9A3F-1B2C3D4E5F60"},
                                                 {"item_id", "eh 000 000 045 vn"},
                                                 {"code", "EMA"},
                                                 {"site", "BC-HN01"},
                                                 {"occurred_at", "2026-11-23T09:15:00+07:00"}});
  REQUIRE(std::holds_alternative<dpost::ScanRequest>(parsed));
  return std::get<dpost::ScanRequest>(parsed);
}

}  // namespace

TEST_CASE("signing: RFC 8032 section 7.1 Ed25519 test vectors") {
  struct Vector {
    const char* seed;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe2"
       "4655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302ae"
       "eb00d291612bb0c00"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.public_key);
    const auto pair = signing::key_pair_from_seed(fixed<32>(v.seed));
    CHECK(pair.public_key == fixed<32>(v.public_key));
    const auto message_bytes = unhex(v.message);
    const std::string message(message_bytes.begin(), message_bytes.end());
    const auto signature = signing::sign(message, pair.secret_key);
    CHECK(signature == fixed<64>(v.signature));
    CHECK(signing::verify(message, signature, pair.public_key));
    auto changed = signature;
    changed[0] ^= 0x01;
    CHECK_FALSE(signing::verify(message, changed, pair.public_key));
    CHECK_FALSE(signing::verify(message + "x", signature, pair.public_key));
    CHECK_FALSE(signing::verify(message, std::span(signature).first(63), pair.public_key));
    CHECK(signing::seed_of(pair) == fixed<32>(v.seed));
  }
}

TEST_CASE("signing: base64 round trip and strict decoding") {
  const std::vector<unsigned char> bytes = {0, 1, 2, 250, 251, 252, 253};
  const auto text = signing::base64_encode(bytes);
  CHECK(text == "AAEC+vv8/Q==");
  CHECK(signing::base64_decode(text) == bytes);
  CHECK_FALSE(signing::base64_decode("AAEC+vv8/Q=").has_value());
  CHECK_FALSE(signing::base64_decode("AAEC+vv8/Q==x").has_value());
  CHECK_FALSE(signing::base64_decode("not base64!").has_value());
  CHECK_FALSE(signing::base64_decode_fixed<32>(text).has_value());
}

TEST_CASE("signing: checkpoint text round trip") {
  signing::Checkpoint c{"dossier-post/ledger", 1234, dpost::merkle::leaf_hash("x"), 1795000000123};
  const auto text = signing::checkpoint_text(c);
  CHECK(text.starts_with("dossier-post/ledger\n1234\n"));
  auto parsed = signing::parse_checkpoint_text(text);
  REQUIRE(parsed.has_value());
  CHECK(parsed->origin == c.origin);
  CHECK(parsed->tree_size == 1234);
  CHECK(parsed->root_hash == c.root_hash);
  CHECK(parsed->timestamp == c.timestamp);
  CHECK_FALSE(signing::parse_checkpoint_text("dossier-post/ledger\n12x\nAAAA\ntime 2026-01-01T00:00:00Z\n"));
  CHECK_FALSE(signing::parse_checkpoint_text(text.substr(0, text.size() - 1)));
}

TEST_CASE("signing: a scan's signing text covers every recorded field and the device counter") {
  const auto scan = sample_scan();
  const auto base = signing::scan_signing_text(scan, 7);
  CHECK(base.starts_with("dpost-scan-v1\n6f1c2a6e-8d1b-4c2e-9a3f-1b2c3d4e5f60\nEH000000045VN\nEMA\nBC-HN01\n"));
  CHECK(signing::scan_signing_text(scan, 8) != base);
  auto changed = scan;
  changed.site = "BC-HN02";
  CHECK(signing::scan_signing_text(changed, 7) != base);
  changed = scan;
  changed.occurred_at += 1;
  CHECK(signing::scan_signing_text(changed, 7) != base);
  changed = scan;
  changed.reason = "";
  CHECK(signing::scan_signing_text(changed, 7) != base);  // empty and absent differ
  changed = scan;
  changed.seal_intact = false;
  CHECK(signing::scan_signing_text(changed, 7) != base);
  changed = scan;
  changed.recipient = dpost::Recipient{"A", true, std::nullopt};
  CHECK(signing::scan_signing_text(changed, 7) != base);

  const auto pair = signing::generate_key_pair();
  const auto signature = signing::sign(base, pair.secret_key);
  CHECK(signing::verify(base, signature, pair.public_key));
  CHECK_FALSE(signing::verify(signing::scan_signing_text(scan, 8), signature, pair.public_key));
  CHECK(signing::key_id(pair.public_key).size() == 16);
}

TEST_CASE("signing: a device key must be a real Ed25519 point, not a small-order one") {
  CHECK(signing::is_valid_public_key(signing::generate_key_pair().public_key));
  signing::PublicKey zero{};
  CHECK_FALSE(signing::is_valid_public_key(zero));
  signing::PublicKey identity{};  // the neutral element (0, 1): order 1
  identity[0] = 1;
  CHECK_FALSE(signing::is_valid_public_key(identity));
}
