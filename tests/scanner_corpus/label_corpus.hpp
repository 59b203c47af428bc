#pragma once

// A label-photo corpus generated in code (no binary files in the repository): labels rendered with ZXing's
// writers, then photographed in software — rotated, tilted (homography), blurred, noisy, washed out, with glare,
// JPEG-compressed, several per photo, or small in a large photo. Used by the unit test (read rate must be 100 %
// with zero wrong ids) and by the scanner benchmark (the same files for zbarimg). Header-only so that both link
// nothing but dpost_scanner (which brings ZXing and stb).

#include "image.hpp"

#include <item_id.hpp>
#if __has_include(<label.hpp>)
#include <label.hpp>
#define DPOST_CORPUS_HAS_REAL_LABELS 1
#endif

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace dpost::scanner_corpus {

using scanner::GrayImage;

struct CorpusPhoto {
  std::string name;                       // "rotate-045", "multi-2", ...
  std::string group;                      // "rotation", "perspective", ...
  GrayImage image;                        // what the camera saw
  std::vector<std::string> expected_ids;  // canonical S10 ids on the labels in it
};

struct Point {
  double x, y;
};

// The id of the n-th corpus label: EH00000nnnnVN with a valid S10 check digit.
inline std::string corpus_id(std::uint32_t n) {
  return ItemId::make("EH", 4200 + n * 7)->str();
}

inline void fill_rect(GrayImage& img, int x, int y, int w, int h, std::uint8_t value) {
  for (int yy = std::max(0, y); yy < std::min(img.height, y + h); ++yy)
    for (int xx = std::max(0, x); xx < std::min(img.width, x + w); ++xx) img.at(xx, yy) = value;
}

// Draws `matrix` (1 px per module) with `module` px per module at (x, y), `bar_height` px tall for a 1-D symbol.
inline void draw_matrix(GrayImage& img, const ZXing::BitMatrix& matrix, int x, int y, int module, int bar_height) {
  const bool linear = matrix.height() == 1 || bar_height > 0;
  for (int my = 0; my < (linear ? 1 : matrix.height()); ++my)
    for (int mx = 0; mx < matrix.width(); ++mx)
      if (matrix.get(mx, my)) fill_rect(img, x + mx * module, y + my * module, module, linear ? bar_height : module, 0);
}

// A 600x400 label like the ones the server prints: Code 128 of the id with its quiet zones at the top, a
// stand-in for the human-readable line, the tracking QR bottom left, address-like text blocks bottom right.
inline GrayImage render_label(const std::string& id, const std::string& url) {
  GrayImage label(600, 400, 255);
  const auto bars = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::Code128).setMargin(0).encode(id, 0, 1);
  const int module = std::max(1, (600 - 40) / (bars.width() + 20));  // 10 X quiet zone each side
  const int bar_x = (600 - bars.width() * module) / 2;
  draw_matrix(label, bars, bar_x, 24, module, 150);
  // Human-readable line under the bars: blocks, not glyphs (no font here), enough to disturb a scan line.
  for (int i = 0; i < 13; ++i) fill_rect(label, bar_x + 10 + i * 30, 186, 18, 22, i % 4 == 3 ? 255 : 40);
  const auto qr = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode).setMargin(0).setEccLevel(4).encode(url, 0, 0);
  const int qr_module = 160 / qr.width();
  draw_matrix(label, qr, 30, 225, qr_module, 0);
  for (int line = 0; line < 5; ++line) fill_rect(label, 250, 236 + line * 28, 300 - (line * 37) % 90, 12, 60);
  // Label border, as cut from the roll.
  fill_rect(label, 0, 0, 600, 2, 120);
  fill_rect(label, 0, 398, 600, 2, 120);
  fill_rect(label, 0, 0, 2, 400, 120);
  fill_rect(label, 598, 0, 2, 400, 120);
  return label;
}

inline std::string corpus_url(std::uint32_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::mt19937 rng(n * 7919U + 17U);
  std::string token;
  for (int i = 0; i < 22; ++i) token += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return "https://dossierpost.vn/t/" + token;
}

