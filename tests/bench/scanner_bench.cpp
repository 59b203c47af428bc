#include "scanner_bench.hpp"

#include "../scanner_corpus/label_corpus.hpp"
#include "decode.hpp"
#include "image.hpp"

#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dpost::bench {

namespace {

namespace fs = std::filesystem;
using scanner::GrayImage;
using Clock = std::chrono::steady_clock;

double median_ms(int repeat, const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    work();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// The baseline: one ZXing call with the formats of our labels and downscaling off (on, ZXing 1.4 aborts).
// `fast`: tryHarder off, the hints of our first pass.
ZXing::Results bare_zxing(const GrayImage& image, bool fast = false) {
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::QRCode);
  hints.setTryDownscale(false);
  hints.setTryHarder(!fast);
  return ZXing::ReadBarcodes(ZXing::ImageView(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum),
                             hints);
}

bool have_zbarimg() {
  return std::system("command -v zbarimg >/dev/null 2>&1") == 0;
}

// zbarimg's codes for one file (Code 128 and QR only, as it would be configured for our labels).
std::vector<std::string> zbarimg(const std::string& file) {
  const std::string command =
      "zbarimg --quiet --raw -Sdisable -Scode128.enable -Sqrcode.enable '" + file + "' 2>/dev/null";
  std::vector<std::string> out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    out.push_back(text);
  }
  pclose(pipe);
  return out;
}

void write_png(const GrayImage& image, const std::string& path) {
  stbi_write_png(path.c_str(), image.width, image.height, 1, image.pixels.data(), image.width);
}

struct Tally {
  int read = 0;
  int wrong = 0;
  double ms = 0;
};

void count(const std::vector<std::string>& found, const std::vector<std::string>& expected, Tally& tally) {
  for (const auto& id : expected) tally.read += std::count(found.begin(), found.end(), id) > 0 ? 1 : 0;
  for (const auto& text : found) {
    // A wrong id is one of ours (parses as a VN S10 id) that is not on the photo; tracking URLs do not count.
    if (ItemId::parse(text) && std::find(expected.begin(), expected.end(), text) == expected.end()) ++tally.wrong;
  }
}

}  // namespace

int run_scanner_bench(int argc, char** argv) {
  int repeat = 15;
  std::string out_dir;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (a == "scanner") {
      continue;
    } else {
      std::fprintf(stderr, "usage: dossier-bench scanner [--repeat N] [--out DIR]\n");
      return 2;
    }
  }
  if (out_dir.empty()) out_dir = (fs::temp_directory_path() / "dpost-scanner-bench").string();
  fs::create_directories(out_dir);
  const bool zbar = have_zbarimg();
  if (!zbar) std::printf("zbarimg not found (apt-get install zbar-tools): its columns are skipped\n");

  auto corpus = scanner_corpus::make_corpus();
  std::mt19937 rng(7);
  struct Case {
    std::string name;
    GrayImage image;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"label 600x400", scanner_corpus::render_label(scanner_corpus::corpus_id(900), scanner_corpus::corpus_url(900))});
  cases.push_back({"photo 1600x1200, 1 label", scanner_corpus::single(901, "one", "one", 0, 0, rng).image});
  for (const auto& p : corpus) {
    if (p.name == "multi-0") cases.push_back({"photo 1600x1200, 5 labels", p.image});
  }

  std::printf("\nscanner decode time per photo (median of %d)\n", repeat);
  std::printf("bare zxing: one ReadBarcodes(Code128|QRCode, tryDownscale off) with tryHarder on (default) / off\n");
  std::printf("%-28s %9s %9s %9s %8s %8s %11s %12s\n", "case", "ours ms", "zx ms", "zx-fast", "ratio", "ratio-f",
              "zbarimg ms", "found o/z/b");
  for (const auto& c : cases) {
    std::size_t ours_found = 0;
    std::size_t bare_found = 0;
    const double ours = median_ms(repeat, [&] { ours_found = scanner::decode_labels(c.image).ids.size(); });
    const double bare = median_ms(repeat, [&] {
      bare_found = 0;
      for (const auto& r : bare_zxing(c.image)) bare_found += ItemId::parse(r.text()) ? 1 : 0;
    });
    const double bare_fast = median_ms(repeat, [&] { bare_zxing(c.image, true); });
    double zbar_ms = 0;
    std::size_t zbar_found = 0;
    if (zbar) {
      const std::string file = out_dir + "/case.png";
      write_png(c.image, file);
      zbar_ms = median_ms(std::min(repeat, 5), [&] {
        zbar_found = 0;
        for (const auto& t : zbarimg(file)) zbar_found += ItemId::parse(t) ? 1 : 0;
      });
    }
    std::printf("%-28s %9.2f %9.2f %9.2f %8.2f %8.2f %11.1f %6zu/%zu/%zu\n", c.name.c_str(), ours, bare, bare_fast,
                ours / bare, ours / bare_fast, zbar_ms, ours_found, bare_found, zbar_found);
  }

  Tally ours;
  Tally bare;
  Tally zbar_tally;
  int labels = 0;
  for (const auto& p : corpus) {
    labels += static_cast<int>(p.expected_ids.size());
    auto t0 = Clock::now();
    std::vector<std::string> found;
    for (const auto& id : scanner::decode_labels(p.image).ids) found.push_back(id.str());
    ours.ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    count(found, p.expected_ids, ours);
    t0 = Clock::now();
    found.clear();
    for (const auto& r : bare_zxing(p.image)) found.push_back(r.text());
    bare.ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    count(found, p.expected_ids, bare);
    if (zbar) {
      const std::string file = out_dir + "/" + p.name + ".png";
      write_png(p.image, file);
      t0 = Clock::now();
      found = zbarimg(file);
      zbar_tally.ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      count(found, p.expected_ids, zbar_tally);
    }
  }
  std::printf("\nscanner corpus: %zu photos, %d labels\n", corpus.size(), labels);
  std::printf("%-12s %8s %8s %8s %12s\n", "decoder", "read", "rate %", "wrong", "ms/photo");
  auto row = [&](const char* name, const Tally& t) {
    std::printf("%-12s %8d %8.1f %8d %12.1f\n", name, t.read, 100.0 * t.read / labels, t.wrong,
                t.ms / static_cast<double>(corpus.size()));
  };
  row("ours", ours);
  row("bare zxing", bare);
  if (zbar) row("zbarimg", zbar_tally);
  std::printf("(photos written to %s for zbarimg)\n", out_dir.c_str());
  return 0;
}

}  // namespace dpost::bench
