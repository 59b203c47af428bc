// The SVG label: written element by element (text as <text>, each symbol one <path> in module units), small,
// well-formed XML whatever the data, the same layout as the PDF, and symbols that are exactly ZXing's modules.
#include "barcode.hpp"
#include "label_test_util.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace dpost;
using namespace dpost::label_test;

namespace {

constexpr std::size_t kMaxSvgBytes = 20'000;

bool valid_xml_char_data(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    if (c == '<') return false;
    if (c == '&') {
      const auto end = text.find(';', i);
      if (end == std::string_view::npos) return false;
      const auto entity = text.substr(i + 1, end - i - 1);
      if (entity != "amp" && entity != "lt" && entity != "gt" && entity != "quot" && entity != "apos") return false;
      i = end;
    }
  }
  return true;
}

// A small well-formedness check, enough for what the canvas writes: one root, tags nest and match, attributes
// are quoted, character data has no raw '<' or stray '&', and everything is UTF-8. Returns an error or nullopt.
std::optional<std::string> xml_error(std::string_view xml) {
  if (xml.rfind("<?xml ", 0) == 0) xml.remove_prefix(xml.find("?>") + 2);
  std::vector<std::string_view> open;
  bool root_seen = false;
  std::size_t i = 0;
  while (i < xml.size()) {
    const auto lt = xml.find('<', i);
    const auto data = xml.substr(i, lt == std::string_view::npos ? std::string_view::npos : lt - i);
    if (!valid_xml_char_data(data)) return "bad character data near byte " + std::to_string(i);
    if (open.empty() && data.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return "text outside the root element";
    }
    if (lt == std::string_view::npos) break;
    const auto gt = xml.find('>', lt);
    if (gt == std::string_view::npos) return "unclosed tag";
    auto tag = xml.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.starts_with('/')) {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + std::string(tag.substr(1)) + ">";
      open.pop_back();
      continue;
    }
    const bool empty = tag.ends_with('/');
    if (empty) tag.remove_suffix(1);
    const auto name_end = tag.find_first_of(" \t\r\n");
    const auto name = tag.substr(0, name_end);
    if (name.empty()) return "empty tag name";
    if (open.empty()) {
      if (root_seen) return "a second root element";
      root_seen = true;
    }
    // Attributes: name="value" separated by blanks.
    auto rest = name_end == std::string_view::npos ? std::string_view{} : tag.substr(name_end);
    while (true) {
      const auto start = rest.find_first_not_of(" \t\r\n");
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      const auto eq = rest.find("=\"");
      if (eq == std::string_view::npos || eq == 0) return "bad attribute in <" + std::string(name) + ">";
      const auto close = rest.find('"', eq + 2);
      if (close == std::string_view::npos) return "unterminated attribute in <" + std::string(name) + ">";
      if (!valid_xml_char_data(rest.substr(eq + 2, close - eq - 2))) return "bad attribute value";
      rest.remove_prefix(close + 1);
    }
    if (!empty) open.push_back(name);
  }
  if (!root_seen) return "no root element";
  if (!open.empty()) return "unclosed <" + std::string(open.back()) + ">";
  return std::nullopt;
}

void check_well_formed(const std::string& svg) {
  const auto error = xml_error(svg);
  CHECK_MESSAGE(!error.has_value(), *error);
  // A real parser too, where the machine has one (libxml2-utils).
  if (have_tool("xmllint")) {
    const auto path = temp_dir() / "well-formed.svg";
    write_file(path, svg);
    CHECK(std::system(("xmllint --noout '" + path.string() + "'").c_str()) == 0);
  }
}

// The value of attribute `name` in the first element carrying `marker` (e.g. class="qr").
std::string attribute_of(const std::string& svg, std::string_view marker, std::string_view name) {
  const auto at = svg.find(marker);
  REQUIRE(at != std::string::npos);
  const auto start = svg.rfind('<', at);
  const auto end = svg.find('>', at);
  const auto element = std::string_view(svg).substr(start, end - start);
  const auto key = " " + std::string(name) + "=\"";
  const auto value = element.find(key);
  REQUIRE(value != std::string_view::npos);
  const auto close = element.find('"', value + key.size());
  return std::string(element.substr(value + key.size(), close - value - key.size()));
}

struct Placement {
  double x = 0, y = 0, module_w = 0, module_h = 0;
};

Placement parse_transform(const std::string& transform) {
  Placement p;
  REQUIRE(std::sscanf(transform.c_str(), "translate(%lf %lf) scale(%lf %lf)", &p.x, &p.y, &p.module_w, &p.module_h) ==
          4);
  return p;
}

