#pragma once

#include <string>

namespace dpost::test {

// The text of a PDF as pdftotext (poppler-utils, installed by scripts/setup) extracts it, UTF-8; empty when
// the tool fails.
std::string pdf_to_text(const std::string& pdf);

}  // namespace dpost::test
