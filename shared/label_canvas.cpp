#include "label_canvas.hpp"

#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace dpost::label_detail {
namespace {

// DejaVu Sans (fonts-dejavu-core) has every Vietnamese precomposed letter (U+1EA0..U+1EF9), "₫" and "…"; PDF
// embeds the subset used, so readers need no font of their own. SVG names the font (and fallbacks) instead.
constexpr const char* kRegularFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr const char* kBoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

struct Fonts {
  cairo_font_face_t* regular = nullptr;
  cairo_font_face_t* bold = nullptr;
};

cairo_font_face_t* load_face(FT_Library library, const char* path) {
  FT_Face face = nullptr;
  if (FT_New_Face(library, path, 0, &face) != 0) {
    throw std::runtime_error(std::string("cannot load the label font ") + path + " (install fonts-dejavu-core)");
  }
  // Kept for the life of the process: cairo serialises access to the FT_Face itself, so render threads share it.
  return cairo_ft_font_face_create_for_ft_face(face, 0);
}

const Fonts& fonts() {
  static const Fonts loaded = [] {
    FT_Library library = nullptr;
    if (FT_Init_FreeType(&library) != 0) throw std::runtime_error("FreeType failed to initialise");
    return Fonts{load_face(library, kRegularFont), load_face(library, kBoldFont)};
  }();
  return loaded;
}

// Byte length of the UTF-8 sequence starting with `lead` (1 for stray bytes, so that loops always advance).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Cuts `text` back to whole characters no longer than `bytes`.
std::string_view utf8_prefix(std::string_view text, std::size_t bytes) {
  std::size_t end = 0;
  while (end < text.size()) {
    const std::size_t next = end + utf8_length(static_cast<unsigned char>(text[end]));
    if (next > bytes) break;
    end = next;
  }
  return text.substr(0, end);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < text.size() && !(text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

// Millimetres with `decimals` places (1 µm by default), trailing zeros dropped: "4", "19.5", "0.909".
void append_number(std::string& out, double value, int decimals = 3) {
  long long scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  long long fixed = std::llround(value * static_cast<double>(scale));
  if (fixed < 0) {
    out += '-';
    fixed = -fixed;
  }
  out += std::to_string(fixed / scale);
  long long fraction = fixed % scale;
  if (fraction == 0) return;
  int places = decimals;
  while (fraction % 10 == 0) fraction /= 10, --places;
  const std::string digits = std::to_string(fraction);
  out += '.';
  out.append(static_cast<std::size_t>(places) - digits.size(), '0');
  out += digits;
}

void append_attribute(std::string& out, std::string_view name, double value, int decimals = 3) {
  out += ' ';
  out += name;
  out += "=\"";
  append_number(out, value, decimals);
  out += '"';
}

// The code point of the UTF-8 sequence at `text[i]` and its length; {-1, 1} when the bytes there are not UTF-8.
struct CodePoint {
  long value;
  std::size_t length;
};
CodePoint decode_utf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {lead, 1};
  const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return {-1, 1};
  long value = lead & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {-1, 1};
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  constexpr long kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMinimum[length] || (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) return {-1, 1};
  return {value, length};
}

// Character data for XML 1.0: markup characters escaped, and what XML cannot carry at all (control characters,
// U+FFFE/U+FFFF, bytes that are not UTF-8) replaced by U+FFFD, so that odd input never makes the file unreadable.
void append_xml_text(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto [value, length] = decode_utf8(text, i);
    if (value == '&') {
      out += "&amp;";
    } else if (value == '<') {
      out += "&lt;";
    } else if (value == '>') {
      out += "&gt;";
    } else if (value == '\t' || value == '\n' || value == '\r') {
      out += ' ';  // one line of text: cairo does not break lines either
    } else if (value < 0x20 || value == 0xFFFE || value == 0xFFFF) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
}

}  // namespace

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check(cairo_status_t status, std::string_view what) {
  if (status != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(what) + ": " + cairo_status_to_string(status));
  }
}

SurfacePtr pdf_surface(std::string& out, double width_mm, double height_mm, const char* title) {
  SurfacePtr surface(
      cairo_pdf_surface_create_for_stream(append_to_string, &out, width_mm / kMmPerPoint, height_mm / kMmPerPoint));
  check(cairo_surface_status(surface.get()), "PDF");
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "Dossier Post");
  return surface;
}