// Reads a symbol's path back into modules: each subpath must be one run "M col row" (or "m dcol 0" from the
// previous run's start) then "h n v1 h-n z", in whole modules inside the grid; nullopt otherwise.
std::optional<ModuleGrid> parse_modules(const std::string& d, int width, int height) {
  ModuleGrid grid{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width * height), 0)};
  const char* p = d.c_str();
  bool ok = true;
  const auto number = [&p, &ok] {
    char* end = nullptr;
    const long v = std::strtol(p, &end, 10);
    ok = ok && end != p;
    p = end;
    return static_cast<int>(v);
  };
  const auto expect = [&p, &ok](char c) {
    ok = ok && *p == c;
    if (ok) ++p;
  };
  int col = 0, row = 0;
  while (ok && *p) {
    if (*p == 'M') {
      ++p;
      col = number();
      expect(' ');
      row = number();
    } else {
      expect('m');
      col += number();
      expect(' ');
      ok = ok && number() == 0;
    }
    expect('h');
    const int run = number();
    expect('v');
    ok = ok && number() == 1;
    expect('h');
    ok = ok && number() == -run;
    expect('z');
    ok = ok && run > 0 && col >= 0 && col + run <= width && row >= 0 && row < height;
    for (int k = col; ok && k < col + run; ++k) grid.dark[static_cast<std::size_t>(row * width + k)] = 1;
  }
  if (!ok) return std::nullopt;
  return grid;
}

// Text of every <text> element, entities undone.
std::vector<std::string> svg_texts(const std::string& svg) {
  std::vector<std::string> texts;
  for (auto at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1)) {
    const auto start = svg.find('>', at) + 1;
    std::string text = svg.substr(start, svg.find("</text>", start) - start);
    for (const auto& [entity, c] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
      for (auto e = text.find(entity); e != std::string::npos; e = text.find(entity, e + 1)) {
        text.replace(e, std::string_view(entity).size(), c);
      }
    }
    texts.push_back(text);
  }
  return texts;
}

}  // namespace

TEST_CASE("label SVG: small, text as text, no glyph outlines") {
  for (auto kind : {ItemKind::dossier, ItemKind::result, ItemKind::return_item}) {
    CAPTURE(static_cast<int>(kind));
    const auto svg = render_label(sample_label(kind), LabelFormat::svg);
    CHECK(svg.size() < kMaxSvgBytes);
    CHECK(svg.find("width=\"100mm\" height=\"150mm\" viewBox=\"0 0 100 150\"") != std::string::npos);
    CHECK(svg.find("font-family=\"DejaVu Sans, Noto Sans, Arial, sans-serif\"") != std::string::npos);
    CHECK(svg.find("<symbol") == std::string::npos);
    CHECK(svg.find(">Nguyễn Thị Ngọc Ánh</text>") != std::string::npos);
    CHECK(svg.find(std::string(">") + std::string(label_kind_vi(kind)) + "</text>") != std::string::npos);
    CHECK(svg.find(">EE 123 456 785 VN</text>") != std::string::npos);
    check_well_formed(svg);
  }
  // Overlong text is cut with "…" as in the PDF; the file stays small.
  auto label = sample_label(ItemKind::result);
  label.recipient.name = std::string(300, 'W');
  for (int i = 0; i < 60; ++i) label.procedure_name += " dài";
  const auto svg = render_label(label, LabelFormat::svg);
  CHECK(svg.size() < kMaxSvgBytes);
  CHECK(svg.find("W…</text>") != std::string::npos);
  check_well_formed(svg);
}

TEST_CASE("label SVG: data that is not plain text stays well-formed XML") {
  auto label = sample_label(ItemKind::result);
  label.recipient.name = "A & B <C> \"D\" 'E'";
  label.recipient.lines = {"bell\a, escape \x1B, DEL \x7F end", "]]> <!-- --> <![CDATA[x]]> &amp;"};
  label.procedure_name = "</text></svg><svg>";
  const auto svg = render_label(label, LabelFormat::svg);
  check_well_formed(svg);
  CHECK(svg.find(">A &amp; B &lt;C&gt; \"D\" 'E'</text>") != std::string::npos);
  CHECK(svg.find("&lt;/text&gt;&lt;/svg&gt;&lt;svg&gt;") != std::string::npos);
  // XML 1.0 cannot carry C0 controls at all, not even as &#7;.
  CHECK(svg.find(">bell\xEF\xBF\xBD, escape \xEF\xBF\xBD, DEL \x7F end</text>") != std::string::npos);
  CHECK(svg.find("]]&gt; &lt;!-- --&gt; &lt;![CDATA[x]]&gt; &amp;amp;") != std::string::npos);
}

TEST_CASE("label: text that is not UTF-8 is refused in every drawn format") {
  // The API validates text on the way in (text.hpp); cairo refuses it here, and the SVG backend, which measures
  // with cairo, refuses it too rather than lay it out with zero widths.
  auto label = sample_label(ItemKind::result);
  label.recipient.lines = {"bad UTF-8 \xC3( here"};
  for (auto format : {LabelFormat::png, LabelFormat::pdf, LabelFormat::svg}) {
    CAPTURE(to_string(format));
    CHECK_THROWS_AS(render_label(label, format, 203), std::runtime_error);
  }
}

