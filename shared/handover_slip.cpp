// The handover slip (phiếu kiểm soát bàn giao, after the one-stop shop's control slip: giver, receiver, time,
// result per handoff; reference/domain-research.md 1.3) and a bag's manifest, A4 landscape; and the bag label.

#include "barcode.hpp"
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

constexpr double kPageWidth = 297;  // A4 landscape: a row per handoff needs the width
constexpr double kPageHeight = 210;
constexpr double kMargin = 12;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kBottom = kPageHeight - kMargin;
constexpr double kRowHeight = 9.0;

constexpr Font kCell{2.7, false};
constexpr Font kCellBold{2.7, true};
constexpr Font kSmall{2.2, false};

struct Column {
  const char* vi;
  const char* en;
  double width;
};
// STT | time | item | dossier code | what | step | giver | receiver | recorded by | result | note
constexpr Column kColumns[] = {
    {"STT", "No.", 9},        {"Thời gian", "Time", 25}, {"Mã bưu gửi", "Item", 29}, {"Mã hồ sơ", "Dossier", 32},
    {"Nội dung", "What", 42}, {"Bước", "Step", 26},      {"Bên giao", "Giver", 26},  {"Bên nhận", "Receiver", 26},
    {"Người ghi", "By", 16},  {"Kết quả", "Result", 21}, {"Ghi chú", "Note", 21},
};

class SlipWriter {
 public:
  SlipWriter(cairo_t* cr, const HandoverSlipData& s) : cr_(cr), c_(cr, label_detail::CairoTarget::vector), s_(s) {}

  void draw() {
    header();
    table_header();
    for (std::size_t i = 0; i < s_.rows.size(); ++i) row(i, s_.rows[i]);
    if (s_.rows.empty()) {
      c_.text(kMargin + 12, y_ + 6, "Không có bàn giao nào / no handoffs recorded", kCell);
      y_ += kRowHeight;
    }
    totals();
    signatures();
  }

 private:
  void header() {
    c_.text(kMargin, 15, "DOSSIER POST · BƯU CHÍNH CÔNG ÍCH", {3.0, true}, Align::left, 120);
    c_.text(kMargin, 20, s_.site_name, {3.0, false}, Align::left, 150);
    c_.text(kPageWidth - kMargin, 15, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {3.0, true}, Align::right, 110);
    c_.text(kPageWidth - kMargin - 14, 20, "Độc lập - Tự do - Hạnh phúc", {3.0, true}, Align::right, 110);
    c_.text(kPageWidth / 2, 31, s_.title_vi, {5.2, true}, Align::center, kContentWidth);
    c_.text(kPageWidth / 2, 36, s_.title_en + " · " + s_.period, {2.9, false}, Align::center, kContentWidth);
    y_ = 41;
    if (!s_.bag_id.empty()) {
      c_.code128(encode_code128(s_.bag_id), kPageWidth / 2, 39, 10, 90, 0.35);
      c_.text(kPageWidth / 2, 53, s_.bag_id, {3.4, true}, Align::center, 90);
      y_ = 57;
    }
  }

  void table_header() {
    c_.fill_rect(kMargin, y_, kContentWidth, kRowHeight);
    c_.paper();
    double x = kMargin;
    for (const auto& col : kColumns) {
      c_.text(x + 1.2, y_ + 3.9, col.vi, kCellBold, Align::left, col.width - 2);
      c_.text(x + 1.2, y_ + 7.2, col.en, kSmall, Align::left, col.width - 2);
      x += col.width;
    }
    c_.ink();
    y_ += kRowHeight;
  }

  void new_page() {
    cairo_show_page(cr_);
    c_.text(kMargin, 15, s_.title_vi + " (tiếp / continued)", {3.2, true}, Align::left, kContentWidth);
    y_ = 20;
    table_header();
  }

  void row(std::size_t index, const HandoverSlipRow& r) {
    if (y_ + kRowHeight > kBottom - 40) new_page();
    const std::string cells[] = {std::to_string(index + 1),
                                 r.time,
                                 r.item_id,
                                 r.dossier_code,
                                 r.what,
                                 r.event,
                                 r.giver,
                                 r.receiver,
                                 r.recorded_by,
                                 r.result,
                                 r.note};
    double x = kMargin;
    for (std::size_t i = 0; i < std::size(kColumns); ++i) {
      const auto lines = c_.wrap(cells[i], kColumns[i].width - 2.4, kCell, 2);
      for (std::size_t k = 0; k < lines.size(); ++k) {
        c_.text(x + 1.2, y_ + 3.8 + 3.3 * static_cast<double>(k), lines[k], i == 9 ? kCellBold : kCell, Align::left,
                kColumns[i].width - 2.4);
      }
      x += kColumns[i].width;
    }
    y_ += kRowHeight;
    c_.line(kMargin, y_, kMargin + kContentWidth, y_, 0.15);
  }

