// Label and receipt renderers: formats and helpers, golden SVG and ZPL, Vietnamese text surviving into PDF and
// ZPL, and what must never be printed.
#include "label_test_util.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

using namespace dpost;
using namespace dpost::label_test;

namespace {

std::filesystem::path golden_dir() {
  // From the build's source path, not __FILE__: ccache with CCACHE_BASEDIR makes __FILE__ relative.
  return std::filesystem::path(DPOST_TESTDATA_DIR).parent_path() / "golden";
}

// Compares with tests/golden/NAME exactly; DPOST_UPDATE_GOLDEN=1 rewrites the file instead.
void check_golden(const std::string& name, const std::string& actual) {
  const auto path = golden_dir() / name;
  const char* update = std::getenv("DPOST_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    write_file(path, actual);
    MESSAGE("rewrote " << path.string());
    return;
  }
  const auto expected = read_file(path);
  INFO("golden " << path.string() << " (DPOST_UPDATE_GOLDEN=1 rewrites it after a deliberate change)");
  REQUIRE(expected.has_value());
  if (*expected != actual) {
    const auto mismatch = std::mismatch(expected->begin(), expected->end(), actual.begin(), actual.end());
    const auto at = static_cast<std::size_t>(mismatch.first - expected->begin());
    write_file(temp_dir() / name, actual);
    FAIL_CHECK("differs from the golden at byte " << at << " (sizes " << expected->size() << " and " << actual.size()
                                                  << "); actual written to " << (temp_dir() / name).string());
  }
}

}  // namespace

TEST_CASE("label: formats, content types, dpi") {
  CHECK(parse_label_format("png") == LabelFormat::png);
  CHECK(parse_label_format("svg") == LabelFormat::svg);
  CHECK(parse_label_format("pdf") == LabelFormat::pdf);
  CHECK(parse_label_format("zpl") == LabelFormat::zpl);
  CHECK_FALSE(parse_label_format("PNG").has_value());
  CHECK_FALSE(parse_label_format("jpg").has_value());
  CHECK(content_type(LabelFormat::png) == "image/png");
  CHECK(content_type(LabelFormat::svg) == "image/svg+xml");
  CHECK(content_type(LabelFormat::pdf) == "application/pdf");
  CHECK(content_type(LabelFormat::zpl) == "text/plain; charset=utf-8");
  CHECK(is_supported_dpi(203));
  CHECK(is_supported_dpi(300));
  CHECK_FALSE(is_supported_dpi(600));
  CHECK_THROWS_AS(render_label(sample_label(), LabelFormat::png, 600), std::invalid_argument);
}

TEST_CASE("label: text helpers") {
  CHECK(format_vnd(50000) == "50.000 ₫");
  CHECK(format_vnd(0) == "0 ₫");
  CHECK(format_vnd(999) == "999 ₫");
  CHECK(format_vnd(1000) == "1.000 ₫");
  CHECK(format_vnd(100000000) == "100.000.000 ₫");
  CHECK(format_date_dmy("2026-11-23") == "23/11/2026");
  CHECK(format_date_dmy("soon") == "soon");
  CHECK(address_locality("Số 12 ngõ 5, phường Kim Mã, quận Ba Đình, Hà Nội") == "phường Kim Mã, quận Ba Đình, Hà Nội");
  CHECK(address_locality("Ba Đình, Hà Nội") == "Ba Đình, Hà Nội");
  CHECK(address_locality(" Số 1 ,  Ba Đình ,Hà Nội ") == "Ba Đình, Hà Nội");
  CHECK(address_locality("") == "");
  CHECK(label_kind_vi(ItemKind::dossier) == "HỒ SƠ");
  CHECK(label_kind_vi(ItemKind::result) == "KẾT QUẢ");
  CHECK(describe_vi(ServiceOption::both) == "Gửi hồ sơ và nhận kết quả");
}

