#pragma once

// Helpers shared by the label unit tests: fixed inputs, ZXing decoding, poppler tools.

#include "item_id.hpp"
#include "label.hpp"
#include "raster.hpp"

#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace dpost::label_test {

// Fixed inputs: goldens depend on nothing but these.
inline LabelData sample_label(ItemKind kind = ItemKind::result, std::string item_id = "EE123456785VN") {
  LabelData d;
  d.item_id = std::move(item_id);
  d.kind = kind;
  d.tracking_url = "https://tracuu.example.vn/t/Zm9vYmFyYmF6cXV4MTIzNDU";
  if (kind == ItemKind::dossier) {
    d.sender = {"Nguyễn Thị Ngọc Ánh", {address_locality("Số 12 ngõ 5 Kim Mã, phường Kim Mã, quận Ba Đình, Hà Nội")}};
    d.recipient = {"Trung tâm Phục vụ hành chính công quận Cầu Giấy",
                   {"Số 36 Cầu Giấy, phường Quan Hoa, quận Cầu Giấy, Hà Nội", "Mã định danh: 000.00.02.H26"}};
  } else {
    d.sender = {"Trung tâm Phục vụ hành chính công quận Ba Đình",
                {"Số 25 Liễu Giai, phường Ngọc Khánh, quận Ba Đình, Hà Nội", "Mã định danh: 000.00.01.H26"}};
    d.recipient = {"Nguyễn Thị Ngọc Ánh",
                   {"Số 12 ngõ 5 Kim Mã, phường Kim Mã, quận Ba Đình, thành phố Hà Nội", "ĐT: *******678"}};
  }
  d.procedure_code = "1.005129";
  d.procedure_name = "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam";
  d.dossier_code = "H15.50.05.13-261008-0975";
  d.service = ServiceOption::both;
  d.date = "23/11/2026";
  return d;
}

inline ReceiptData sample_receipt() {
  const auto label = sample_label(ItemKind::dossier);
  ReceiptData r;
  r.item_id = label.item_id;
  r.tracking_url = label.tracking_url;
  r.dossier_code = label.dossier_code;
  r.procedure_code = label.procedure_code;
  r.procedure_name = label.procedure_name;
  r.applicant_name = "Nguyễn Thị Ngọc Ánh";
  r.applicant_address = "Số 12 ngõ 5 Kim Mã, phường Kim Mã, quận Ba Đình, Hà Nội";
  r.applicant_phone = "*******678";
  r.office_name = "Trung tâm Phục vụ hành chính công quận Cầu Giấy";
  r.post_office_name = "Bưu cục Hà Nội 01";
  r.clerk_name = "Trần Văn Bình";
  r.date = "23/11/2026";
  r.due_date = "30/11/2026";
  r.fee_vnd = 50000;
  r.documents = {{"Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp (Mẫu số 03/2013/TT-LLTP)", "Bản chính", 1},
                 {"Căn cước công dân", "Bản sao chứng thực", 1},
                 {"Giấy ủy quyền", "Bản chính", 2}};
  return r;
}

// VN ids whose check digits are 0, 1, ..., 9 (index = check digit), service indicator EH.
inline std::array<std::string, 10> ids_with_every_check_digit() {
  std::array<std::string, 10> ids;
  int found = 0;
  for (std::uint32_t serial = 45; found < 10; ++serial) {
    const int digit = ItemId::check_digit(serial);
    if (ids[static_cast<std::size_t>(digit)].empty()) {
      ids[static_cast<std::size_t>(digit)] = ItemId::make("EH", serial)->str();
      ++found;
    }
  }
  return ids;
}

struct Decoded {
  std::vector<std::string> code128;
  std::vector<std::string> qr;
};

inline Decoded decode(const GrayImage& image) {
  auto hints = ZXing::DecodeHints()
                   .setFormats(ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::QRCode)
                   // ZXing 1.4 aborts on some images with downscaling on (conventions.md).
                   .setTryDownscale(false);
  Decoded out;
  for (const auto& r : ZXing::ReadBarcodes(
           ZXing::ImageView(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum), hints)) {
    if (!r.isValid()) continue;
    (r.format() == ZXing::BarcodeFormat::Code128 ? out.code128 : out.qr).push_back(r.text());
  }
  return out;
}

inline std::filesystem::path temp_dir() {
  static const auto dir = [] {
    std::random_device random;
    auto d = std::filesystem::temp_directory_path() / ("dpost-label-test-" + std::to_string(random()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// True when `tool` (pdftoppm, pdftotext) is on PATH; setup installs poppler-utils, so tests fail without it.
inline bool have_tool(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Page `page` of `pdf` rasterised by pdftoppm at `dpi`, gray.
inline std::optional<GrayImage> rasterise_pdf(const std::string& pdf, int dpi, int page = 1) {
  static int counter = 0;
  const auto base = temp_dir() / ("page-" + std::to_string(++counter));
  write_file(base.string() + ".pdf", pdf);
  const auto command = "pdftoppm -r " + std::to_string(dpi) + " -gray -png -f " + std::to_string(page) + " -l " +
                       std::to_string(page) + " -singlefile '" + base.string() + ".pdf' '" + base.string() + "'";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  auto png = read_file(base.string() + ".png");
  if (!png) return std::nullopt;
  return decode_png_gray(*png);
}

// pdftotext of the whole document (UTF-8).
inline std::optional<std::string> pdf_text(const std::string& pdf) {
  static int counter = 0;
  const auto base = temp_dir() / ("text-" + std::to_string(++counter));
  write_file(base.string() + ".pdf", pdf);
  const auto command = "pdftotext -enc UTF-8 '" + base.string() + ".pdf' '" + base.string() + ".txt'";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  return read_file(base.string() + ".txt");
}

}  // namespace dpost::label_test
