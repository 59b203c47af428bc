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
// and SVG embed the subset used, so readers need no font of their own.
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

Canvas::Canvas(cairo_t* cr, bool raster) : cr_(cr), raster_(raster) {
  fonts();  // fail early, before anything is drawn, when the font is missing
  cairo_font_options_t* options = cairo_font_options_create();
  // Unhinted metrics: a text's width is the same in PNG, SVG and PDF, so the layout is the same in all three.
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr_, options);
  cairo_font_options_destroy(options);
  ink();
}

void Canvas::ink() {
  cairo_set_operator(cr_, CAIRO_OPERATOR_OVER);
  cairo_set_source_rgb(cr_, 0, 0, 0);
}

void Canvas::paper() {
  if (raster_) {
    // An A8 surface holds ink coverage: paper is no coverage.
    cairo_set_operator(cr_, CAIRO_OPERATOR_CLEAR);
  } else {
    cairo_set_operator(cr_, CAIRO_OPERATOR_OVER);
    cairo_set_source_rgb(cr_, 1, 1, 1);
  }
}

void Canvas::fill_rect(double x, double y, double w, double h) {
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

void Canvas::stroke_rect(double x, double y, double w, double h, double line_width) {
  cairo_set_line_width(cr_, line_width);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
}

void Canvas::line(double x0, double y0, double x1, double y1, double line_width, double dash) {
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

void Canvas::modules(const ModuleGrid& grid, double x, double y, double module_w, double module_h) {
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
  if (!raster_) {
    const double left = center_x - module * total / 2 + module * kCode128QuietModules;
    modules(grid, left, top, module, height);
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
  modules(grid, left_px, std::round(ty), module_px, std::round(by) - std::round(ty));
  cairo_restore(cr_);
  return module_px / px_per_unit;
}

void Canvas::qr(const ModuleGrid& grid, double x, double y, double size) {
  const int total = grid.width + 2 * kQrQuietModules;
  const double module = size / total;
  if (!raster_) {
    const double offset = (size - module * grid.width) / 2;
    modules(grid, x + offset, y + offset, module, module);
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
  modules(grid, std::round(dx) + offset, std::round(dy) + offset, module_px, module_px);
  cairo_restore(cr_);
}

}  // namespace dpost::label_detail
