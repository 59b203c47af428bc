// Password rules for accounts an admin creates (server/auth.hpp).
#include "auth.hpp"

#include <doctest/doctest.h>

#include <string>

using dpost::server::is_acceptable_password;

TEST_CASE("auth: a password has 10 to 128 characters, counted as characters, and is not only spaces") {
  CHECK(is_acceptable_password("correct horse"));
  CHECK(is_acceptable_password("mật khẩu dài"));  // 12 characters, 17 bytes
  CHECK_FALSE(is_acceptable_password("short"));
  CHECK_FALSE(is_acceptable_password("\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"));  // 3 emoji, 12 bytes
  CHECK_FALSE(is_acceptable_password("ôôôôô"));                                             // 5 characters, 10 bytes
  CHECK_FALSE(is_acceptable_password(std::string(10, ' ')));
  CHECK(is_acceptable_password(std::string(128, 'a')));
  CHECK_FALSE(is_acceptable_password(std::string(129, 'a')));
  std::string vietnamese;
  for (int i = 0; i < 128; ++i) vietnamese += "ệ";  // 128 characters of 3 bytes
  CHECK(is_acceptable_password(vietnamese));
  CHECK_FALSE(is_acceptable_password(vietnamese + "ệ"));
}
