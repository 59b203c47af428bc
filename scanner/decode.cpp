#include "decode.hpp"

#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <ZXing/Result.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <set>

namespace dpost::scanner {

namespace {

// Hints shared by every pass. tryDownscale must stay off: with it ZXing 1.4 (Debian, asserts on) aborts the
// process on ordinary label photos (Result.cpp:140, upstream #740, fixed in 2.2).
ZXing::DecodeHints base_hints() {
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::QRCode);
  hints.setTryDownscale(false);
  hints.setTryRotate(true);
  hints.setTryHarder(false);
  return hints;
}

struct QrSighting {
  double cx, cy;  // centre, in full-resolution photo coordinates
  double side;    // edge length in photo pixels
  double angle;   // degrees, direction of the symbol's top edge on screen (y down)
};

// Where a pass's image came from: a level of the pyramid (`scale` photo pixels per pixel), possibly turned by
// `angle` degrees with rotate(). Maps positions found in it back to the photo.
struct Frame {
  double scale = 1;
  double angle = 0;
  double level_w = 0, level_h = 0;  // the level before rotation
  double image_w = 0, image_h = 0;  // the image ZXing saw

  ZXing::PointF to_photo(double x, double y) const {
    const double rad = angle * std::numbers::pi / 180.0;
    const double c = std::cos(rad);
    const double s = std::sin(rad);
    const double dx = x - image_w / 2;
    const double dy = y - image_h / 2;
    // The inverse of rotate(): the same mapping it samples with.
    return {scale * (c * dx - s * dy + level_w / 2), scale * (s * dx + c * dy + level_h / 2)};
  }
};

// Label regions are cut and turned around one QR code: what is read there is not placed on the photo.
constexpr Frame kRegionFrame{0, 0, 0, 0, 0, 0};

// Collects results across passes: ids and ignored texts without repeats, and where tracking QRs are.
class Collector {
 public:
  void add(const ZXing::Results& results, const Frame& frame, bool record_qr_positions) {
    for (const auto& r : results) {
      if (!r.isValid()) continue;
      const std::string text = r.text();
      if (r.format() == ZXing::BarcodeFormat::QRCode && is_tracking_link(text)) {
        if (qr_texts_.insert(text).second && record_qr_positions) qrs_.push_back(sighting(r, frame));
        continue;
      }
      if (r.format() == ZXing::BarcodeFormat::Code128) {
        linear_texts_.insert(text);
        if (frame.scale > 0) {
          const auto& p = r.position();
          const auto a = frame.to_photo(p.topLeft().x, p.topLeft().y);
          const auto b = frame.to_photo(p.bottomRight().x, p.bottomRight().y);
          linear_at_.push_back({(a.x + b.x) / 2.0, (a.y + b.y) / 2.0});
        }
      }
      auto id = ItemId::parse(text);
      if (id) {
        if (std::find(labels_.ids.begin(), labels_.ids.end(), *id) == labels_.ids.end()) labels_.ids.push_back(*id);
      } else if (std::find(labels_.ignored.begin(), labels_.ignored.end(), text) == labels_.ignored.end()) {
        labels_.ignored.push_back(text);
      }
    }
  }

  // Each of our labels carries one tracking QR and one Code 128: when fewer ids than QR codes were read, a
  // Code 128 was missed. Nothing at all also deserves a second look.
  // A label that is not ours (another carrier's Code 128) counts as read too: nothing more to find there.
  bool complete() const {
    if (linear_texts_.empty()) return false;
    return linear_texts_.size() >= qr_texts_.size();
  }

  const std::vector<QrSighting>& qrs() const { return qrs_; }
  // A Code 128 was already read on the label of this QR: nearer to it than to any other QR, and within the
  // label's reach (a label is under four QR sides from its QR's centre to its far corner).
  bool label_read(std::size_t qr_index) const {
    const auto& q = qrs_[qr_index];
    for (const auto& [x, y] : linear_at_) {
      const double d = std::hypot(x - q.cx, y - q.cy);
      if (d > 4.0 * q.side) continue;
      bool nearest = true;
      for (std::size_t j = 0; j < qrs_.size() && nearest; ++j) {
        if (j != qr_index && std::hypot(x - qrs_[j].cx, y - qrs_[j].cy) < d) nearest = false;
      }
      if (nearest) return true;
    }
    return false;
  }
  std::size_t id_count() const { return labels_.ids.size(); }
  DecodedLabels take() { return std::move(labels_); }

