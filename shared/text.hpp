#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dpost {

// Masks a person's name for the citizen view, per word, hiding lengths:
// "Nguyễn Văn An" -> "Ng*** V** A" (first word: two letters + "***", middle words: one letter + "**",
// last word: its initial; a single word: one letter + "***"). UTF-8 aware; empty in, empty out.
std::string mask_name(std::string_view full_name);

// Keeps the last `visible` digits: "0912345678" -> "*******678".
std::string mask_phone(std::string_view phone, std::size_t visible = 3);

// UUID in the 8-4-4-4-12 hex form, any version; returns it lower-cased, nullopt otherwise.
std::optional<std::string> normalize_uuid(std::string_view text);

// True when `text` is valid UTF-8 with no control characters other than tab (names, reasons, addresses).
bool is_clean_text(std::string_view text);

// Site codes: 1..40 characters of [A-Za-z0-9._-].
bool is_valid_site_code(std::string_view code);

// Dossier code (mã hồ sơ) `{agency id}-{yymmdd}-{sequence}`, agency part opaque ([A-Z0-9]+ separated by '.'),
// yymmdd a real date, sequence 4..7 digits. E.g. H15.50.05.13-261008-0975.
bool is_valid_dossier_code(std::string_view code);

// Procedure (mã TTHC) codes: 1.005129, or local ones like 1.001234.000.00.00.H26 — digits, capitals, dots; 1..40.
bool is_valid_procedure_code(std::string_view code);

}  // namespace dpost