  void totals() {
    y_ += 5;
    c_.text(kMargin, y_, "Tổng số: " + std::to_string(s_.rows.size()) + " lượt", {3.2, true});
    c_.text(kMargin + 40, y_, "Total: " + std::to_string(s_.rows.size()) + " rows", kSmall);
    y_ += 4;
  }

  void signatures() {
    constexpr double kHeight = 30;
    if (y_ + kHeight + 4 > kBottom) {
      cairo_show_page(cr_);
      y_ = 20;
    }
    const double box_w = (kContentWidth - 20) / 2;
    const char* titles[] = {"BÊN GIAO", "BÊN NHẬN"};
    const char* english[] = {"Handed over by", "Received by"};
    const std::string* names[] = {&s_.giver, &s_.receiver};
    for (int side = 0; side < 2; ++side) {
      const double x = kMargin + side * (box_w + 20);
      c_.stroke_rect(x, y_, box_w, kHeight, 0.3);
      c_.text(x + box_w / 2, y_ + 5, titles[side], {3.2, true}, Align::center, box_w - 4);
      c_.text(x + box_w / 2, y_ + 8.6, english[side], kSmall, Align::center, box_w - 4);
      c_.text(x + box_w / 2, y_ + 12, "(Ký, ghi rõ họ tên / sign and print name)", kSmall, Align::center, box_w - 4);
      c_.text(x + box_w / 2, y_ + kHeight - 3, *names[side], {3.0, true}, Align::center, box_w - 4);
    }
    y_ += kHeight;
  }

  cairo_t* cr_;
  Canvas c_;
  const HandoverSlipData& s_;
  double y_ = 0;
};

template <class Draw>
std::string render_pdf(double width, double height, const char* title, Draw&& draw) {
  std::string out;
  auto surface = label_detail::pdf_surface(out, width, height, title);
  ContextPtr cr(cairo_create(surface.get()));
  cairo_scale(cr.get(), 1 / label_detail::kMmPerPoint, 1 / label_detail::kMmPerPoint);
  draw(cr.get());
  label_detail::check(cairo_status(cr.get()), title);
  cr.reset();
  cairo_surface_finish(surface.get());
  label_detail::check(cairo_surface_status(surface.get()), title);
  return out;
}

}  // namespace

std::string render_handover_slip(const HandoverSlipData& slip) {
  return render_pdf(kPageWidth, kPageHeight, "Phiếu kiểm soát bàn giao",
                    [&](cairo_t* cr) { SlipWriter(cr, slip).draw(); });
}

std::string render_bag_label(const BagLabelData& label) {
  return render_pdf(kLabelWidthMm, kLabelHeightMm, "Nhãn túi", [&](cairo_t* cr) {
    Canvas c(cr, label_detail::CairoTarget::vector);
    constexpr double w = kLabelWidthMm;
    c.fill_rect(5, 5, w - 10, 14);
    c.paper();
    c.text(w / 2, 14.5, "TÚI BƯU GỬI HÀNH CHÍNH CÔNG", {4.6, true}, Align::center, w - 14);
    c.ink();
    c.text(w / 2, 24, "Bag of public-administration items", {2.8, false}, Align::center, w - 10);
    c.code128(encode_code128(label.bag_id), w / 2, 30, 28, w - 10, 0.6);
    c.text(w / 2, 66, label.bag_id, {6.0, true}, Align::center, w - 10);
    c.text(8, 82, "Từ / From", {2.8, false});
    c.paragraph(8, 88, w - 16, 5.4, label.origin, {4.4, true}, 2);
    c.text(8, 104, "Đến / To", {2.8, false});
    c.paragraph(8, 110, w - 16, 5.4, label.destination, {4.4, true}, 2);
    c.line(5, 124, w - 5, 124, 0.3);
    c.text(8, 134, "Số bưu gửi / Items: " + std::to_string(label.items), {4.2, true});
    c.text(8, 142, "Ngày lập / Made on: " + label.date, {3.4, false});
  });
}

}  // namespace dpost
