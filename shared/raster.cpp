#include "raster.hpp"

#include <png.h>

#include <cmath>
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
    // Large white areas and bar runs compress well at the fastest level; filters do not help 1-bit data.
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_write_info(png, info);
    std::vector<png_byte> row(static_cast<std::size_t>((width + 7) / 8));
    for (int y = 0; y < height; ++y) {
      const std::uint8_t* src = coverage + static_cast<std::ptrdiff_t>(y) * stride;
      for (std::size_t b = 0; b < row.size(); ++b) {
        unsigned bits = 0;
        for (int k = 0; k < 8; ++k) {
          const int x = static_cast<int>(b) * 8 + k;
          // 1 = white in a gray PNG; the padding bits past the last column stay white.
          const bool white = x >= width || src[x] < 128;
          bits = (bits << 1) | (white ? 1u : 0u);
        }
        row[b] = static_cast<png_byte>(bits);
      }
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
