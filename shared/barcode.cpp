#include "barcode.hpp"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>

#include <stdexcept>

namespace dpost {
namespace {

// ZXing 1.4 level scale for QR: 0-2 L, 3-4 M, 5-6 Q, 7-8 H.
constexpr int kQrEccLevelM = 4;

ModuleGrid to_grid(const ZXing::BitMatrix& matrix) {
  ModuleGrid grid;
  grid.width = matrix.width();
  grid.height = matrix.height();
  grid.dark.resize(static_cast<std::size_t>(grid.width) * static_cast<std::size_t>(grid.height));
  for (int y = 0; y < grid.height; ++y) {
    for (int x = 0; x < grid.width; ++x) {
      grid.dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(grid.width) + static_cast<std::size_t>(x)] =
          matrix.get(x, y) ? 1 : 0;
    }
  }
  return grid;
}

}  // namespace

ModuleGrid encode_code128(std::string_view text) {
  try {
    // Width and height 0 with margin 0: ZXing returns one row of exactly one pixel per module.
    auto matrix = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::Code128).setMargin(0).encode(std::string(text), 0, 0);
    return to_grid(matrix);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("cannot encode Code 128: ") + e.what());
  }
}

ModuleGrid encode_qr(std::string_view text) {
  try {
    auto matrix = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode)
                      .setMargin(0)
                      .setEccLevel(kQrEccLevelM)
                      .encode(std::string(text), 0, 0);
    return to_grid(matrix);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("cannot encode QR code: ") + e.what());
  }
}

}  // namespace dpost