TEST_CASE("label: every format renders, PNG is a 1-bit PNG with the printer's dpi") {
  const auto label = sample_label();
  const auto png = render_label(label, LabelFormat::png, 203);
  REQUIRE(png.size() > 8);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(static_cast<unsigned char>(png[24]) == 1);  // IHDR bit depth
  CHECK(png.size() < 60'000);
  const auto svg = render_label(label, LabelFormat::svg);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("width=\"100mm\" height=\"150mm\"") != std::string::npos);
  const auto pdf = render_label(label, LabelFormat::pdf);
  CHECK(pdf.compare(0, 5, "%PDF-") == 0);
  CHECK(pdf.find("/FontFile2") != std::string::npos);  // the font subset is embedded
}

TEST_CASE("label: the 1-bit PNG is ink exactly where coverage is at least 50 %") {
  // Widths around a multiple of 8 (the packing works 8 pixels at a time), a stride wider than the row, and
  // coverage values on both sides of the threshold.
  for (int width : {1, 7, 8, 9, 16, 61, 799}) {
    CAPTURE(width);
    const int height = 5, stride = width + 11;
    std::vector<std::uint8_t> coverage(static_cast<std::size_t>(stride * height), 200);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        coverage[static_cast<std::size_t>(y * stride + x)] = static_cast<std::uint8_t>((x * 37 + y * 101) % 256);
      }
    }
    const auto image = decode_png_gray(encode_png_1bit(coverage.data(), width, height, stride, 203));
    REQUIRE(image.has_value());
    REQUIRE(image->width == width);
    REQUIRE(image->height == height);
    int wrong = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const bool ink = coverage[static_cast<std::size_t>(y * stride + x)] >= 128;
        wrong += (image->pixels[static_cast<std::size_t>(y * width + x)] == 0) != ink ? 1 : 0;
      }
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("label: rendering is deterministic") {
  const auto label = sample_label();
  CHECK(render_label(label, LabelFormat::svg) == render_label(label, LabelFormat::svg));
  CHECK(render_label(label, LabelFormat::png, 300) == render_label(label, LabelFormat::png, 300));
  CHECK(render_label(label, LabelFormat::zpl, 203) == render_label(label, LabelFormat::zpl, 203));
}

TEST_CASE("label: golden SVG and ZPL") {
  check_golden("label_result.svg", render_label(sample_label(ItemKind::result), LabelFormat::svg));
  check_golden("label_result_203.zpl", render_label(sample_label(ItemKind::result), LabelFormat::zpl, 203));
  check_golden("label_result_300.zpl", render_label(sample_label(ItemKind::result), LabelFormat::zpl, 300));
  check_golden("label_dossier_203.zpl", render_label(sample_label(ItemKind::dossier), LabelFormat::zpl, 203));
}

TEST_CASE("label: ZPL uses the printer's own symbols and UTF-8 text") {
  const auto label = sample_label(ItemKind::result);
  for (int dpi : {203, 300}) {
    CAPTURE(dpi);
    const auto zpl = render_label(label, LabelFormat::zpl, dpi);
    CHECK(zpl.rfind("^XA\n^CI28\n", 0) == 0);
    CHECK(zpl.find("^XZ") != std::string::npos);
    CHECK(zpl.find("^PW" + std::to_string(dpi == 203 ? 799 : 1181)) != std::string::npos);
    // Code 128 in code sets B, C, B: EE | 12345678 | 5VN.
    CHECK(zpl.find("^BCN,") != std::string::npos);
    CHECK(zpl.find("^FD>:EE>512345678>65VN^FS") != std::string::npos);
    CHECK(zpl.find("^BY" + std::string(dpi == 203 ? "4" : "6") + ",") != std::string::npos);
    // QR, error correction M, automatic data mode.
    CHECK(zpl.find("^BQN,2,") != std::string::npos);
    CHECK(zpl.find("^FH_^FDMA,https://tracuu.example.vn/t/Zm9vYmFyYmF6cXV4MTIzNDU^FS") != std::string::npos);
    // Vietnamese as raw UTF-8 in ^FD.
    CHECK(zpl.find("^FDNgười nhận") == std::string::npos);
    CHECK(zpl.find("^FH_^FDNGƯỜI NHẬN / To^FS") != std::string::npos);
    CHECK(zpl.find("^FH_^FDNguyễn Thị Ngọc Ánh^FS") != std::string::npos);
    CHECK(zpl.find("KẾT QUẢ") != std::string::npos);
    CHECK(zpl.find("EE 123 456 785 VN") != std::string::npos);
  }
}

