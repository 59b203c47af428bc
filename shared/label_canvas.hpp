#pragma once

// Internal to the label and receipt renderers: one drawing surface in millimetres, whatever the output (PNG
// raster and PDF through cairo, SVG written directly). Not part of the library's public headers.

#include "barcode.hpp"

#include <cairo.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dpost::label_detail {

inline constexpr double kMmPerPoint = 25.4 / 72.0;

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;

struct Font {
  double size_mm = 3.0;
  bool bold = false;
};

enum class Align { left, center, right };

// Where a Canvas draws. `raster`: an A8 image surface whose user space is exactly scale(px per mm): barcodes snap
// to whole pixels and paper is drawn by clearing coverage. `vector`: a cairo vector surface (PDF) in millimetres.
enum class CairoTarget { raster, vector };

// An SVG document of this size in millimetres, written by the Canvas itself (see Canvas(SvgPage)).
struct SvgPage {
  double width_mm = 0;
  double height_mm = 0;
};

// One drawing routine for every output: label.cpp and receipt.cpp draw in millimetres and never ask which backend
// is underneath.
class Canvas {
 public:
  Canvas(cairo_t* cr, CairoTarget target);
  // SVG written element by element (<rect>, <line>, <text>, one <path> per symbol) instead of through cairo's SVG
  // surface, which writes every glyph as an outline (~280 kB a label). Text stays text: searchable, selectable,
  // small. Text is still measured with cairo and the same FreeType font on a scratch surface, so that wrapping and
  // "…" cuts are exactly those of the PNG and PDF.
  explicit Canvas(SvgPage page);

  void ink();    // what follows is black
  void paper();  // what follows is white (clears coverage on a raster)

  void fill_rect(double x, double y, double w, double h);
  void stroke_rect(double x, double y, double w, double h, double line_width);
  void line(double x0, double y0, double x1, double y1, double line_width, double dash = 0);

  double width_of(std::string_view text, Font font);
  // One line; when `max_width` > 0 the text is shortened with "…" to fit.
  void text(double x, double baseline, std::string_view text, Font font, Align align = Align::left,
            double max_width = 0);
  // Greedy word wrap into at most `max_lines` lines of `width` (the last one shortened with "…" when the text
  // does not fit); returns the lines.
  std::vector<std::string> wrap(std::string_view text, double width, Font font, int max_lines);
  // Draws wrapped text from `baseline` down by `step`; returns the number of lines drawn.
  int paragraph(double x, double baseline, double width, double step, std::string_view text, Font font, int max_lines);

  // Code 128 centred on `center_x`, bars from `top` for `height`, modules at most `max_module` wide and the
  // symbol plus its quiet zones (kCode128QuietModules each side) at most `max_width`. Returns the module width.
  double code128(const ModuleGrid& grid, double center_x, double top, double height, double max_width,
                 double max_module);
  // QR code with its 4-module quiet zone inside the square box (x, y, size), centred there.
  void qr(const ModuleGrid& grid, double x, double y, double size);

  // SVG only: closes the document and returns it; the canvas draws nothing more.
  std::string finish_svg();

 private:
  enum class Backend { raster, vector, svg };

  void set_font_options();
  void select(Font font);
  // Fills one rectangle per run of dark modules; on a raster in device pixels, so that every module is a
  // whole number of pixels (a scanner reads bar widths; anti-aliased edges would blur them). In SVG one <path>
  // in module units, named `symbol` by its class.
  void modules(const ModuleGrid& grid, double x, double y, double module_w, double module_h, std::string_view symbol);

  // SVG: the colour of what follows, as a fill or stroke attribute value.
  const char* svg_colour() const { return white_ ? "#fff" : "#000"; }

  Backend backend_;
  SurfacePtr scratch_surface_;  // SVG: measuring only
  ContextPtr scratch_;
  cairo_t* cr_;  // the drawing context; in SVG the scratch one, which only measures
  bool white_ = false;
  std::string svg_;
};

// A PDF surface of one page size (in mm) writing into `out`, with title and creator metadata.
SurfacePtr pdf_surface(std::string& out, double width_mm, double height_mm, const char* title);

// Writes cairo's stream output into a std::string (`closure` is the string).
cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length);

// Throws std::runtime_error naming the status when a surface or context failed.
void check(cairo_status_t status, std::string_view what);

}  // namespace dpost::label_detail