 private:
  static QrSighting sighting(const ZXing::Result& r, const Frame& frame) {
    const auto& p = r.position();
    const auto tl = frame.to_photo(p.topLeft().x, p.topLeft().y);
    const auto tr = frame.to_photo(p.topRight().x, p.topRight().y);
    const auto br = frame.to_photo(p.bottomRight().x, p.bottomRight().y);
    const auto bl = frame.to_photo(p.bottomLeft().x, p.bottomLeft().y);
    QrSighting s{};
    s.cx = (tl.x + tr.x + br.x + bl.x) / 4.0;
    s.cy = (tl.y + tr.y + br.y + bl.y) / 4.0;
    s.side = (std::hypot(tr.x - tl.x, tr.y - tl.y) + std::hypot(bl.x - tl.x, bl.y - tl.y)) / 2.0;
    s.angle = std::atan2(tr.y - tl.y, tr.x - tl.x) * 180.0 / std::numbers::pi;
    return s;
  }

  DecodedLabels labels_;
  std::set<std::string> qr_texts_;
  std::set<std::string> linear_texts_;
  std::vector<QrSighting> qrs_;
  std::vector<std::pair<double, double>> linear_at_;  // centres of Code 128 symbols read in full-photo frames
};

ZXing::Results read(const GrayImage& image, const ZXing::DecodeHints& hints) {
  if (image.empty()) return {};
  return ZXing::ReadBarcodes(ZXing::ImageView(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum),
                             hints);
}

// Maps the label's black..white (measured inside its QR code, which is half dark and half light) to 0..255.
// ZXing's local-average binarizer treats a block with a small range as flat, so a faded print under dim light
// would otherwise read as blank paper.
void stretch_contrast(GrayImage& image, int sample_side) {
  const GrayImage sample =
      crop(image, (image.width - sample_side) / 2, (image.height - sample_side) / 2, sample_side, sample_side);
  if (sample.empty()) return;
  std::array<std::size_t, 256> histogram{};
  for (auto p : sample.pixels) ++histogram[p];
  const std::size_t cut = sample.pixels.size() / 20;
  int lo = 0;
  int hi = 255;
  for (std::size_t sum = 0; lo < 255 && (sum += histogram[static_cast<std::size_t>(lo)]) <= cut;) ++lo;
  for (std::size_t sum = 0; hi > 0 && (sum += histogram[static_cast<std::size_t>(hi)]) <= cut;) --hi;
  if (hi - lo < 8) return;
  std::array<std::uint8_t, 256> map{};
  for (int v = 0; v < 256; ++v) {
    map[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp((v - lo) * 255 / (hi - lo), 0, 255));
  }
  for (auto& p : image.pixels) p = map[p];
}

// Stretches each 32x32 block between the darkest and lightest grey of its 3x3 block neighbourhood: a faded
// label on a grey desk gets black bars on white paper, so QR finder patterns and bar edges reappear for the
// binarizer. Flat blocks (range under 12) are left as paper.
GrayImage normalize_local(const GrayImage& image) {
  constexpr int kBlock = 32;
  const int bw = (image.width + kBlock - 1) / kBlock;
  const int bh = (image.height + kBlock - 1) / kBlock;
  std::vector<std::uint8_t> lo(static_cast<std::size_t>(bw * bh), 255);
  std::vector<std::uint8_t> hi(static_cast<std::size_t>(bw * bh), 0);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const auto b = static_cast<std::size_t>((y / kBlock) * bw + x / kBlock);
      const auto v = image.at(x, y);
      lo[b] = std::min(lo[b], v);
      hi[b] = std::max(hi[b], v);
    }
  }
  GrayImage out(image.width, image.height);
  for (int by = 0; by < bh; ++by) {
    for (int bx = 0; bx < bw; ++bx) {
      int l = 255;
      int h = 0;
      for (int ny = std::max(0, by - 1); ny <= std::min(bh - 1, by + 1); ++ny) {
        for (int nx = std::max(0, bx - 1); nx <= std::min(bw - 1, bx + 1); ++nx) {
          l = std::min<int>(l, lo[static_cast<std::size_t>(ny * bw + nx)]);
          h = std::max<int>(h, hi[static_cast<std::size_t>(ny * bw + nx)]);
        }
      }
      for (int y = by * kBlock; y < std::min(image.height, (by + 1) * kBlock); ++y) {
        for (int x = bx * kBlock; x < std::min(image.width, (bx + 1) * kBlock); ++x) {
          out.at(x, y) = h - l < 12 ? 255 : static_cast<std::uint8_t>((image.at(x, y) - l) * 255 / (h - l));
        }
      }
    }
  }
  return out;
}