Canvas::Canvas(cairo_t* cr, CairoTarget target)
    : backend_(target == CairoTarget::raster ? Backend::raster : Backend::vector), cr_(cr) {
  set_font_options();
  ink();
}

Canvas::Canvas(SvgPage page)
    : backend_(Backend::svg),
      // A 1 x 1 surface is enough to measure on: metrics are unhinted, so they do not depend on the surface.
      scratch_surface_(cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1)),
      scratch_(cairo_create(scratch_surface_.get())),
      cr_(scratch_.get()) {
  check(cairo_status(cr_), "SVG text measuring");
  set_font_options();
  svg_.reserve(16 * 1024);
  svg_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"";
  append_number(svg_, page.width_mm);
  svg_ += "mm\" height=\"";
  append_number(svg_, page.height_mm);
  svg_ += "mm\" viewBox=\"0 0";
  append_number(svg_.append(" "), page.width_mm);
  append_number(svg_.append(" "), page.height_mm);
  // DejaVu Sans first: the font the layout was measured with; the others have the Vietnamese letters and are no
  // wider, so a viewer without DejaVu still keeps every line in its place. Spaces are kept as cairo draws them.
  svg_ += "\" font-family=\"DejaVu Sans, Noto Sans, Arial, sans-serif\" xml:space=\"preserve\">\n";
  ink();
}

std::string Canvas::finish_svg() {
  // Measuring fails as drawing does on the other backends, e.g. for text that is not UTF-8.
  check(cairo_status(cr_), "label drawing");
  svg_ += "</svg>\n";
  return std::move(svg_);
}

void Canvas::set_font_options() {
  fonts();  // fail early, before anything is drawn, when the font is missing
  cairo_font_options_t* options = cairo_font_options_create();
  // Unhinted metrics: a text's width is the same in PNG, SVG and PDF, so the layout is the same in all three.
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr_, options);
  cairo_font_options_destroy(options);
}

void Canvas::ink() {
  white_ = false;
  if (backend_ == Backend::svg) return;
  // On the A8 raster, ADD: pixman has a fast path for glyphs ADDed onto A8 and none for OVER, which went through
  // its general compositor and was half of a PNG's time. The two differ only where anti-aliased edges of
  // different shapes overlap (a + b instead of a + b - ab), and the PNG thresholds coverage at 50 % anyway.
  cairo_set_operator(cr_, backend_ == Backend::raster ? CAIRO_OPERATOR_ADD : CAIRO_OPERATOR_OVER);
  cairo_set_source_rgb(cr_, 0, 0, 0);
}

void Canvas::paper() {
  white_ = true;
  if (backend_ == Backend::svg) return;
  if (backend_ == Backend::raster) {
    // An A8 surface holds ink coverage: paper is no coverage.
    cairo_set_operator(cr_, CAIRO_OPERATOR_CLEAR);
  } else {
    cairo_set_operator(cr_, CAIRO_OPERATOR_OVER);
    cairo_set_source_rgb(cr_, 1, 1, 1);
  }
}