// 3x3 homography mapping the unit square's corners (0,0),(1,0),(1,1),(0,1) to q[0..3].
inline std::array<double, 9> square_to_quad(const std::array<Point, 4>& q) {
  const double dx1 = q[1].x - q[2].x, dx2 = q[3].x - q[2].x, dx3 = q[0].x - q[1].x + q[2].x - q[3].x;
  const double dy1 = q[1].y - q[2].y, dy2 = q[3].y - q[2].y, dy3 = q[0].y - q[1].y + q[2].y - q[3].y;
  const double den = dx1 * dy2 - dx2 * dy1;
  const double g = (dx3 * dy2 - dx2 * dy3) / den;
  const double h = (dx1 * dy3 - dx3 * dy1) / den;
  return {q[1].x - q[0].x + g * q[1].x,
          q[3].x - q[0].x + h * q[3].x,
          q[0].x,
          q[1].y - q[0].y + g * q[1].y,
          q[3].y - q[0].y + h * q[3].y,
          q[0].y,
          g,
          h,
          1.0};
}

inline std::array<double, 9> invert(const std::array<double, 9>& m) {
  const double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
  const double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const double det = a * A + b * B + c * C;
  return {A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
          B / det, (a * i - c * g) / det,  -(a * f - c * d) / det,
          C / det, -(a * h - b * g) / det, (a * e - b * d) / det};
}

// Paints `label` onto `canvas` so that its corners land on `quad` (TL, TR, BR, BL): a photo of a flat label
// seen at an angle. Bilinear sampling; supersampled edges are not needed for barcode reading.
inline void warp_onto(GrayImage& canvas, const GrayImage& label, const std::array<Point, 4>& quad) {
  const auto inverse = invert(square_to_quad(quad));
  double min_x = 1e9, min_y = 1e9, max_x = -1e9, max_y = -1e9;
  for (const auto& p : quad) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  for (int y = std::max(0, static_cast<int>(min_y)); y <= std::min(canvas.height - 1, static_cast<int>(max_y)); ++y) {
    for (int x = std::max(0, static_cast<int>(min_x)); x <= std::min(canvas.width - 1, static_cast<int>(max_x)); ++x) {
      const double px = x + 0.5, py = y + 0.5;
      const double w = inverse[6] * px + inverse[7] * py + inverse[8];
      const double u = (inverse[0] * px + inverse[1] * py + inverse[2]) / w;
      const double v = (inverse[3] * px + inverse[4] * py + inverse[5]) / w;
      if (u < 0 || u >= 1 || v < 0 || v >= 1) continue;
      const double sx = std::clamp(u * label.width - 0.5, 0.0, label.width - 1.0);
      const double sy = std::clamp(v * label.height - 0.5, 0.0, label.height - 1.0);
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, label.width - 1), y1 = std::min(y0 + 1, label.height - 1);
      const double fx = sx - x0, fy = sy - y0;
      const double top = label.at(x0, y0) + (label.at(x1, y0) - label.at(x0, y0)) * fx;
      const double bottom = label.at(x0, y1) + (label.at(x1, y1) - label.at(x0, y1)) * fx;
      canvas.at(x, y) = static_cast<std::uint8_t>(std::lround(top + (bottom - top) * fy));
    }
  }
}

// Corners of a w x h rectangle centred on (cx, cy), turned by `degrees` counter-clockwise on screen, with
// optional perspective: `tilt` shrinks the top edge (0.2 = 20 % narrower), as when the phone leans back.
inline std::array<Point, 4> placed(double cx, double cy, double w, double h, double degrees, double tilt = 0) {
  const double top = w * (1 - tilt) / 2, bottom = w / 2;
  std::array<Point, 4> local{Point{-top, -h / 2}, Point{top, -h / 2}, Point{bottom, h / 2}, Point{-bottom, h / 2}};
  const double r = -degrees * std::numbers::pi / 180.0;
  for (auto& p : local)
    p = Point{cx + p.x * std::cos(r) - p.y * std::sin(r), cy + p.x * std::sin(r) + p.y * std::cos(r)};
  return local;
}

// A desk or counter: mid grey with low-frequency shading and some grain.
inline GrayImage background(int w, int h, std::mt19937& rng) {
  GrayImage bg(w, h);
  std::normal_distribution<double> grain(0, 4);
  const double phase = (rng() % 628) / 100.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      bg.at(x, y) = static_cast<std::uint8_t>(
          std::clamp(150 + 30 * std::sin(x * 0.004 + phase) * std::cos(y * 0.003) + grain(rng), 0.0, 255.0));
  return bg;
}