// The region around a QR code, sampled from the full-resolution photo turned so that the QR code (and so the
// label and its Code 128) is upright, enlarged `zoom` times (more samples per narrow bar). One pass
// of fixed-point bilinear sampling: cutting, turning and enlarging as separate copies cost 10x the ZXing read.
GrayImage label_region(const GrayImage& photo, const QrSighting& qr, double zoom) {
  // From the QR's centre our label reaches 3.6 QR sides up to the far end of its Code 128 (100 x 150 mm
  // label, 30 mm QR bottom right, Code 128 at the top); 4.5 leaves room for perspective.
  const double radius = qr.side * 4.5;
  const int size = std::min(4000, static_cast<int>(2 * radius * zoom));
  GrayImage region(size, size, 255);
  if (size <= 0) return region;
  const double rad = qr.angle * std::numbers::pi / 180.0;
  const double c = std::cos(rad) / zoom;
  const double s = std::sin(rad) / zoom;
  constexpr double kOne = 65536.0;
  const auto step_x = static_cast<std::int64_t>(std::llround(c * kOne));
  const auto step_y = static_cast<std::int64_t>(std::llround(s * kOne));
  const std::int64_t max_x = static_cast<std::int64_t>(photo.width - 1) << 16;
  const std::int64_t max_y = static_cast<std::int64_t>(photo.height - 1) << 16;
  const double half = size / 2.0;
  for (int y = 0; y < size; ++y) {
    const double dy = y + 0.5 - half;
    const double dx = 0.5 - half;
    // Source position of the row's first pixel (the same inverse mapping rotate() uses), in 16.16 fixed point.
    auto sx = static_cast<std::int64_t>(std::llround((c * dx - s * dy + qr.cx - 0.5) * kOne));
    auto sy = static_cast<std::int64_t>(std::llround((s * dx + c * dy + qr.cy - 0.5) * kOne));
    std::uint8_t* row = &region.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(size)];
    for (int x = 0; x < size; ++x, sx += step_x, sy += step_y) {
      if (sx < 0 || sy < 0 || sx > max_x || sy > max_y) continue;
      const int x0 = static_cast<int>(sx >> 16);
      const int y0 = static_cast<int>(sy >> 16);
      const int x1 = std::min(x0 + 1, photo.width - 1);
      const int y1 = std::min(y0 + 1, photo.height - 1);
      const int fx = static_cast<int>((sx >> 8) & 0xff);
      const int fy = static_cast<int>((sy >> 8) & 0xff);
      const int top = photo.at(x0, y0) * (256 - fx) + photo.at(x1, y0) * fx;
      const int bottom = photo.at(x0, y1) * (256 - fx) + photo.at(x1, y1) * fx;
      row[x] = static_cast<std::uint8_t>((top * (256 - fy) + bottom * fy + 32768) >> 16);
    }
  }
  stretch_contrast(region, static_cast<int>(qr.side * zoom * 0.8));
  return region;
}

}  // namespace

bool is_tracking_link(std::string_view text) {
  const bool web = text.starts_with("http://") || text.starts_with("https://");
  const auto slash_t = text.rfind("/t/");
  return web && slash_t != std::string_view::npos && slash_t + 3 < text.size() &&
         text.find('/', slash_t + 3) == std::string_view::npos;
}

