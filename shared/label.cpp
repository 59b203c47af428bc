#include "label.hpp"

#include "barcode.hpp"
#include "item_id.hpp"
#include "label_canvas.hpp"
#include "raster.hpp"

#include <cairo-pdf.h>
#include <cairo.h>

#include <cmath>
#include <memory>
#include <stdexcept>

namespace dpost {

std::string render_label_zpl(const LabelData& label, int dpi);  // zpl.cpp

namespace {

using label_detail::Align;
using label_detail::Canvas;
using label_detail::check;
using label_detail::Font;

constexpr double kMargin = 4.0;

using label_detail::ContextPtr;
using label_detail::kMmPerPoint;
using label_detail::pdf_surface;
using label_detail::SurfacePtr;

std::string grouped_id(const std::string& item_id) {
  auto id = ItemId::parse_any_country(item_id);
  return id ? id->grouped() : item_id;
}

struct Symbols {
  ModuleGrid code128;
  ModuleGrid qr;
};

Symbols encode_symbols(const LabelData& label) {
  return {encode_code128(label.item_id), encode_qr(label.tracking_url)};
}

// Few type sizes on purpose: one clear hierarchy, and the raster caches each glyph once per size and weight.
constexpr Font kSmall{2.4, false};
constexpr Font kSmallBold{2.4, true};
constexpr Font kBody{3.0, false};
constexpr Font kBodyLarge{3.6, false};
constexpr Font kStrong{3.6, true};
constexpr Font kLarge{4.8, true};

// "NGƯỜI GỬI / From", the name (up to two lines), then the lines as long as there is room above `bottom`.
void party_block(Canvas& c, double top, double bottom, std::string_view heading, const LabelParty& party,
                 Font name_font, Font line_font) {
  const double width = kLabelWidthMm - 2 * kMargin;
  c.text(kMargin, top + 3.2, heading, kSmallBold);
  const double name_step = name_font.size_mm * 1.22;
  double y = top + 3.4 + name_step;
  y += name_step * c.paragraph(kMargin, y, width, name_step, party.name, name_font, 2);
  const double step = line_font.size_mm * 1.3;
  y += step - name_step + 0.3;
  for (const auto& line : party.lines) {
    const int room = static_cast<int>(std::floor((bottom - y) / step)) + 1;
    if (room <= 0) break;
    y += step * c.paragraph(kMargin, y, width, step, line, line_font, room);
  }
}

// The 100 x 150 mm label in millimetres from (0, 0). One routine for PNG, SVG and PDF (and the A4 sheet).
void draw_label(Canvas& c, const LabelData& label, const Symbols& symbols) {
  const double right = kLabelWidthMm - kMargin;
  const double width = kLabelWidthMm - 2 * kMargin;

  // Header: who carries it, and the item's kind as a black box a sorter sees from a distance.
  c.text(kMargin, 8.6, "BƯU CHÍNH CÔNG ÍCH", kStrong, Align::left, 58);
  c.text(kMargin, 12.6, "Hồ sơ thủ tục hành chính · Public postal service", kSmall, Align::left, 58);
  c.text(kMargin, 16.4, std::string(describe_vi(label.service)) + " · " + label.date, kSmall, Align::left, 58);
  c.fill_rect(64, kMargin, right - 64, 13.5);
  c.paper();
  c.text((64 + right) / 2, 11.2, label_kind_vi(label.kind), kLarge, Align::center, right - 64 - 2);
  c.text((64 + right) / 2, 15.6, label_kind_en(label.kind), kSmall, Align::center, right - 64 - 2);
  c.ink();
  c.line(kMargin, 19.5, right, 19.5, 0.4);

  // Item id: Code 128 with its quiet zones, the grouped id under it.
  c.code128(symbols.code128, kLabelWidthMm / 2, 22.5, 21, width, 0.5);
  c.text(kLabelWidthMm / 2, 49.5, grouped_id(label.item_id), kLarge, Align::center, width);
  c.line(kMargin, 52.5, right, 52.5, 0.4);

  party_block(c, 53.5, 73, "NGƯỜI GỬI / From", label.sender, kStrong, kBody);
  c.line(kMargin, 76, right, 76, 0.4);
  party_block(c, 77, 109.5, "NGƯỜI NHẬN / To", label.recipient, kLarge, kBodyLarge);
  c.line(kMargin, 113, right, 113, 0.4);

  // Dossier facts on the left, the tracking QR on the right.
  const double column = 60;
  std::string procedure_heading = "THỦ TỤC / Procedure";
  if (!label.procedure_code.empty()) procedure_heading += " " + label.procedure_code;
  c.text(kMargin, 117.5, procedure_heading, kSmallBold, Align::left, column);
  c.paragraph(kMargin, 121.3, column, 3.7, label.procedure_name, kBody, 3);
  if (!label.dossier_code.empty())
    c.text(kMargin, 133.5, "Mã hồ sơ: " + label.dossier_code, kBody, Align::left, column);
  c.text(kMargin, 137.5, "Dịch vụ: " + std::string(describe_vi(label.service)), kBody, Align::left, column);
  c.text(kMargin, 141.5, "Ngày: " + label.date, kBody, Align::left, column);
  c.text(kMargin, 145.5, "Quét mã QR để tra cứu · Scan to track", kSmall, Align::left, column);
  c.qr(symbols.qr, 66, 115, 30);
}

// Pixels for `mm` at `dpi`, rounded: 100 mm at 203 dpi is 799 px.
int pixels(double mm, int dpi) {
  return static_cast<int>(std::lround(mm * dpi / 25.4));
}

std::string render_png(const LabelData& label, const Symbols& symbols, int dpi) {
  const int width = pixels(kLabelWidthMm, dpi);
  const int height = pixels(kLabelHeightMm, dpi);
  // A8 holds ink coverage only: a quarter of the memory of RGB and what the 1-bit PNG needs.
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_A8, width, height));
  check(cairo_surface_status(surface.get()), "label raster");
  {
    ContextPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), width / kLabelWidthMm, height / kLabelHeightMm);
    Canvas canvas(cr.get(), label_detail::CairoTarget::raster);
    draw_label(canvas, label, symbols);
    check(cairo_status(cr.get()), "label drawing");
  }
  cairo_surface_flush(surface.get());
  return encode_png_1bit(cairo_image_surface_get_data(surface.get()), width, height,
                         cairo_image_surface_get_stride(surface.get()), dpi);
}