void Canvas::fill_rect(double x, double y, double w, double h) {
  if (backend_ == Backend::svg) {
    svg_ += "<rect";
    append_attribute(svg_, "x", x);
    append_attribute(svg_, "y", y);
    append_attribute(svg_, "width", w);
    append_attribute(svg_, "height", h);
    if (white_) svg_ += " fill=\"#fff\"";  // black is SVG's default fill
    svg_ += "/>\n";
    return;
  }
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

void Canvas::stroke_rect(double x, double y, double w, double h, double line_width) {
  if (backend_ == Backend::svg) {
    svg_ += "<rect";
    append_attribute(svg_, "x", x);
    append_attribute(svg_, "y", y);
    append_attribute(svg_, "width", w);
    append_attribute(svg_, "height", h);
    svg_.append(" fill=\"none\" stroke=\"").append(svg_colour()).append("\"");
    append_attribute(svg_, "stroke-width", line_width);
    svg_ += "/>\n";
    return;
  }
  cairo_set_line_width(cr_, line_width);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
}

void Canvas::line(double x0, double y0, double x1, double y1, double line_width, double dash) {
  if (backend_ == Backend::svg) {
    svg_ += "<line";
    append_attribute(svg_, "x1", x0);
    append_attribute(svg_, "y1", y0);
    append_attribute(svg_, "x2", x1);
    append_attribute(svg_, "y2", y1);
    svg_.append(" stroke=\"").append(svg_colour()).append("\"");
    append_attribute(svg_, "stroke-width", line_width);
    if (dash > 0) append_attribute(svg_, "stroke-dasharray", dash);
    svg_ += "/>\n";
    return;
  }
  cairo_set_line_width(cr_, line_width);
  if (dash > 0) cairo_set_dash(cr_, &dash, 1, 0);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
  if (dash > 0) cairo_set_dash(cr_, nullptr, 0, 0);
}

void Canvas::select(Font font) {
  cairo_set_font_face(cr_, font.bold ? fonts().bold : fonts().regular);
  cairo_set_font_size(cr_, font.size_mm);
}

double Canvas::width_of(std::string_view text, Font font) {
  select(font);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, std::string(text).c_str(), &extents);
  return extents.x_advance;
}

void Canvas::text(double x, double baseline, std::string_view text, Font font, Align align, double max_width) {
  std::string shown(text);
  double width = width_of(shown, font);
  if (max_width > 0 && width > max_width) {
    // Shorten by whole characters until the text and the ellipsis fit.
    std::size_t keep = shown.size();
    while (keep > 0) {
      keep = utf8_prefix(shown, keep - 1).size();
      std::string candidate = std::string(utf8_prefix(text, keep)) + "…";
      width = width_of(candidate, font);
      if (width <= max_width) {
        shown = std::move(candidate);
        break;
      }
    }
    if (keep == 0) shown = "…", width = width_of(shown, font);
  }
  if (backend_ == Backend::svg) {
    // The anchor keeps centred and right-aligned text in place should a viewer substitute another font.
    svg_ += "<text";
    append_attribute(svg_, "x", x);
    append_attribute(svg_, "y", baseline);
    append_attribute(svg_, "font-size", font.size_mm);
    if (font.bold) svg_ += " font-weight=\"bold\"";
    if (align == Align::center) svg_ += " text-anchor=\"middle\"";
    if (align == Align::right) svg_ += " text-anchor=\"end\"";
    if (white_) svg_ += " fill=\"#fff\"";
    svg_ += '>';
    append_xml_text(svg_, shown);
    svg_ += "</text>\n";
    return;
  }
  select(font);
  const double start = align == Align::left ? x : align == Align::center ? x - width / 2 : x - width;
  cairo_move_to(cr_, start, baseline);
  cairo_show_text(cr_, shown.c_str());
  cairo_new_path(cr_);
}

std::vector<std::string> Canvas::wrap(std::string_view text, double width, Font font, int max_lines) {
  std::vector<std::string> lines;
  const auto words = split_words(text);
  std::string current;
  std::size_t i = 0;
  for (; i < words.size(); ++i) {
    std::string candidate = current;
    if (!candidate.empty()) candidate += ' ';
    candidate += words[i];
    if (current.empty() || width_of(candidate, font) <= width) {
      current = std::move(candidate);
      continue;
    }
    lines.push_back(std::move(current));
    current = std::string(words[i]);
    if (static_cast<int>(lines.size()) == max_lines) break;
  }
  if (static_cast<int>(lines.size()) < max_lines && !current.empty()) {
    lines.push_back(std::move(current));
    ++i;
  }
  if (i < words.size() && !lines.empty()) {
    // More words than lines: the last line carries the rest, so that text() cuts it with "…" at the width.
    for (std::size_t k = i; k < words.size(); ++k) lines.back().append(" ").append(words[k]);
  }
  return lines;
}

int Canvas::paragraph(double x, double baseline, double width, double step, std::string_view text, Font font,
                      int max_lines) {
  const auto lines = wrap(text, width, font, max_lines);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    this->text(x, baseline + step * static_cast<double>(k), lines[k], font, Align::left, width);
  }
  return static_cast<int>(lines.size());
}