DecodedLabels decode_labels(const GrayImage& photo, const DecodeOptions& options) {
  Collector found;
  if (photo.empty()) return found.take();

  // A pyramid of 2x2 box-filtered copies: `work` (<= work_width) for the cheap first look, `detail`
  // (<= 2 x work_width) where a label's Code 128 still has about two pixels per module.
  std::vector<GrayImage> levels;
  std::vector<int> scales{1};
  auto level = [&](std::size_t i) -> const GrayImage& { return i == 0 ? photo : levels[i - 1]; };
  while (level(scales.size() - 1).width > options.work_width && level(scales.size() - 1).height >= 4) {
    levels.push_back(halve(level(scales.size() - 1)));
    scales.push_back(scales.back() * 2);
  }
  const std::size_t work_index = scales.size() - 1;
  const std::size_t detail_index = work_index > 0 ? work_index - 1 : 0;

  // Reads level `index` turned by `angle` degrees and records what it finds, QR positions in photo coordinates.
  auto read_level = [&](std::size_t index, double angle, const ZXing::DecodeHints& hints) {
    const GrayImage& source = level(index);
    Frame frame{static_cast<double>(scales[index]), angle,
                static_cast<double>(source.width),  static_cast<double>(source.height),
                static_cast<double>(source.width),  static_cast<double>(source.height)};
    if (angle == 0) {
      found.add(read(source, hints), frame, true);
      return;
    }
    const GrayImage turned = rotate(source, angle);
    frame.image_w = turned.width;
    frame.image_h = turned.height;
    found.add(read(turned, hints), frame, true);
  };
  std::size_t qrs_done = 0;
  // Each tracking QR tells where a label is and how it is turned: read that region upright, contrast
  // stretched, at full resolution. Cheap, and it copes with small, faded or tilted labels.
  auto read_qr_regions = [&](const ZXing::DecodeHints& hints) {
    // The region is turned upright by the QR's angle, so its Code 128 runs along the rows: no QR search and
    // no rotated retry are needed there.
    auto region_hints = hints;
    region_hints.setFormats(ZXing::BarcodeFormat::Code128);
    region_hints.setTryRotate(false);
    for (; qrs_done < found.qrs().size(); ++qrs_done) {
      if (found.label_read(qrs_done)) continue;
      const QrSighting qr = found.qrs()[qrs_done];  // a copy: add() may grow the vector
      // At the photo's own resolution first; enlarged 2x (more samples per bar) when that reads nothing and the
      // label is small.
      for (const double zoom : {1.0, 2.0}) {
        if (zoom > 1 && qr.side >= 150) break;
        const GrayImage region = label_region(photo, qr, zoom);
        const std::size_t before = found.id_count();
        found.add(read(region, region_hints), kRegionFrame, false);
        if (found.complete()) return true;
        if (found.id_count() > before) break;
        // The region is stretched to the QR's own black and white, so a fixed mid-grey threshold is sound, and
        // it keeps narrow bars that JPEG ringing blurs for the local-average binarizer.
        auto fixed = region_hints;
        fixed.setBinarizer(ZXing::Binarizer::FixedThreshold);
        found.add(read(region, fixed), kRegionFrame, false);
        if (found.complete()) return true;
        if (found.id_count() > before) break;
      }
    }
    return false;
  };

  // Pass 1, fast: Code 128 near 0/90/180/270 degrees and the QR codes of well-sized labels. A label scanned
  // flat (no downscaling needed) that gives its id and QR here is done: the common case stays a bare ZXing call.
  const auto hints = base_hints();
  read_level(work_index, 0, hints);
  if (options.fast_pass_only || (work_index == 0 && found.complete())) return found.take();

  // Pass 2: count the labels. A photo may hold a stack of envelopes; their QR codes are found at any angle, and
  // every one of them should yield an id. tryHarder scans every row for finder patterns.
  auto qr_hints = hints;
  qr_hints.setFormats(ZXing::BarcodeFormat::QRCode);
  qr_hints.setTryHarder(true);
  // The QR codes come from the tryHarder QR pass below; here only the Code 128s the first look was too coarse for.
  auto linear_hints = hints;
  linear_hints.setFormats(ZXing::BarcodeFormat::Code128);
  if (detail_index != work_index) read_level(detail_index, 0, linear_hints);
  read_level(detail_index, 0, qr_hints);
  if (found.qrs().empty() && detail_index > 0) read_level(0, 0, qr_hints);  // small labels in a large photo
  if (found.qrs().empty()) {
    // Faded print or dim light: the labels' QR codes may only appear after a local contrast stretch.
    const GrayImage& source = level(detail_index);
    const double w = source.width;
    const double h = source.height;
    found.add(read(normalize_local(source), qr_hints), Frame{static_cast<double>(scales[detail_index]), 0, w, h, w, h},
              true);
  }
  if (found.complete() || read_qr_regions(hints)) return found.take();

  // Pass 3: labels whose QR was not read (glare, blur): turn the image step by step.
  for (int angle = options.rotation_step_degrees; angle < 90; angle += options.rotation_step_degrees) {
    read_level(detail_index, angle, hints);
    if (found.complete() || read_qr_regions(hints)) return found.take();
  }

  // Pass 4: tryHarder scans every row and tolerates blur, at several times the cost.
  auto harder = hints;
  harder.setTryHarder(true);
  qrs_done = 0;
  if (read_qr_regions(harder)) return found.take();
  for (int angle = 0; angle < 90; angle += options.rotation_step_degrees) {
    read_level(detail_index, angle, harder);
    if (found.complete() || read_qr_regions(harder)) return found.take();
  }
  return found.take();
}

FileDecode decode_file(const std::string& path, const DecodeOptions& options) {
  FileDecode out;
  out.file = path;
  auto image = load_image(path);
  if (!image) {
    out.error = image.error();
    return out;
  }
  out.labels = decode_labels(*image, options);
  return out;
}

}  // namespace dpost::scanner
