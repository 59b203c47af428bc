#include "label_bench.hpp"

#include "item_id.hpp"
#include "label.hpp"
#include "raster.hpp"

#include <ZXing/BitMatrix.h>
#include <ZXing/ImageView.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dpost::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double ms_per_op = 0;
  double ops_per_second = 0;
  std::size_t bytes = 0;
};

// Runs `op` until both `min_iterations` and `min_seconds` are reached (after one warm-up call, which also loads
// the fonts), and reports the mean.
Timing measure(int min_iterations, double min_seconds, const std::function<std::size_t()>& op) {
  Timing t;
  t.bytes = op();
  const auto start = Clock::now();
  int n = 0;
  double elapsed = 0;
  do {
    t.bytes = op();
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (n < min_iterations || elapsed < min_seconds);
  t.ms_per_op = elapsed * 1000 / n;
  t.ops_per_second = n / elapsed;
  return t;
}

LabelData bench_label(int i) {
  LabelData d;
  d.item_id = ItemId::make("EH", static_cast<std::uint32_t>(1000 + i))->str();
  d.kind = ItemKind::result;
  d.tracking_url = "https://tracuu.example.vn/t/Zm9vYmFyYmF6cXV4MTIzNDU";
  d.sender = {"Trung tâm Phục vụ hành chính công quận Ba Đình",
              {"Số 25 Liễu Giai, phường Ngọc Khánh, quận Ba Đình, Hà Nội", "Mã định danh: 000.00.01.H26"}};
  d.recipient = {"Nguyễn Thị Ngọc Ánh", {"Số 12 ngõ 5 Kim Mã, phường Kim Mã, quận Ba Đình, Hà Nội", "ĐT: *******678"}};
  d.procedure_code = "1.005129";
  d.procedure_name = "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam";
  d.dossier_code = "H15.50.05.13-261008-0975";
  d.service = ServiceOption::both;
  d.date = "23/11/2026";
  return d;
}

int usage() {
  std::fprintf(stderr, "usage: bench labels [--iterations N] [--seconds S]\n");
  return 2;
}

}  // namespace

int run_label_bench(int argc, char** argv) {
  int iterations = 50;
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "labels") continue;  // the sub-command name, when main passes it on
    if (i + 1 >= argc) return usage();
    if (arg == "--iterations") {
      iterations = std::atoi(argv[++i]);
    } else if (arg == "--seconds") {
      seconds = std::atof(argv[++i]);
    } else {
      return usage();
    }
    if (iterations < 1 || seconds < 0) return usage();
  }

  const auto label = bench_label(0);
  std::printf("labels: one thread, >= %d iterations and >= %.1f s per row\n", iterations, seconds);

  // Baseline: the same two symbols encoded by ZXing alone, no drawing.
  const auto encode = measure(iterations, seconds, [&] {
    auto code = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::Code128).setMargin(0).encode(label.item_id, 0, 0);
    auto qr = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode)
                  .setMargin(0)
                  .setEccLevel(4)
                  .encode(label.tracking_url, 0, 0);
    return static_cast<std::size_t>(code.width() + qr.width());
  });
  std::printf("  %-30s %9.3f ms %10.0f /s %10s  (baseline)\n", "zxing encode code128+qr", encode.ms_per_op,
              encode.ops_per_second, "");

  struct Row {
    const char* name;
    std::function<std::size_t()> op;
    double goal_ms;  // 0: none
  };
  const std::vector<LabelData> sheet(4, label);
  ReceiptData receipt;
  receipt.item_id = label.item_id;
  receipt.tracking_url = label.tracking_url;
  receipt.procedure_name = label.procedure_name;
  receipt.applicant_name = "Nguyễn Thị Ngọc Ánh";
  receipt.office_name = "Trung tâm Phục vụ hành chính công quận Ba Đình";
  receipt.documents = {{"Tờ khai", "Bản chính", 1}, {"Căn cước công dân", "Bản sao chứng thực", 1}};
  receipt.fee_vnd = 50000;
  const Row rows[] = {
      {"png 203 dpi", [&] { return render_label(label, LabelFormat::png, 203).size(); }, 5},
      {"png 300 dpi", [&] { return render_label(label, LabelFormat::png, 300).size(); }, 0},
      {"svg", [&] { return render_label(label, LabelFormat::svg).size(); }, 0},
      {"pdf", [&] { return render_label(label, LabelFormat::pdf).size(); }, 10},
      {"zpl 203 dpi", [&] { return render_label(label, LabelFormat::zpl, 203).size(); }, 0},
      {"zpl 300 dpi", [&] { return render_label(label, LabelFormat::zpl, 300).size(); }, 0},
      {"pdf A4 sheet (4 labels)", [&] { return render_label_sheet(sheet).size(); }, 0},
      {"pdf receipt", [&] { return render_receipt(receipt).size(); }, 0},
  };
  bool goals_met = true;
  for (const auto& row : rows) {
    const auto t = measure(iterations, seconds, row.op);
    std::printf("  %-30s %9.3f ms %10.0f /s %8.1fx encode %8zu bytes", row.name, t.ms_per_op, t.ops_per_second,
                t.ms_per_op / encode.ms_per_op, t.bytes);
    if (row.goal_ms > 0) {
      const bool met = t.ms_per_op < row.goal_ms;
      goals_met = goals_met && met;
      std::printf("  goal < %.0f ms: %s", row.goal_ms, met ? "met" : "MISSED");
    }
    std::printf("\n");
  }

  // Round trip: a PNG label read back by ZXing (both symbols), as a scanner app would.
  const auto png = render_label(label, LabelFormat::png, 203);
  const auto image = decode_png_gray(png);
  if (!image) {
    std::fprintf(stderr, "labels: the rendered PNG does not decode\n");
    return 1;
  }
  const auto hints = ZXing::DecodeHints()
                         .setFormats(ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::QRCode)
                         .setTryDownscale(false);
  bool round_trip_ok = true;
  const auto decode = measure(iterations, seconds, [&] {
    const auto results = ZXing::ReadBarcodes(
        ZXing::ImageView(image->pixels.data(), image->width, image->height, ZXing::ImageFormat::Lum), hints);
    int found = 0;
    for (const auto& r : results) {
      found += (r.text() == label.item_id || r.text() == label.tracking_url) ? 1 : 0;
    }
    round_trip_ok = round_trip_ok && found == 2;
    return results.size();
  });
  std::printf("  %-30s %9.3f ms %10.0f /s %8.1fx encode  %s\n", "zxing decode png 203 label", decode.ms_per_op,
              decode.ops_per_second, decode.ms_per_op / encode.ms_per_op,
              round_trip_ok ? "(both symbols read back exactly)" : "ROUND TRIP FAILED");
  return round_trip_ok && goals_met ? 0 : 1;
}

}  // namespace dpost::bench