void Canvas::modules(const ModuleGrid& grid, double x, double y, double module_w, double module_h,
                     std::string_view symbol) {
  if (backend_ == Backend::svg) {
    // In module units, so that every edge is a whole number and the path reads back as the grid: per row an
    // absolute move to the first run, a relative move from one run's start to the next ("z" returns there).
    svg_.append("<path class=\"").append(symbol).append("\" transform=\"translate(");
    append_number(svg_, x);
    svg_ += ' ';
    append_number(svg_, y);
    svg_ += ") scale(";
    append_number(svg_, module_w, 6);
    svg_ += ' ';
    append_number(svg_, module_h, 6);
    svg_ += ")\" shape-rendering=\"crispEdges\" d=\"";
    for (int row = 0; row < grid.height; ++row) {
      int previous = -1;
      for (int col = 0; col < grid.width;) {
        if (!grid.at(col, row)) {
          ++col;
          continue;
        }
        int end = col;
        while (end < grid.width && grid.at(end, row)) ++end;
        const std::string run = std::to_string(end - col);
        if (previous < 0) {
          svg_.append("M").append(std::to_string(col)).append(" ").append(std::to_string(row));
        } else {
          svg_.append("m").append(std::to_string(col - previous)).append(" 0");
        }
        svg_.append("h").append(run).append("v1h-").append(run).append("z");
        previous = col;
        col = end;
      }
    }
    svg_ += "\"/>\n";
    return;
  }
  for (int row = 0; row < grid.height; ++row) {
    int col = 0;
    while (col < grid.width) {
      if (!grid.at(col, row)) {
        ++col;
        continue;
      }
      int end = col;
      while (end < grid.width && grid.at(end, row)) ++end;
      cairo_rectangle(cr_, x + col * module_w, y + row * module_h, (end - col) * module_w, module_h);
      col = end;
    }
  }
  // One fill for the whole symbol: abutting rectangles of one path leave no anti-aliasing seams in viewers.
  cairo_fill(cr_);
}

double Canvas::code128(const ModuleGrid& grid, double center_x, double top, double height, double max_width,
                       double max_module) {
  const int total = grid.width + 2 * kCode128QuietModules;
  double module = std::min(max_width / total, max_module);
  if (backend_ != Backend::raster) {
    const double left = center_x - module * total / 2 + module * kCode128QuietModules;
    modules(grid, left, top, module, height, "code128");
    return module;
  }
  // Raster: whole device pixels per module, placed on the pixel grid.
  double px_per_unit = 1, zero = 0;
  cairo_user_to_device_distance(cr_, &px_per_unit, &zero);
  const double module_px = std::max(1.0, std::floor(module * px_per_unit + 1e-9));
  double cx = center_x, ty = top, bx = center_x, by = top + height;
  cairo_user_to_device(cr_, &cx, &ty);
  cairo_user_to_device(cr_, &bx, &by);
  const double left_px = std::round(cx - module_px * total / 2) + module_px * kCode128QuietModules;
  cairo_save(cr_);
  cairo_identity_matrix(cr_);
  cairo_set_antialias(cr_, CAIRO_ANTIALIAS_NONE);
  modules(grid, left_px, std::round(ty), module_px, std::round(by) - std::round(ty), "code128");
  cairo_restore(cr_);
  return module_px / px_per_unit;
}

void Canvas::qr(const ModuleGrid& grid, double x, double y, double size) {
  const int total = grid.width + 2 * kQrQuietModules;
  const double module = size / total;
  if (backend_ != Backend::raster) {
    const double offset = (size - module * grid.width) / 2;
    modules(grid, x + offset, y + offset, module, module, "qr");
    return;
  }
  double px_per_unit = 1, zero = 0;
  cairo_user_to_device_distance(cr_, &px_per_unit, &zero);
  const double module_px = std::max(1.0, std::floor(module * px_per_unit + 1e-9));
  double dx = x, dy = y;
  cairo_user_to_device(cr_, &dx, &dy);
  const double offset = std::round((size * px_per_unit - module_px * grid.width) / 2);
  cairo_save(cr_);
  cairo_identity_matrix(cr_);
  cairo_set_antialias(cr_, CAIRO_ANTIALIAS_NONE);
  modules(grid, std::round(dx) + offset, std::round(dy) + offset, module_px, module_px, "qr");
  cairo_restore(cr_);
}

}  // namespace dpost::label_detail
