// The bag label (its Code 128 reads back as the bag id) and the handover slip (its rows and signature boxes
// survive into the PDF's text, diacritics included).
#include "item_id.hpp"
#include "label_test_util.hpp"

#include <doctest/doctest.h>

using namespace dpost;
using namespace dpost::label_test;

TEST_CASE("bag ids: BAG, eight digits and an S10 check digit") {
  const auto id = make_bag_id(42);
  CHECK(id.size() == 12);
  CHECK(id.starts_with("BAG00000042"));
  CHECK(parse_bag_id(id) == id);
  auto wrong = id;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK_FALSE(parse_bag_id(wrong));
  CHECK_FALSE(parse_bag_id("BAG123"));
  CHECK_FALSE(parse_bag_id("EE123456785VN"));
}

TEST_CASE("bag label: the Code 128 on it reads back as the bag id") {
  REQUIRE(have_tool("pdftoppm"));
  BagLabelData label{make_bag_id(7), "Bưu cục Ba Đình", "Bộ phận Một cửa quận Ba Đình", 12, "05/12/2026"};
  const auto pdf = render_bag_label(label);
  REQUIRE(pdf.starts_with("%PDF-"));
  auto page = rasterise_pdf(pdf, 200);
  REQUIRE(page);
  const auto found = decode(*page);
  REQUIRE(found.code128.size() == 1);
  CHECK(found.code128[0] == label.bag_id);
  auto text = pdf_text(pdf);
  REQUIRE(text);
  CHECK(text->find("Bưu cục Ba Đình") != std::string::npos);
  CHECK(text->find("Bộ phận Một cửa quận Ba Đình") != std::string::npos);
  CHECK(text->find("12") != std::string::npos);
}

TEST_CASE("handover slip: every row, the outcome and both signature names are in the PDF") {
  REQUIRE(have_tool("pdftotext"));
  HandoverSlipData slip;
  slip.title_vi = "BẢNG KÊ VÀ BIÊN BẢN BÀN GIAO TÚI";
  slip.title_en = "Bag manifest and handover record";
  slip.site_name = "Bưu cục Ba Đình → Bộ phận Một cửa quận Ba Đình";
  slip.period = "09:15 05/12/2026";
  slip.bag_id = make_bag_id(9);
  slip.giver = "clerk1";
  slip.receiver = "staff1";
  for (int i = 0; i < 30; ++i) {  // more than a page
    HandoverSlipRow row;
    row.time = "09:15 05/12/2026";
    row.item_id = "EH" + std::to_string(10000000 + i) + "0VN";
    row.dossier_code = "000.00.01.H26-261205-" + std::to_string(1000 + i);
    row.what = "HỒ SƠ — Cấp phiếu lý lịch tư pháp";
    row.event = "Trong bảng kê";
    row.giver = "Bưu cục Ba Đình";
    row.receiver = "Một cửa Ba Đình";
    row.result = i == 3 ? "THIẾU" : "Đã nhận";
    slip.rows.push_back(row);
  }
  const auto pdf = render_handover_slip(slip);
  REQUIRE(pdf.starts_with("%PDF-"));
  auto text = pdf_text(pdf);
  REQUIRE(text);
  CHECK(text->find("BẢNG KÊ VÀ BIÊN BẢN BÀN GIAO TÚI") != std::string::npos);
  for (const auto& row : slip.rows) {
    CAPTURE(row.item_id);
    CHECK(text->find(row.item_id) != std::string::npos);
  }
  CHECK(text->find("THIẾU") != std::string::npos);
  CHECK(text->find("clerk1") != std::string::npos);
  CHECK(text->find("staff1") != std::string::npos);
  auto barcode_page = rasterise_pdf(pdf, 200);
  REQUIRE(barcode_page);
  const auto found = decode(*barcode_page);
  CHECK(std::find(found.code128.begin(), found.code128.end(), slip.bag_id) != found.code128.end());
}