void white_page(Canvas& c, double w, double h) {
  c.paper();
  c.fill_rect(0, 0, w, h);
  c.ink();
}

// Written by the Canvas itself: text as <text>, symbols as one path each; ~7 kB where cairo's SVG surface wrote
// ~280 kB of glyph outlines. width="100mm" height="150mm" viewBox="0 0 100 150": prints at its real size, user
// units are millimetres.
std::string render_svg(const LabelData& label, const Symbols& symbols) {
  Canvas canvas(label_detail::SvgPage{kLabelWidthMm, kLabelHeightMm});
  white_page(canvas, kLabelWidthMm, kLabelHeightMm);
  draw_label(canvas, label, symbols);
  return canvas.finish_svg();
}

std::string render_pdf(const LabelData& label, const Symbols& symbols) {
  std::string out;
  {
    auto surface = pdf_surface(out, kLabelWidthMm, kLabelHeightMm, label.item_id.c_str());
    ContextPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), 1 / kMmPerPoint, 1 / kMmPerPoint);
    Canvas canvas(cr.get(), label_detail::CairoTarget::vector);
    draw_label(canvas, label, symbols);
    check(cairo_status(cr.get()), "label drawing");
    cr.reset();
    cairo_surface_finish(surface.get());
    check(cairo_surface_status(surface.get()), "label PDF");
  }
  return out;
}

}  // namespace

std::string_view to_string(LabelFormat format) {
  switch (format) {
    case LabelFormat::png:
      return "png";
    case LabelFormat::svg:
      return "svg";
    case LabelFormat::pdf:
      return "pdf";
    case LabelFormat::zpl:
      return "zpl";
  }
  return "";
}

std::optional<LabelFormat> parse_label_format(std::string_view text) {
  for (auto f : {LabelFormat::png, LabelFormat::svg, LabelFormat::pdf, LabelFormat::zpl}) {
    if (text == to_string(f)) return f;
  }
  return std::nullopt;
}

