#include "image.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <numbers>

namespace dpost::scanner {

std::string_view to_code(ImageError error) {
  switch (error) {
    case ImageError::unreadable:
      return "unreadable";
    case ImageError::not_an_image:
      return "not_an_image";
    case ImageError::too_large:
      return "too_large";
  }
  return "unreadable";
}

boost::system::result<GrayImage, ImageError> load_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ImageError::unreadable;
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return ImageError::unreadable;
  return load_image(bytes);
}

boost::system::result<GrayImage, ImageError> load_image(std::span<const std::uint8_t> encoded) {
  if (encoded.empty() || encoded.size() > static_cast<std::size_t>(INT32_MAX)) return ImageError::not_an_image;
  const auto* data = reinterpret_cast<const stbi_uc*>(encoded.data());
  const int size = static_cast<int>(encoded.size());
  int w = 0;
  int h = 0;
  int channels = 0;
  // Check the size from the header before decoding: a crafted file may claim a huge canvas.
  if (stbi_info_from_memory(data, size, &w, &h, &channels) == 0) return ImageError::not_an_image;
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > kMaxImagePixels) return ImageError::too_large;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, size, &w, &h, &channels, 1),
                                                   stbi_image_free);
  if (!pixels) return ImageError::not_an_image;
  GrayImage image;
  image.width = w;
  image.height = h;
  image.pixels.assign(pixels.get(), pixels.get() + static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  return image;
}

GrayImage halve(const GrayImage& image) {
  if (image.width < 2 || image.height < 2) return image;
  GrayImage out(image.width / 2, image.height / 2);
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* r0 = &image.pixels[static_cast<std::size_t>(2 * y) * static_cast<std::size_t>(image.width)];
    const std::uint8_t* r1 = r0 + image.width;
    std::uint8_t* o = &out.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width)];
    for (int x = 0; x < out.width; ++x) {
      const int s = r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];
      o[x] = static_cast<std::uint8_t>((s + 2) / 4);
    }
  }
  return out;
}

GrayImage rotate(const GrayImage& image, double degrees, std::uint8_t fill) {
  const double rad = degrees * std::numbers::pi / 180.0;
  const double c = std::cos(rad);
  const double s = std::sin(rad);
  const int out_w = static_cast<int>(std::ceil(std::abs(image.width * c) + std::abs(image.height * s)));
  const int out_h = static_cast<int>(std::ceil(std::abs(image.width * s) + std::abs(image.height * c)));
  GrayImage out(out_w, out_h, fill);
  const double icx = image.width / 2.0;
  const double icy = image.height / 2.0;
  const double ocx = out_w / 2.0;
  const double ocy = out_h / 2.0;
  // Inverse mapping (output -> source) so every output pixel is sampled exactly once. Screen y points down,
  // so a counter-clockwise turn on screen is the matrix for -angle in y-up maths.
  for (int y = 0; y < out_h; ++y) {
    const double dy = y + 0.5 - ocy;
    std::uint8_t* row = &out.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w)];
    for (int x = 0; x < out_w; ++x) {
      const double dx = x + 0.5 - ocx;
      const double sx = c * dx - s * dy + icx - 0.5;
      const double sy = s * dx + c * dy + icy - 0.5;
      if (sx < 0 || sy < 0 || sx > image.width - 1 || sy > image.height - 1) continue;
      const int x0 = static_cast<int>(sx);
      const int y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, image.width - 1);
      const int y1 = std::min(y0 + 1, image.height - 1);
      const double fx = sx - x0;
      const double fy = sy - y0;
      const double top = image.at(x0, y0) + (image.at(x1, y0) - image.at(x0, y0)) * fx;
      const double bottom = image.at(x0, y1) + (image.at(x1, y1) - image.at(x0, y1)) * fx;
      row[x] = static_cast<std::uint8_t>(std::lround(top + (bottom - top) * fy));
    }
  }
  return out;
}

GrayImage crop(const GrayImage& image, int x, int y, int w, int h) {
  const int x0 = std::clamp(x, 0, image.width);
  const int y0 = std::clamp(y, 0, image.height);
  const int x1 = std::clamp(x + w, 0, image.width);
  const int y1 = std::clamp(y + h, 0, image.height);
  GrayImage out(x1 - x0, y1 - y0);
  for (int row = y0; row < y1; ++row) {
    std::copy_n(&image.pixels[static_cast<std::size_t>(row) * static_cast<std::size_t>(image.width) +
                              static_cast<std::size_t>(x0)],
                x1 - x0, &out.pixels[static_cast<std::size_t>(row - y0) * static_cast<std::size_t>(out.width)]);
  }
  return out;
}

}  // namespace dpost::scanner
