#include "text.hpp"

#include <cstdint>
#include <vector>

namespace dpost {

namespace {

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_upper_or_digit(char c) {
  return (c >= 'A' && c <= 'Z') || is_ascii_digit(c);
}

// Length of the UTF-8 sequence starting at `pos` if it is well formed (shortest form, no surrogates, at most
// U+10FFFF), 0 otherwise. Writes the decoded code point.
std::size_t utf8_sequence(std::string_view text, std::size_t pos, char32_t& code_point) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    code_point = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;  // continuation byte or 0xF8..0xFF as a lead byte
  }
  if (pos + len > text.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms could smuggle '/' or NUL past checks; surrogates are not characters.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  code_point = cp;
  return len;
}

// Combining diacritical marks (U+0300..U+036F): Vietnamese typed in decomposed form puts tone marks here, and
// they belong to the letter before them.
bool is_combining(char32_t cp) {
  return cp >= 0x300 && cp <= 0x36F;
}

// The first `count` letters of a word (a letter keeps its combining marks); invalid bytes count as one letter.
std::string_view leading_letters(std::string_view word, std::size_t count) {
  std::size_t pos = 0;
  std::size_t letters = 0;
  while (pos < word.size()) {
    char32_t cp = 0;
    std::size_t len = utf8_sequence(word, pos, cp);
    if (len == 0) len = 1;
    if (!is_combining(cp) || letters == 0) {
      if (letters == count) break;
      ++letters;
    }
    pos += len;
  }
  return word.substr(0, pos);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_real_date(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= (month == 2 && leap ? 29 : kDays[month - 1]);
}

int two_digits(std::string_view s) {
  return (s[0] - '0') * 10 + (s[1] - '0');
}

}  // namespace

std::string mask_name(std::string_view full_name) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < full_name.size()) {
    while (pos < full_name.size() && is_space(full_name[pos])) ++pos;
    std::size_t start = pos;
    while (pos < full_name.size() && !is_space(full_name[pos])) ++pos;
    if (pos > start) words.push_back(full_name.substr(start, pos - start));
  }
  std::string out;
  if (words.empty()) return out;
  if (words.size() == 1) {
    out.append(leading_letters(words[0], 1)).append("***");
    return out;
  }
  // Fixed star counts so that the mask does not reveal how long each word is.
  out.append(leading_letters(words[0], 2)).append("***");
  for (std::size_t i = 1; i + 1 < words.size(); ++i) out.append(" ").append(leading_letters(words[i], 1)).append("**");
  out.append(" ").append(leading_letters(words.back(), 1));
  return out;
}

std::string mask_phone(std::string_view phone, std::size_t visible) {
  std::string digits;
  for (char c : phone) {
    if (is_ascii_digit(c)) digits.push_back(c);
  }
  // A number too short to hide anything shows nothing at all.
  if (digits.size() <= visible) return std::string(digits.size(), '*');
  for (std::size_t i = 0; i + visible < digits.size(); ++i) digits[i] = '*';
  return digits;
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
    } else if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (!is_ascii_digit(c) && !(c >= 'a' && c <= 'f')) {
      return std::nullopt;
    }
  }
  return out;
}

bool is_clean_text(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    std::size_t len = utf8_sequence(text, pos, cp);
    if (len == 0) return false;
    if ((cp < 0x20 && cp != '\t') || cp == 0x7F) return false;
    pos += len;
  }
  return true;
}

bool is_valid_site_code(std::string_view code) {
  if (code.empty() || code.size() > 40) return false;
  for (char c : code) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_dossier_code(std::string_view code) {
  // ^[A-Z0-9]+(\.[A-Z0-9]+)*-\d{6}-\d{4,7}$, read from the end: the agency part is the only one with dots.
  const std::size_t last_dash = code.rfind('-');
  if (last_dash == std::string_view::npos || last_dash < 8) return false;
  const std::string_view sequence = code.substr(last_dash + 1);
  if (sequence.size() < 4 || sequence.size() > 7) return false;
  for (char c : sequence) {
    if (!is_ascii_digit(c)) return false;
  }
  const std::string_view date = code.substr(last_dash - 6, 6);
  if (code[last_dash - 7] != '-') return false;
  for (char c : date) {
    if (!is_ascii_digit(c)) return false;
  }
  if (!is_real_date(2000 + two_digits(date), two_digits(date.substr(2)), two_digits(date.substr(4)))) return false;
  const std::string_view agency = code.substr(0, last_dash - 7);
  bool segment_empty = true;
  for (char c : agency) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (is_ascii_upper_or_digit(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

bool is_valid_procedure_code(std::string_view code) {
  // National codes are digits and dots (1.005129); local catalogues append agency parts with capitals
  // (1.001234.000.00.00.H26).
  if (code.empty() || code.size() > 40 || code.front() == '.' || code.back() == '.') return false;
  char previous = 0;
  for (char c : code) {
    if (!is_ascii_digit(c) && !(c >= 'A' && c <= 'Z') && c != '.') return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

}  // namespace dpost