inline void box_blur(GrayImage& img, int radius) {
  if (radius <= 0) return;
  GrayImage tmp = img;
  const int n = 2 * radius + 1;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      int s = 0;
      for (int k = -radius; k <= radius; ++k) s += img.at(std::clamp(x + k, 0, img.width - 1), y);
      tmp.at(x, y) = static_cast<std::uint8_t>(s / n);
    }
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      int s = 0;
      for (int k = -radius; k <= radius; ++k) s += tmp.at(x, std::clamp(y + k, 0, img.height - 1));
      img.at(x, y) = static_cast<std::uint8_t>(s / n);
    }
}

// Three box passes approximate a Gaussian of sigma ~ radius.
inline void gaussian_blur(GrayImage& img, int radius) {
  for (int i = 0; i < 3; ++i) box_blur(img, radius);
}

inline void add_noise(GrayImage& img, double sigma, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, sigma);
  for (auto& p : img.pixels) p = static_cast<std::uint8_t>(std::clamp(p + noise(rng), 0.0, 255.0));
}

// Maps black..white to lo..hi: a faded thermal print under dim light.
inline void low_contrast(GrayImage& img, int lo, int hi) {
  for (auto& p : img.pixels) p = static_cast<std::uint8_t>(lo + (p * (hi - lo)) / 255);
}

// A bright blob (a ceiling lamp on glossy paper): adds up to `strength` towards white around (cx, cy).
inline void glare(GrayImage& img, double cx, double cy, double radius, double strength) {
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (radius * radius);
      const double add = strength * std::exp(-d2);
      const double v = img.at(x, y);
      img.at(x, y) = static_cast<std::uint8_t>(std::clamp(v + (255 - v) * add, 0.0, 255.0));
    }
}

