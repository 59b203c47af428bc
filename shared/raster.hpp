#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpost {

// An 8-bit grayscale image, 0 = black, 255 = white, rows packed without padding.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;
};

// Encodes an ink-coverage raster (`coverage[y * stride + x]`, 0 = paper, 255 = full ink, as cairo's A8 format
// holds it) as a 1-bit grayscale PNG, ink where coverage >= 50 %. Labels are black and white: 1 bit per pixel
// is an eighth of the data to compress, and what a thermal printer prints anyway. `dpi` goes into pHYs.
std::string encode_png_1bit(const std::uint8_t* coverage, int width, int height, int stride, int dpi);

// Decodes any PNG into 8-bit gray (libpng's simplified API); nullopt when it is not a PNG.
std::optional<GrayImage> decode_png_gray(std::string_view png);

}  // namespace dpost
