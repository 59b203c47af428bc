#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace dpost::server {

// Password hashing with Argon2id (libsodium crypto_pwhash_str, "interactive" limits: 2 passes, 64 MiB).
// Slow on purpose (tens of milliseconds): call it on the worker pool, never on an I/O thread.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view stored_hash, std::string_view password);
// Burns the same time as a real verification: used when the user does not exist, so that response time does
// not tell which usernames exist.
void verify_password_dummy(std::string_view password);

// `bytes` random bytes from the OS CSPRNG, base64url without padding (16 bytes -> 22 characters).
std::string random_token(std::size_t bytes);
// `count` decimal digits, uniformly random (the second factor on the receipt).
std::string random_digits(std::size_t count);
std::array<unsigned char, 32> sha256(std::string_view data);
std::string to_hex(const unsigned char* data, std::size_t size);

// Password rules for accounts created by an admin: 10..128 characters (UTF-8 code points, not bytes), not only
// spaces. The demo "demo" password is loaded directly by the demo data set and documented as demo-only.
bool is_acceptable_password(std::string_view password);

}  // namespace dpost::server