inline std::vector<std::uint8_t> encode_jpeg(const GrayImage& img, int quality) {
  std::vector<std::uint8_t> out;
  stbi_write_jpg_to_func(
      [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::vector<std::uint8_t>*>(context);
        bytes->insert(bytes->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
      },
      &out, img.width, img.height, 1, img.pixels.data(), quality);
  return out;
}

inline GrayImage jpeg_round_trip(const GrayImage& img, int quality) {
  const auto bytes = encode_jpeg(img, quality);
  auto decoded = scanner::load_image(bytes);
  return decoded ? std::move(*decoded) : GrayImage{};
}

// One label on a 1600x1200 photo, label ~600 px wide, turned and tilted.
inline CorpusPhoto single(std::uint32_t n, std::string name, std::string group, double degrees, double tilt,
                          std::mt19937& rng, double label_width = 600) {
  CorpusPhoto photo{std::move(name), std::move(group), background(1600, 1200, rng), {corpus_id(n)}};
  warp_onto(photo.image, render_label(corpus_id(n), corpus_url(n)),
            placed(800, 600, label_width, label_width * 2 / 3, degrees, tilt));
  return photo;
}

// The whole corpus, deterministic. About 90 photos, 120 labels.
inline std::vector<CorpusPhoto> make_corpus() {
  std::mt19937 rng(20261123);
  std::vector<CorpusPhoto> corpus;
  std::uint32_t n = 0;
  // The bare label as rendered.
  corpus.push_back({"label", "label", render_label(corpus_id(n), corpus_url(n)), {corpus_id(n)}});
  ++n;
  for (int deg = 0; deg < 360; deg += 15) {
    corpus.push_back(single(n++, "rotate-" + std::to_string(deg), "rotation", deg, 0, rng));
  }
  const std::array<std::pair<double, double>, 6> perspective{
      {{0, 0.25}, {20, 0.2}, {-35, 0.3}, {100, 0.2}, {200, 0.35}, {290, 0.15}}};
  for (const auto& [deg, tilt] : perspective) {
    corpus.push_back(
        single(n++, "perspective-" + std::to_string(static_cast<int>(deg)), "perspective", deg, tilt, rng));
  }
  for (int i = 0; i < 6; ++i) {
    auto p = single(n++, "blur-" + std::to_string(i), "blur", i * 37.0, 0, rng);
    // A 3 px box or a Gaussian of sigma ~1.4 px on 3 px modules: a slightly defocused photo.
    if (i % 2 == 0) {
      box_blur(p.image, 1);
    } else {
      gaussian_blur(p.image, 1);
    }
    corpus.push_back(std::move(p));
  }
  for (int i = 0; i < 4; ++i) {
    auto p = single(n++, "noise-" + std::to_string(i), "noise", i * 53.0, 0, rng);
    add_noise(p.image, 12.0 + 8.0 * i, rng);
    corpus.push_back(std::move(p));
  }
  for (int i = 0; i < 4; ++i) {
    auto p = single(n++, "contrast-" + std::to_string(i), "low contrast", i * 71.0, 0, rng);
    low_contrast(p.image, 90 + 10 * i, 150 + 5 * i);
    corpus.push_back(std::move(p));
  }
  for (int i = 0; i < 4; ++i) {
    auto p = single(n++, "glare-" + std::to_string(i), "glare", i * 29.0, 0.1, rng);
    glare(p.image, 700 + 60 * i, 520 - 30 * i, 160, 0.8);
    corpus.push_back(std::move(p));
  }
  for (int i = 0; i < 6; ++i) {
    auto p = single(n++, "jpeg30-" + std::to_string(i), "jpeg q30", i * 61.0, 0.1 * (i % 3), rng);
    p.image = jpeg_round_trip(p.image, 30);
    corpus.push_back(std::move(p));
  }
  // A stack of envelopes: five labels, each ~380 px wide, on a 1600x1200 photo at different angles.
  const std::array<Point, 5> centres{Point{300, 280}, Point{800, 300}, Point{1300, 280}, Point{520, 880},
                                     Point{1100, 880}};
  for (int photo_index = 0; photo_index < 4; ++photo_index) {
    CorpusPhoto photo{"multi-" + std::to_string(photo_index), "five per photo", background(1600, 1200, rng), {}};
    for (int k = 0; k < 5; ++k) {
      const double deg = (photo_index * 5 + k) * 23.0;
      warp_onto(photo.image, render_label(corpus_id(n), corpus_url(n)),
                placed(centres[k].x, centres[k].y, 380, 253, deg, 0.05 * (k % 3)));
      photo.expected_ids.push_back(corpus_id(n++));
    }
    if (photo_index == 3) photo.image = jpeg_round_trip(photo.image, 30);
    corpus.push_back(std::move(photo));
  }
  // Labels at 1/10 of the photo's width: a 4000x3000 phone photo with a 400 px label.
  for (int i = 0; i < 2; ++i) {
    CorpusPhoto photo{"small-" + std::to_string(i), "1/10 of the photo", background(4000, 3000, rng), {}};
    for (int k = 0; k < 2; ++k) {
      warp_onto(photo.image, render_label(corpus_id(n), corpus_url(n)),
                placed(1000 + 2000 * k, 900 + 1200 * i, 400, 267, i * 40.0 + k * 65.0, 0.1));
      photo.expected_ids.push_back(corpus_id(n++));
    }
    corpus.push_back(std::move(photo));
  }
#ifdef DPOST_CORPUS_HAS_REAL_LABELS
  // The labels the server really prints (shared/label.hpp, 100 x 150 mm at 203 dpi), flat and photographed.
  for (int i = 0; i < 4; ++i) {
    LabelData data;
    data.item_id = corpus_id(n);
    data.tracking_url = corpus_url(n);
    data.sender = {"Nguyễn Văn An", {"Số 12 ngõ 5, phường Kim Mã, quận Ba Đình, Hà Nội"}};
    data.recipient = {"Bộ phận một cửa quận Ba Đình", {"000.00.01.H26"}};
    data.procedure_code = "1.005129";
    data.procedure_name = "Cấp phiếu lý lịch tư pháp";
    data.date = "23/11/2026";
    const std::string png = dpost::render_label(data, LabelFormat::png, 203);
    auto label = scanner::load_image(std::span(reinterpret_cast<const std::uint8_t*>(png.data()), png.size()));
    if (!label) continue;
    if (i == 0) {
      corpus.push_back({"real-label", "real label", std::move(*label), {corpus_id(n++)}});
      continue;
    }
    CorpusPhoto photo{"real-photo-" + std::to_string(i), "real label", background(2400, 1800, rng), {corpus_id(n)}};
    const double h = 1500.0;
    const double w = h * label->width / label->height;
    warp_onto(photo.image, *label, placed(1200, 900, w, h, i * 55.0 - 20.0, 0.1 * (i - 1)));
    if (i == 3) photo.image = jpeg_round_trip(photo.image, 30);
    ++n;
    corpus.push_back(std::move(photo));
  }
#endif
  return corpus;
}

}  // namespace dpost::scanner_corpus