std::string_view content_type(LabelFormat format) {
  switch (format) {
    case LabelFormat::png:
      return "image/png";
    case LabelFormat::svg:
      return "image/svg+xml";
    case LabelFormat::pdf:
      return "application/pdf";
    case LabelFormat::zpl:
      // No registered media type for ZPL: it is UTF-8 text (^CI28) that is sent to the printer as is.
      return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

std::string_view file_extension(LabelFormat format) {
  return to_string(format);
}

bool is_supported_dpi(int dpi) {
  for (int d : kLabelDpis) {
    if (d == dpi) return true;
  }
  return false;
}

std::string render_label(const LabelData& label, LabelFormat format, int dpi) {
  if (!is_supported_dpi(dpi)) throw std::invalid_argument("labels are printed at 203 or 300 dpi");
  if (format == LabelFormat::zpl) return render_label_zpl(label, dpi);
  const auto symbols = encode_symbols(label);
  switch (format) {
    case LabelFormat::png:
      return render_png(label, symbols, dpi);
    case LabelFormat::svg:
      return render_svg(label, symbols);
    case LabelFormat::pdf:
      return render_pdf(label, symbols);
    case LabelFormat::zpl:
      break;
  }
  return {};
}

std::string render_label_sheet(std::span<const LabelData> labels) {
  constexpr double kPageWidth = 210, kPageHeight = 297;
  constexpr double kCellWidth = kLabelWidthMm * kSheetLabelScale;
  constexpr double kCellHeight = kLabelHeightMm * kSheetLabelScale;
  constexpr double kLeft = (kPageWidth - 2 * kCellWidth) / 2;
  constexpr double kTop = (kPageHeight - 2 * kCellHeight) / 2;
  std::string out;
  {
    auto surface = pdf_surface(out, kPageWidth, kPageHeight, "Nhãn bưu gửi / Labels");
    ContextPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), 1 / kMmPerPoint, 1 / kMmPerPoint);
    Canvas canvas(cr.get(), label_detail::CairoTarget::vector);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const auto slot = i % kSheetLabelsPerPage;
      if (i > 0 && slot == 0) cairo_show_page(cr.get());
      if (slot == 0) {
        // Cut lines between the four labels, outside the labels' own quiet zones.
        canvas.line(kPageWidth / 2, 2, kPageWidth / 2, kPageHeight - 2, 0.15, 1.5);
        canvas.line(2, kPageHeight / 2, kPageWidth - 2, kPageHeight / 2, 0.15, 1.5);
      }
      const auto symbols = encode_symbols(labels[i]);
      cairo_save(cr.get());
      cairo_translate(cr.get(), kLeft + static_cast<double>(slot % 2) * kCellWidth,
                      kTop + static_cast<double>(slot / 2) * kCellHeight);
      cairo_scale(cr.get(), kSheetLabelScale, kSheetLabelScale);
      draw_label(canvas, labels[i], symbols);
      cairo_restore(cr.get());
    }
    check(cairo_status(cr.get()), "sheet drawing");
    cr.reset();
    cairo_surface_finish(surface.get());
    check(cairo_surface_status(surface.get()), "sheet PDF");
  }
  return out;
}

std::string_view label_kind_vi(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "HỒ SƠ";
    case ItemKind::result:
      return "KẾT QUẢ";
    case ItemKind::return_item:
      return "HOÀN TRẢ";
  }
  return "";
}

std::string_view label_kind_en(ItemKind kind) {
  switch (kind) {
    case ItemKind::dossier:
      return "DOSSIER";
    case ItemKind::result:
      return "RESULT";
    case ItemKind::return_item:
      return "RETURN";
  }
  return "";
}

std::string_view describe_vi(ServiceOption option) {
  switch (option) {
    case ServiceOption::send:
      return "Gửi hồ sơ";
    case ServiceOption::receive:
      return "Nhận kết quả";
    case ServiceOption::both:
      return "Gửi hồ sơ và nhận kết quả";
  }
  return "";
}

std::string format_vnd(std::int64_t amount) {
  const bool negative = amount < 0;
  // Magnitude as unsigned so that the most negative value does not overflow.
  auto magnitude = negative ? 0 - static_cast<std::uint64_t>(amount) : static_cast<std::uint64_t>(amount);
  std::string digits = std::to_string(magnitude);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return (negative ? "-" : "") + out + " ₫";
}

std::string format_date_dmy(std::string_view iso_date) {
  const bool iso = iso_date.size() == 10 && iso_date[4] == '-' && iso_date[7] == '-';
  if (!iso) return std::string(iso_date);
  return std::string(iso_date.substr(8, 2)) + "/" + std::string(iso_date.substr(5, 2)) + "/" +
         std::string(iso_date.substr(0, 4));
}

std::string address_locality(std::string_view address) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= address.size()) {
    auto comma = address.find(',', start);
    if (comma == std::string_view::npos) comma = address.size();
    auto part = address.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) parts.push_back(part);
    start = comma + 1;
  }
  // House number and street are the first part; ward, district and province follow.
  const std::size_t first = parts.size() >= 3 ? 1 : 0;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += parts[i];
  }
  return out;
}

}  // namespace dpost
