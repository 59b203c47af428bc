#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dpost {

// A barcode as a grid of modules, without any quiet zone: renderers add the quiet zone the symbology asks
// for and draw each dark module as an exact rectangle. A linear symbol (Code 128) has height 1.
struct ModuleGrid {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> dark;  // row-major, 1 = dark module

  bool at(int x, int y) const {
    return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] != 0;
  }
};

// Quiet zones in modules: ISO/IEC 15417 asks at least 10 X on each side of a Code 128 symbol;
// ISO/IEC 18004 asks 4 modules around a QR code.
inline constexpr int kCode128QuietModules = 10;
inline constexpr int kQrQuietModules = 4;

// Code 128 of `text` (ZXing-cpp picks the code sets). Throws std::invalid_argument when ZXing refuses it.
ModuleGrid encode_code128(std::string_view text);
// QR code of `text` (UTF-8), error correction level M (~15 %: survives a scuffed or folded envelope).
ModuleGrid encode_qr(std::string_view text);

}  // namespace dpost