TEST_CASE("label: ZPL escapes command characters in data") {
  auto label = sample_label(ItemKind::result);
  label.recipient.name = "A^XZ~JR_b\\c";
  const auto zpl = render_label(label, LabelFormat::zpl, 203);
  CHECK(zpl.find("A_5EXZ_7EJR_5Fb\\\\c") != std::string::npos);
  CHECK(zpl.find("^XZ") == zpl.rfind("^XZ"));  // only the real end of the label
}

TEST_CASE("label: Vietnamese text survives into the PDF") {
  if (!have_tool("pdftotext")) FAIL("pdftotext is missing: scripts/setup installs poppler-utils");
  const auto text = pdf_text(render_label(sample_label(ItemKind::result), LabelFormat::pdf));
  REQUIRE(text.has_value());
  for (const char* expected : {"NGƯỜI NHẬN", "Nguyễn Thị Ngọc Ánh", "KẾT QUẢ", "Trung tâm Phục vụ hành chính công",
                               "EE 123 456 785 VN", "Cấp phiếu lý lịch tư pháp", "H15.50.05.13-261008-0975"}) {
    CAPTURE(expected);
    CHECK(text->find(expected) != std::string::npos);
  }
}

TEST_CASE("label: the receipt has the title, documents, fee and signatures") {
  if (!have_tool("pdftotext")) FAIL("pdftotext is missing: scripts/setup installs poppler-utils");
  const auto pdf = render_receipt(sample_receipt());
  CHECK(pdf.compare(0, 5, "%PDF-") == 0);
  const auto text = pdf_text(pdf);
  REQUIRE(text.has_value());
  for (const char* expected :
       {"PHIẾU GỬI HỒ SƠ", "DANH MỤC GIẤY TỜ", "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "Bản sao chứng thực",
        "Căn cước công dân", "50.000 ₫", "NGƯỜI GỬI HỒ SƠ", "NHÂN VIÊN BƯU CHÍNH", "Trần Văn Bình",
        "Nguyễn Thị Ngọc Ánh", "30/11/2026", "EE 123 456 785 VN", "Tổng số: 3 loại giấy tờ, 4 bản"}) {
    CAPTURE(expected);
    CHECK(text->find(expected) != std::string::npos);
  }
}

TEST_CASE("label: a receipt with many documents continues on a second page") {
  auto receipt = sample_receipt();
  receipt.documents.clear();
  for (int i = 0; i < 50; ++i) receipt.documents.push_back({"Giấy tờ số " + std::to_string(i + 1), "Bản sao", 1});
  receipt.fee_vnd.reset();
  const auto pdf = render_receipt(receipt);
  const auto count = pdf.find("/Count ");
  REQUIRE(count != std::string::npos);
  CHECK(std::stoi(pdf.substr(count + 7, 3)) >= 2);
  if (!have_tool("pdftotext")) FAIL("pdftotext is missing: scripts/setup installs poppler-utils");
  const auto text = pdf_text(pdf);
  REQUIRE(text.has_value());
  CHECK(text->find("Giấy tờ số 50") != std::string::npos);
  CHECK(text->find("Không thu") != std::string::npos);
}

TEST_CASE("label: overlong text is cut, not spilled") {
  auto label = sample_label(ItemKind::result);
  label.recipient.name = std::string(300, 'W');
  label.procedure_name.clear();
  for (int i = 0; i < 60; ++i) label.procedure_name += "dài ";
  for (auto format : {LabelFormat::png, LabelFormat::pdf, LabelFormat::svg, LabelFormat::zpl}) {
    CHECK_NOTHROW(render_label(label, format, 203));
  }
  const auto image = decode_png_gray(render_label(label, LabelFormat::png, 203));
  REQUIRE(image.has_value());
  const auto found = decode(*image);
  CHECK(found.code128 == std::vector<std::string>{label.item_id});
  CHECK(found.qr == std::vector<std::string>{label.tracking_url});
}
