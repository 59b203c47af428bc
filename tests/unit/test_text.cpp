#include "text.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace std::string_literals;

TEST_CASE("text: mask_name") {
  CHECK(dpost::mask_name("Nguyễn Văn An") == "Ng*** V** A");
  CHECK(dpost::mask_name("  Nguyễn   Văn \t An  ") == "Ng*** V** A");
  CHECK(dpost::mask_name("Trần Thị Ngọc Ánh") == "Tr*** T** N** Á");
  CHECK(dpost::mask_name("Đỗ Ý") == "Đỗ*** Ý");
  CHECK(dpost::mask_name("Ánh") == "Á***");
  CHECK(dpost::mask_name("Ý Lan") == "Ý*** L");
  CHECK(dpost::mask_name("") == "");
  CHECK(dpost::mask_name("   ") == "");
  // Decomposed (NFD) input keeps each letter's tone marks with it.
  CHECK(dpost::mask_name("A\xCC\x81nh Le\xCC\x82") == "A\xCC\x81n*** L");
  CHECK(dpost::mask_name("E\xCC\x82\xCC\x81 Ba") == "E\xCC\x82\xCC\x81*** B");
}

TEST_CASE("text: mask_phone") {
  CHECK(dpost::mask_phone("0912345678") == "*******678");
  CHECK(dpost::mask_phone("0912 345 678", 4) == "******5678");
  CHECK(dpost::mask_phone("+84912345678") == "********678");
  CHECK(dpost::mask_phone("123") == "***");
  CHECK(dpost::mask_phone("") == "");
}

TEST_CASE("text: normalize_uuid") {
  CHECK(dpost::normalize_uuid("6F9619FF-8B86-D011-B42D-00C04FC964FF") == "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  CHECK(dpost::normalize_uuid("123e4567-e89b-12d3-a456-426614174000") == "123e4567-e89b-12d3-a456-426614174000");
  for (const char* bad : {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
                          "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456_426614174000",
                          "g23e4567-e89b-12d3-a456-426614174000", "{123e4567-e89b-12d3-a456-426614174000}"}) {
    CAPTURE(bad);
    CHECK_FALSE(dpost::normalize_uuid(bad).has_value());
  }
}

TEST_CASE("text: is_clean_text") {
  CHECK(dpost::is_clean_text(""));
  CHECK(dpost::is_clean_text("Nguyễn Văn An"));
  CHECK(dpost::is_clean_text("số 1\tngõ 2"));
  CHECK(dpost::is_clean_text("\xF0\x9F\x93\xA6"));  // 4-byte sequence (U+1F4E6)
  CHECK_FALSE(dpost::is_clean_text("a\nb"));
  CHECK_FALSE(dpost::is_clean_text("a\rb"));
  CHECK_FALSE(dpost::is_clean_text("a\x7F"));
  CHECK_FALSE(dpost::is_clean_text("a\0b"s));
  CHECK_FALSE(dpost::is_clean_text("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(dpost::is_clean_text("\xE0\x80\xAF"));      // overlong, 3 bytes
  CHECK_FALSE(dpost::is_clean_text("\xF0\x80\x80\xAF"));  // overlong, 4 bytes
  CHECK_FALSE(dpost::is_clean_text("\xED\xA0\x80"));      // surrogate U+D800
  CHECK_FALSE(dpost::is_clean_text("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(dpost::is_clean_text("\x80"));              // lone continuation
  CHECK_FALSE(dpost::is_clean_text("\xC3"));              // truncated
  CHECK_FALSE(dpost::is_clean_text("\xE1\xBB"));          // truncated
  CHECK_FALSE(dpost::is_clean_text("\xFF"));
}

TEST_CASE("text: site codes") {
  CHECK(dpost::is_valid_site_code("000.00.01.H26"));
  CHECK(dpost::is_valid_site_code("BC-100000_a"));
  CHECK(dpost::is_valid_site_code(std::string(40, 'A')));
  CHECK_FALSE(dpost::is_valid_site_code(std::string(41, 'A')));
  CHECK_FALSE(dpost::is_valid_site_code(""));
  CHECK_FALSE(dpost::is_valid_site_code("BC 1"));
  CHECK_FALSE(dpost::is_valid_site_code("BC/1"));
  CHECK_FALSE(dpost::is_valid_site_code("Bưu"));
}

TEST_CASE("text: dossier codes") {
  CHECK(dpost::is_valid_dossier_code("H15.50.05.13-261008-0975"));
  CHECK(dpost::is_valid_dossier_code("000.00.01.H26-240229-1234567"));  // leap day
  CHECK(dpost::is_valid_dossier_code("A-261231-0001"));
  for (const char* bad : {"",
                          "H15.50.05.13-261008-097",
                          "H15.50.05.13-261008-12345678",
                          "H15.50.05.13-261308-0975",
                          "H15.50.05.13-261032-0975",
                          "H15.50.05.13-250229-0975",
                          "H15.50.05.13-261000-0975",
                          "h15.50.05.13-261008-0975",
                          "H15..50-261008-0975",
                          ".H15-261008-0975",
                          "H15.-261008-0975",
                          "-261008-0975",
                          "H15-26100-0975",
                          "H15-2610080-0975",
                          "H15-26A008-0975",
                          "H15-261008-09A5",
                          "H15 50-261008-0975",
                          "H15-50-261008-0975",
                          "261008-0975",
                          "H15.50.05.13-261008-0975 "}) {
    CAPTURE(bad);
    CHECK_FALSE(dpost::is_valid_dossier_code(bad));
  }
}

TEST_CASE("text: procedure codes") {
  CHECK(dpost::is_valid_procedure_code("1.005129"));
  CHECK(dpost::is_valid_procedure_code("2"));
  CHECK(dpost::is_valid_procedure_code("1.001234.000.00.00.H26"));
  CHECK(dpost::is_valid_procedure_code(std::string(40, '1')));
  CHECK_FALSE(dpost::is_valid_procedure_code(std::string(41, '1')));
  CHECK_FALSE(dpost::is_valid_procedure_code(""));
  CHECK_FALSE(dpost::is_valid_procedure_code("1.00512a"));
  CHECK_FALSE(dpost::is_valid_procedure_code("1.005 129"));
  CHECK_FALSE(dpost::is_valid_procedure_code(".1"));
  CHECK_FALSE(dpost::is_valid_procedure_code("1."));
  CHECK_FALSE(dpost::is_valid_procedure_code("1..2"));
}
