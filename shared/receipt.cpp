// The receipt the citizen keeps when a clerk picks up a dossier (phiếu gửi hồ sơ, QĐ 45/2016): one A4 page per
// 20-odd documents, Vietnamese first with English in small type, the item's barcode and tracking QR, the
// documents counted together, the fees, and room for both signatures.

#include "barcode.hpp"
#include "item_id.hpp"
#include "label.hpp"
#include "label_canvas.hpp"

#include <cairo.h>

#include <string>

namespace dpost {
namespace {

using label_detail::Align;
using label_detail::Canvas;
using label_detail::ContextPtr;
using label_detail::Font;

constexpr double kPageWidth = 210;
constexpr double kPageHeight = 297;
constexpr double kMargin = 15;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kBottom = kPageHeight - kMargin;

constexpr Font kLabelFont{3.1, true};
constexpr Font kEnglishFont{2.3, false};
constexpr Font kValueFont{3.4, false};

class ReceiptWriter {
 public:
  ReceiptWriter(cairo_t* cr, const ReceiptData& r) : cr_(cr), c_(cr, label_detail::CairoTarget::vector), r_(r) {}

  void draw() {
    header();
    facts();
    documents();
    fees_and_signatures();
    footer();
  }

 private:
  void header() {
    c_.text(kMargin, 20, "BƯU CHÍNH CÔNG ÍCH", {3.4, true}, Align::left, 80);
    c_.paragraph(kMargin, 25, 80, 4.2, r_.post_office_name, {3.0, false}, 2);
    c_.text(145, 20, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {3.1, true}, Align::center, 95);
    c_.text(145, 25, "Độc lập - Tự do - Hạnh phúc", {3.2, true}, Align::center, 95);
    const double half = c_.width_of("Độc lập - Tự do - Hạnh phúc", {3.2, true}) / 2;
    c_.line(145 - half, 26.6, 145 + half, 26.6, 0.25);

    c_.text(kPageWidth / 2, 39, "PHIẾU GỬI HỒ SƠ", {7.0, true}, Align::center, kContentWidth);
    c_.text(kPageWidth / 2, 44.5, "Dossier pickup receipt — keep it to track your dossier", {3.0, false}, Align::center,
            kContentWidth);

    // The item's barcode under the title, the tracking QR on the right: both scan straight off the paper.
    c_.code128(encode_code128(r_.item_id), 87, 50, 14, 130, 0.4);
    auto id = ItemId::parse_any_country(r_.item_id);
    c_.text(87, 70, id ? id->grouped() : r_.item_id, {4.2, true}, Align::center, 130);
    c_.qr(encode_qr(r_.tracking_url), 163, 47, 32);
    c_.text(179, 81.5, "Tra cứu / Track", kEnglishFont, Align::center, 32);
    y_ = 88;
  }

  void fact(std::string_view vi, std::string_view en, std::string_view value) {
    if (value.empty()) return;
    c_.text(kMargin, y_, vi, kLabelFont, Align::left, 52);
    c_.text(kMargin, y_ + 3.2, en, kEnglishFont, Align::left, 52);
    const int lines = c_.paragraph(kMargin + 54, y_, kContentWidth - 54, 4.4, value, kValueFont, 3);
    y_ += std::max(6.6, 4.4 * lines + 2.2);
  }

  void facts() {
    fact("Mã bưu gửi", "Item", id_text());
    // The second factor: with the item number it opens the citizen's own tracking view without the QR.
    fact("Mã tra cứu", "Lookup code", r_.lookup_code);
    fact("Mã hồ sơ", "Dossier code", r_.dossier_code);
    std::string procedure = r_.procedure_name;
    if (!r_.procedure_code.empty()) procedure = r_.procedure_code + " — " + procedure;
    fact("Thủ tục hành chính", "Procedure", procedure);
    fact("Người gửi hồ sơ", "Applicant", r_.applicant_name);
    fact("Địa chỉ", "Address", r_.applicant_address);
    fact("Điện thoại", "Phone", r_.applicant_phone);
    fact("Nơi tiếp nhận", "One-stop office", r_.office_name);
    fact("Dịch vụ", "Service", describe_vi(r_.service));
    fact("Ngày nhận hồ sơ", "Picked up on", r_.date);
    fact("Ngày hẹn trả", "Result due", r_.due_date);
    std::string clerk = r_.clerk_name;
    if (!r_.post_office_name.empty()) clerk += clerk.empty() ? r_.post_office_name : " — " + r_.post_office_name;
    fact("Nhân viên bưu chính", "Postal clerk", clerk);
  }

  std::string id_text() const {
    auto id = ItemId::parse_any_country(r_.item_id);
    return id ? id->grouped() : r_.item_id;
  }

  // Columns of the documents table: No. | name | copy kind | count.
  static constexpr double kColNo = kMargin;
  static constexpr double kColName = kMargin + 12;
  static constexpr double kColKind = kMargin + 118;
  static constexpr double kColCount = kMargin + 160;
  static constexpr double kRowHeight = 7.2;

  void table_header() {
    c_.fill_rect(kMargin, y_, kContentWidth, kRowHeight + 1.5);
    c_.paper();
    c_.text(kColNo + 2, y_ + 4.2, "STT", {2.9, true});
    c_.text(kColName + 2, y_ + 4.2, "Tên giấy tờ", {2.9, true});
    c_.text(kColKind + 2, y_ + 4.2, "Loại bản", {2.9, true});
    c_.text(kColCount + 2, y_ + 4.2, "Số lượng", {2.9, true});
    c_.text(kColName + 2, y_ + 7.4, "Document", {2.1, false});
    c_.text(kColKind + 2, y_ + 7.4, "Copy", {2.1, false});
    c_.text(kColCount + 2, y_ + 7.4, "Count", {2.1, false});
    c_.ink();
    y_ += kRowHeight + 1.5;
  }

