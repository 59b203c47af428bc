// Round trip: every label is decoded by ZXing back to exactly its item id (Code 128) and tracking URL (QR), for
// ids with each check digit 0..9, at both printer resolutions; PNG in-process, PDF through pdftoppm.
#include "label_test_util.hpp"

#include <doctest/doctest.h>

using namespace dpost;
using namespace dpost::label_test;

namespace {

void check_decodes(const GrayImage& image, const LabelData& label) {
  const auto found = decode(image);
  INFO("item " << label.item_id << ", image " << image.width << "x" << image.height);
  REQUIRE(found.code128.size() == 1);
  CHECK(found.code128[0] == label.item_id);
  REQUIRE(found.qr.size() == 1);
  CHECK(found.qr[0] == label.tracking_url);
}

}  // namespace

TEST_CASE("label round trip: the ids cover every check digit") {
  const auto ids = ids_with_every_check_digit();
  for (int digit = 0; digit < 10; ++digit) {
    CAPTURE(ids[static_cast<std::size_t>(digit)]);
    CHECK(ids[static_cast<std::size_t>(digit)][10] == '0' + digit);
    CHECK(ItemId::parse(ids[static_cast<std::size_t>(digit)]).has_value());
  }
}

TEST_CASE("label round trip: PNG at 203 and 300 dpi decodes to the item id and the tracking URL") {
  for (const auto& id : ids_with_every_check_digit()) {
    for (int dpi : {203, 300}) {
      CAPTURE(dpi);
      auto label = sample_label(ItemKind::result, id);
      label.tracking_url = "https://tracuu.example.vn/t/tok-" + id + "_x";
      const auto png = render_label(label, LabelFormat::png, dpi);
      const auto image = decode_png_gray(png);
      REQUIRE(image.has_value());
      // 100 x 150 mm at the printer's resolution.
      CHECK(image->width == (dpi == 203 ? 799 : 1181));
      CHECK(image->height == (dpi == 203 ? 1199 : 1772));
      check_decodes(*image, label);
    }
  }
}

TEST_CASE("label round trip: PDF rasterised by pdftoppm at 203 and 300 dpi decodes") {
  if (!have_tool("pdftoppm")) FAIL("pdftoppm is missing: scripts/setup installs poppler-utils");
  for (const auto& id : ids_with_every_check_digit()) {
    auto label = sample_label(ItemKind::dossier, id);
    label.tracking_url = "https://tracuu.example.vn/t/pdf-" + id;
    const auto pdf = render_label(label, LabelFormat::pdf);
    for (int dpi : {203, 300}) {
      CAPTURE(dpi);
      const auto image = rasterise_pdf(pdf, dpi);
      REQUIRE(image.has_value());
      check_decodes(*image, label);
    }
  }
}

TEST_CASE("label round trip: every label of an A4 sheet decodes") {
  if (!have_tool("pdftoppm")) FAIL("pdftoppm is missing: scripts/setup installs poppler-utils");
  const auto ids = ids_with_every_check_digit();
  std::vector<LabelData> labels;
  for (std::size_t i = 0; i < 5; ++i) {
    auto label = sample_label(i % 2 ? ItemKind::result : ItemKind::dossier, ids[i]);
    label.tracking_url = "https://tracuu.example.vn/t/sheet-" + std::to_string(i);
    labels.push_back(label);
  }
  const auto pdf = render_label_sheet(labels);
  // 5 labels: a full page of 4 and a second page with one.
  for (int page = 1; page <= 2; ++page) {
    const auto image = rasterise_pdf(pdf, 203, page);
    REQUIRE(image.has_value());
    CHECK(image->width > image->height / 2);  // portrait A4, not a single label
    const auto found = decode(*image);
    std::vector<std::string> want_ids, want_urls;
    for (std::size_t i = (page - 1) * 4; i < std::min<std::size_t>(labels.size(), page * 4); ++i) {
      want_ids.push_back(labels[i].item_id);
      want_urls.push_back(labels[i].tracking_url);
    }
    auto got_ids = found.code128, got_urls = found.qr;
    std::sort(got_ids.begin(), got_ids.end());
    std::sort(got_urls.begin(), got_urls.end());
    std::sort(want_ids.begin(), want_ids.end());
    std::sort(want_urls.begin(), want_urls.end());
    CAPTURE(page);
    CHECK(got_ids == want_ids);
    CHECK(got_urls == want_urls);
  }
}

TEST_CASE("label round trip: the receipt's barcode and QR decode") {
  if (!have_tool("pdftoppm")) FAIL("pdftoppm is missing: scripts/setup installs poppler-utils");
  const auto receipt = sample_receipt();
  const auto image = rasterise_pdf(render_receipt(receipt), 200);
  REQUIRE(image.has_value());
  const auto found = decode(*image);
  REQUIRE(found.code128.size() == 1);
  CHECK(found.code128[0] == receipt.item_id);
  REQUIRE(found.qr.size() == 1);
  CHECK(found.qr[0] == receipt.tracking_url);
}
