#include "raster.hpp"

#include <png.h>
#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace dpost {
namespace {

void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

[[noreturn]] void on_png_error(png_structp, png_const_charp message) {
  throw std::runtime_error(message);
}
void on_png_warning(png_structp, png_const_charp) {}

// One row of coverage as 1-bit gray, leftmost pixel in the high bit: 1 (white) where coverage < 50 %, and white
// padding past the last column.
void pack_row(const std::uint8_t* coverage, int width, png_byte* out) {
  const int whole = width / 8;
  if constexpr (std::endian::native == std::endian::little) {
    for (int b = 0; b < whole; ++b) {
      std::uint64_t eight = 0;
      std::memcpy(&eight, coverage + static_cast<std::ptrdiff_t>(b) * 8, 8);
      // The high bit of each byte is "coverage >= 128"; the multiply gathers the eight of them into the top
      // byte, the first pixel (lowest address, least significant byte) highest. No two partial products
      // share a bit, so nothing carries.
      const std::uint64_t ink = (eight >> 7) & 0x0101010101010101u;
      out[b] = static_cast<png_byte>(~((ink * 0x8040201008040201u) >> 56));
    }
  } else {
    for (int b = 0; b < whole; ++b) {
      unsigned bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 1) | (coverage[b * 8 + k] < 128 ? 1u : 0u);
      out[b] = static_cast<png_byte>(bits);
    }
  }
  if (whole * 8 < width) {
    unsigned bits = 0;
    for (int k = 0; k < 8; ++k) {
      const int x = whole * 8 + k;
      bits = (bits << 1) | (x >= width || coverage[x] < 128 ? 1u : 0u);
    }
    out[whole] = static_cast<png_byte>(bits);
  }
}

}  // namespace

std::string encode_png_1bit(const std::uint8_t* coverage, int width, int height, int stride, int dpi) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, on_png_error, on_png_warning);
  if (!png) throw std::runtime_error("libpng: out of memory");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("libpng: out of memory");
  }
  try {
    png_set_write_fn(png, &out, append_to_string, nullptr);
    png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 1, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    const auto per_metre = static_cast<png_uint_32>(std::lround(dpi / 0.0254));
    png_set_pHYs(png, info, per_metre, per_metre, PNG_RESOLUTION_METER);
    // Up filter + run-length deflate: a white row (most of a label) filters to zeros and every row of a bar
    // repeats the one above, so runs of one byte are nearly all there is to find: faster than deflate level 1
    // and smaller (14 kB against 15 kB a label).
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_compression_strategy(png, Z_RLE);
    png_set_compression_level(png, 1);
    png_write_info(png, info);
    std::vector<png_byte> row(static_cast<std::size_t>((width + 7) / 8));
    for (int y = 0; y < height; ++y) {
      pack_row(coverage + static_cast<std::ptrdiff_t>(y) * stride, width, row.data());
      png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
  } catch (...) {
    png_destroy_write_struct(&png, &info);
    throw;
  }
  png_destroy_write_struct(&png, &info);
  return out;
}

std::optional<GrayImage> decode_png_gray(std::string_view png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return std::nullopt;
  image.format = PNG_FORMAT_GRAY;
  GrayImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  // White background for any transparency, so that an alpha PNG reads as printed on paper.
  png_color background{255, 255, 255};
  if (!png_image_finish_read(&image, &background, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return std::nullopt;
  }
  return out;
}

}  // namespace dpost