  void new_page() {
    cairo_show_page(cr_);
    c_.text(kMargin, 20, "PHIẾU GỬI HỒ SƠ " + id_text() + " (tiếp / continued)", {3.2, true}, Align::left,
            kContentWidth);
    y_ = 28;
  }

  void documents() {
    y_ += 2;
    c_.text(kMargin, y_ + 3.5, "DANH MỤC GIẤY TỜ ĐÃ GIAO", {3.6, true});
    c_.text(kMargin + c_.width_of("DANH MỤC GIẤY TỜ ĐÃ GIAO", {3.6, true}) + 3, y_ + 3.5,
            "Documents handed over, counted with the citizen", kEnglishFont);
    y_ += 6;
    table_header();
    int copies = 0;
    for (std::size_t i = 0; i < r_.documents.size(); ++i) {
      const auto& d = r_.documents[i];
      const auto lines = c_.wrap(d.name, kColKind - kColName - 4, {3.1, false}, 2);
      const double height = lines.size() > 1 ? kRowHeight + 3.8 : kRowHeight;
      if (y_ + height > kBottom - 10) {
        new_page();
        table_header();
      }
      c_.text(kColNo + 2, y_ + 5, std::to_string(i + 1), {3.1, false});
      for (std::size_t k = 0; k < lines.size(); ++k) {
        c_.text(kColName + 2, y_ + 5 + 3.8 * static_cast<double>(k), lines[k], {3.1, false}, Align::left,
                kColKind - kColName - 4);
      }
      c_.text(kColKind + 2, y_ + 5, d.kind, {3.1, false}, Align::left, kColCount - kColKind - 4);
      c_.text(kColCount + 2, y_ + 5, std::to_string(d.count), {3.1, false});
      y_ += height;
      c_.line(kMargin, y_, kMargin + kContentWidth, y_, 0.15);
      copies += d.count;
    }
    if (r_.documents.empty()) {
      c_.text(kColName + 2, y_ + 5, "(không có giấy tờ nào được liệt kê / none listed)", {3.1, false});
      y_ += kRowHeight;
    }
    y_ += 5;
    c_.text(kMargin, y_,
            "Tổng số: " + std::to_string(r_.documents.size()) + " loại giấy tờ, " + std::to_string(copies) + " bản",
            {3.3, true});
    c_.text(
        kMargin + 95, y_,
        "Total: " + std::to_string(r_.documents.size()) + " documents, " + std::to_string(copies) + " sheets/copies",
        kEnglishFont);
    y_ += 7;
  }

  void fees_and_signatures() {
    constexpr double kSignatureHeight = 42;
    if (y_ + 10 + kSignatureHeight + 8 > kBottom) new_page();
    const std::string fee = r_.fee_vnd && *r_.fee_vnd > 0 ? format_vnd(*r_.fee_vnd) : "Không thu / none";
    c_.text(kMargin, y_, "Phí, lệ phí đã thu", kLabelFont);
    c_.text(kMargin, y_ + 3.2, "Fees collected", kEnglishFont);
    c_.text(kMargin + 54, y_, fee, {3.8, true});
    y_ += 10;

    const double box_w = (kContentWidth - 10) / 2;
    for (int side = 0; side < 2; ++side) {
      const double x = kMargin + side * (box_w + 10);
      c_.stroke_rect(x, y_, box_w, kSignatureHeight, 0.3);
      c_.text(x + box_w / 2, y_ + 5.5, side == 0 ? "NGƯỜI GỬI HỒ SƠ" : "NHÂN VIÊN BƯU CHÍNH", {3.3, true},
              Align::center, box_w - 4);
      c_.text(x + box_w / 2, y_ + 9.3, side == 0 ? "Citizen" : "Postal clerk", kEnglishFont, Align::center, box_w - 4);
      c_.text(x + box_w / 2, y_ + 13.3, "(Ký, ghi rõ họ tên / sign and print name)", {2.5, false}, Align::center,
              box_w - 4);
      const std::string& name = side == 0 ? r_.applicant_name : r_.clerk_name;
      c_.text(x + box_w / 2, y_ + kSignatureHeight - 3.5, name, {3.2, true}, Align::center, box_w - 4);
    }
    y_ += kSignatureHeight + 6;
  }

  void footer() {
    c_.paragraph(kMargin, y_, kContentWidth, 3.4,
                 "Hồ sơ được niêm phong trước mặt người gửi. Quét mã QR hoặc tra mã bưu gửi để biết hồ sơ đang ở "
                 "đâu. / The envelope was sealed in your presence; scan the QR or look up the item id to track it.",
                 {2.4, false}, 3);
  }

  cairo_t* cr_;
  Canvas c_;
  const ReceiptData& r_;
  double y_ = 0;
};

}  // namespace

std::string render_receipt(const ReceiptData& receipt) {
  std::string out;
  {
    auto surface = label_detail::pdf_surface(out, kPageWidth, kPageHeight, "Phiếu gửi hồ sơ");
    ContextPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), 1 / label_detail::kMmPerPoint, 1 / label_detail::kMmPerPoint);
    ReceiptWriter(cr.get(), receipt).draw();
    label_detail::check(cairo_status(cr.get()), "receipt drawing");
    cr.reset();
    cairo_surface_finish(surface.get());
    label_detail::check(cairo_surface_status(surface.get()), "receipt PDF");
  }
  return out;
}

}  // namespace dpost
