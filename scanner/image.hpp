#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpost::scanner {

// An 8-bit grey image, row-major, no padding: what ZXing reads (ImageFormat::Lum) and what every
// transformation here produces.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  GrayImage() = default;
  GrayImage(int w, int h, std::uint8_t fill = 255)
      : width(w), height(h), pixels(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), fill) {}

  bool empty() const { return width <= 0 || height <= 0; }
  std::uint8_t at(int x, int y) const { return pixels[index(x, y)]; }
  std::uint8_t& at(int x, int y) { return pixels[index(x, y)]; }

 private:
  std::size_t index(int x, int y) const {
    return static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x);
  }
};

enum class ImageError {
  unreadable,    // cannot open or read the file
  not_an_image,  // stb_image does not recognise the format or the data is corrupt
  too_large,     // over kMaxImagePixels: refuse rather than allocate gigabytes
};
std::string_view to_code(ImageError error);

// 64 megapixels: a phone's full-resolution photo is 12..50 MP.
inline constexpr long long kMaxImagePixels = 64LL * 1024 * 1024;

// PNG, JPEG (and whatever else stb_image reads), converted to grey.
boost::system::result<GrayImage, ImageError> load_image(const std::string& path);
boost::system::result<GrayImage, ImageError> load_image(std::span<const std::uint8_t> encoded);

// 2x2 box filter: half the size in each direction (odd last row/column dropped). ZXing 1.4's own downscale
// aborts the process (upstream #740), so large photos are shrunk here instead.
GrayImage halve(const GrayImage& image);

// Rotates by `degrees` (counter-clockwise as seen on screen) about the centre with bilinear resampling, onto a
// canvas large enough for the whole rotated image; uncovered pixels are `fill`.
GrayImage rotate(const GrayImage& image, double degrees, std::uint8_t fill = 255);

// The part of `image` inside [x, x+w) x [y, y+h), clipped to the image.
GrayImage crop(const GrayImage& image, int x, int y, int w, int h);

}  // namespace dpost::scanner