TEST_CASE("label SVG: the symbols are exactly ZXing's modules, with their quiet zones") {
  for (const auto& id : ids_with_every_check_digit()) {
    CAPTURE(id);
    auto label = sample_label(ItemKind::dossier, id);
    label.tracking_url = "https://tracuu.example.vn/t/svg-" + id;
    const auto svg = render_label(label, LabelFormat::svg);

    const auto code128 = encode_code128(id);
    const auto bars = parse_transform(attribute_of(svg, "class=\"code128\"", "transform"));
    const auto bar_modules = parse_modules(attribute_of(svg, "class=\"code128\"", "d"), code128.width, 1);
    REQUIRE(bar_modules.has_value());
    CHECK(bar_modules->dark == code128.dark);
    // Whole 0.5 mm modules (4 dots at 203 dpi), 21 mm bars, centred, quiet zones inside the label's margins.
    CHECK(bars.module_w == doctest::Approx(0.5));
    CHECK(bars.module_h == doctest::Approx(21));
    CHECK(bars.x + bars.module_w * code128.width / 2 == doctest::Approx(kLabelWidthMm / 2).epsilon(1e-4));
    CHECK(bars.x - kCode128QuietModules * bars.module_w >= 4 - 1e-9);
    CHECK(bars.x + (code128.width + kCode128QuietModules) * bars.module_w <= kLabelWidthMm - 4 + 1e-9);

    const auto qr = encode_qr(label.tracking_url);
    const auto square = parse_transform(attribute_of(svg, "class=\"qr\"", "transform"));
    const auto qr_modules = parse_modules(attribute_of(svg, "class=\"qr\"", "d"), qr.width, qr.height);
    REQUIRE(qr_modules.has_value());
    CHECK(qr_modules->dark == qr.dark);
    // 4 modules of quiet zone inside the 30 mm box at (66, 115).
    CHECK(square.module_w == doctest::Approx(square.module_h));
    CHECK(square.module_w * (qr.width + 2 * kQrQuietModules) == doctest::Approx(30).epsilon(1e-4));
    CHECK(square.x - kQrQuietModules * square.module_w == doctest::Approx(66).epsilon(1e-4));
    CHECK(square.y - kQrQuietModules * square.module_w == doctest::Approx(115).epsilon(1e-4));
  }
}

TEST_CASE("label SVG: the same layout as the PDF, line for line") {
  if (!have_tool("pdftotext")) FAIL("pdftotext is missing: scripts/setup installs poppler-utils");
  for (auto kind : {ItemKind::dossier, ItemKind::result}) {
    const auto label = sample_label(kind);
    const auto texts = svg_texts(render_label(label, LabelFormat::svg));
    const auto pdf = pdf_text(render_label(label, LabelFormat::pdf));
    REQUIRE(pdf.has_value());
    CHECK(texts.size() > 20);
    // Every line of the SVG, wrapped and cut where the PDF wraps and cuts it, is a line of the PDF.
    for (const auto& text : texts) {
      CAPTURE(text);
      CHECK(pdf->find(text + "\n") != std::string::npos);
    }
  }
}

TEST_CASE("label SVG: rasterised by rsvg-convert, both symbols decode") {
  // librsvg2-bin is not part of scripts/setup: this round trip runs where it is installed.
  if (!have_tool("rsvg-convert")) {
    MESSAGE("rsvg-convert is missing (apt-get install librsvg2-bin): SVG raster round trip skipped");
    return;
  }
  for (const auto& id : {std::string("EE123456785VN"), ids_with_every_check_digit()[0]}) {
    auto label = sample_label(ItemKind::result, id);
    label.tracking_url = "https://tracuu.example.vn/t/rsvg-" + id;
    const auto path = temp_dir() / ("rsvg-" + id);
    write_file(path.string() + ".svg", render_label(label, LabelFormat::svg));
    for (int dpi : {203, 300}) {
      CAPTURE(dpi);
      const auto command = "rsvg-convert -d " + std::to_string(dpi) + " -p " + std::to_string(dpi) + " -b white -o '" +
                           path.string() + ".png' '" + path.string() + ".svg'";
      REQUIRE(std::system(command.c_str()) == 0);
      const auto png = read_file(path.string() + ".png");
      REQUIRE(png.has_value());
      const auto image = decode_png_gray(*png);
      REQUIRE(image.has_value());
      const auto found = decode(*image);
      CHECK(found.code128 == std::vector<std::string>{label.item_id});
      CHECK(found.qr == std::vector<std::string>{label.tracking_url});
    }
  }
}
