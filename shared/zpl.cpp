// ZPL II for Zebra thermal printers: the printer draws the barcodes itself (^BC Code 128, ^BQ QR), so they are
// exact at its own dot pitch; text is UTF-8 (^CI28) in the printer's scalable font 0.

#include "barcode.hpp"
#include "item_id.hpp"
#include "label.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace dpost {
namespace {

class Zpl {
 public:
  explicit Zpl(int dpi) : dots_per_mm_(dpi / 25.4) {}

  int dots(double mm) const { return static_cast<int>(std::lround(mm * dots_per_mm_)); }

  void raw(std::string_view command) { out_ += command; }

  // One text field at (x, y) mm (top of the character cell), `height` mm, wrapped by the printer in a field
  // block of `width` mm and `lines` lines.
  void text(double x, double y, double height, std::string_view text, double width, int lines = 1, char justify = 'L',
            bool reverse = false) {
    out_ += "^FO" + std::to_string(dots(x)) + "," + std::to_string(dots(y));
    out_ += "^A0N," + std::to_string(dots(height)) + "," + std::to_string(dots(height * 0.9));
    out_ += "^FB" + std::to_string(dots(width)) + "," + std::to_string(lines) + ",0," + justify + ",0";
    if (reverse) out_ += "^FR";
    out_ += "^FH_^FD" + escape(text) + "^FS\n";
  }

  void box(double x, double y, double w, double h, double thickness) {
    out_ += "^FO" + std::to_string(dots(x)) + "," + std::to_string(dots(y)) + "^GB" + std::to_string(dots(w)) + "," +
            std::to_string(dots(h)) + "," + std::to_string(std::max(1, dots(thickness))) + "^FS\n";
  }

  void hline(double x, double y, double w, double thickness) {
    const int t = std::max(1, dots(thickness));
    out_ += "^FO" + std::to_string(dots(x)) + "," + std::to_string(dots(y)) + "^GB" + std::to_string(dots(w)) + "," +
            std::to_string(t) + "," + std::to_string(t) + "^FS\n";
  }

  std::string take() { return std::move(out_); }

  // ^FH_ makes "_XX" a hex byte: '^' and '~' (command prefixes) and '_' itself are sent that way. In a field
  // block "\&" breaks the line, so a backslash is doubled there. Control characters become spaces.
  static std::string escape(std::string_view text, bool field_block = true) {
    std::string out;
    for (char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (ch == '^') {
        out += "_5E";
      } else if (ch == '~') {
        out += "_7E";
      } else if (ch == '_') {
        out += "_5F";
      } else if (ch == '\\' && field_block) {
        out += "\\\\";
      } else if (c < 0x20 || c == 0x7F) {
        out += ' ';
      } else {
        out += ch;
      }
    }
    return out;
  }

 private:
  double dots_per_mm_;
  std::string out_;
};

// ^BC data with explicit code sets, the same packing ZXing chooses: an S10 id is two letters (set B), eight
// digits (set C, two per symbol), the ninth digit and the country (set B): 156 modules instead of 178.
struct Code128Data {
  std::string data;
  int modules = 0;
};
Code128Data code128_data(std::string_view id) {
  const bool s10 =
      id.size() == 13 && std::all_of(id.begin() + 2, id.begin() + 11, [](char c) { return c >= '0' && c <= '9'; });
  if (s10) {
    std::string data =
        ">:" + std::string(id.substr(0, 2)) + ">5" + std::string(id.substr(2, 8)) + ">6" + std::string(id.substr(10));
    // start, 2 B, switch, 4 C, switch, 3 B, check: 11 modules each; stop 13.
    return {data, 11 * (1 + 2 + 1 + 4 + 1 + 3 + 1) + 13};
  }
  return {">:" + std::string(id), 11 * (static_cast<int>(id.size()) + 2) + 13};
}

void party(Zpl& z, double top, double bottom, std::string_view heading, const LabelParty& p, double name_h,
           double line_h) {
  z.text(4, top + 0.6, 2.5, heading, 92);
  z.text(4, top + 3.6, name_h, p.name, 92, 2);
  std::string lines;
  for (const auto& line : p.lines) {
    if (!lines.empty()) lines += "\\&";
    lines += Zpl::escape(line);
  }
  // The printer wraps the name in its field block: leave room for a second line only when it will need one.
  const bool long_name = p.name.size() > 34;
  const double y = top + 4.2 + name_h * (long_name ? 2.2 : 1.0) + 0.6;
  const int max_lines = std::max(1, static_cast<int>((bottom - y) / (line_h * 1.2)));
  // Escaped already (line breaks must survive): write the field by hand.
  z.raw("^FO" + std::to_string(z.dots(4)) + "," + std::to_string(z.dots(y)) + "^A0N," + std::to_string(z.dots(line_h)) +
        "," + std::to_string(z.dots(line_h * 0.9)) + "^FB" + std::to_string(z.dots(92)) + "," +
        std::to_string(max_lines) + "," + std::to_string(z.dots(line_h * 0.2)) + ",L,0^FH_^FD" + lines + "^FS\n");
}

}  // namespace

std::string render_label_zpl(const LabelData& label, int dpi) {
  Zpl z(dpi);
  const int width = z.dots(kLabelWidthMm);
  z.raw("^XA\n^CI28\n^PW" + std::to_string(width) + "\n^LL" + std::to_string(z.dots(kLabelHeightMm)) + "\n^LH0,0\n");
  z.raw("^FXDossier Post " + Zpl::escape(label.item_id, false) + " " + std::to_string(dpi) + " dpi^FS\n");

  z.text(4, 5.2, 3.8, "BƯU CHÍNH CÔNG ÍCH", 58);
  z.text(4, 10.2, 2.5, "Hồ sơ thủ tục hành chính · Public postal service", 58);
  z.text(4, 13.8, 2.5, std::string(describe_vi(label.service)) + " · " + label.date, 58);
  z.box(64, 4, 32, 13.5, 13.5);
  z.text(64, 6.4, 4.6, label_kind_vi(label.kind), 32, 1, 'C', true);
  z.text(64, 13.2, 2.4, label_kind_en(label.kind), 32, 1, 'C', true);
  z.hline(4, 19.3, 92, 0.4);

  // Code 128: whole dots per module (0.5 mm: 4 dots at 203 dpi, 6 at 300), centred, quiet zones inside the label.
  const auto code = code128_data(label.item_id);
  int module = z.dots(0.5);
  while (module > 1 && (code.modules + 2 * kCode128QuietModules) * module > width) --module;
  const int left = (width - code.modules * module) / 2;
  z.raw("^BY" + std::to_string(module) + ",3," + std::to_string(z.dots(21)) + "\n^FO" + std::to_string(left) + "," +
        std::to_string(z.dots(22.5)) + "^BCN," + std::to_string(z.dots(21)) + ",N,N,N,N^FD" + code.data + "^FS\n");
  auto id = ItemId::parse_any_country(label.item_id);
  z.text(0, 44.6, 5.2, id ? id->grouped() : label.item_id, kLabelWidthMm, 1, 'C');
  z.hline(4, 52.3, 92, 0.4);

  party(z, 53.5, 75, "NGƯỜI GỬI / From", label.sender, 3.8, 3.1);
  z.hline(4, 75.8, 92, 0.4);
  party(z, 77, 112, "NGƯỜI NHẬN / To", label.recipient, 4.8, 3.7);
  z.hline(4, 112.8, 92, 0.4);

  std::string heading = "THỦ TỤC / Procedure";
  if (!label.procedure_code.empty()) heading += " " + label.procedure_code;
  z.text(4, 115, 2.5, heading, 60);
  z.text(4, 118.6, 3.1, label.procedure_name, 60, 3);
  if (!label.dossier_code.empty()) z.text(4, 131, 2.9, "Mã hồ sơ: " + label.dossier_code, 60);
  z.text(4, 135, 2.9, "Dịch vụ: " + std::string(describe_vi(label.service)), 60);
  z.text(4, 139, 2.9, "Ngày: " + label.date, 60);
  z.text(4, 143.3, 2.4, "Quét mã QR để tra cứu · Scan to track", 60);

  // QR: the printer picks the version from the data as ZXing does; ZXing's size sets the magnification so the
  // symbol and its 4-module quiet zone fill the 30 mm square.
  const auto qr = encode_qr(label.tracking_url);
  const int box = z.dots(30);
  const int magnification = std::clamp(box / (qr.width + 2 * kQrQuietModules), 1, 10);
  const int offset = (box - qr.width * magnification) / 2;
  z.raw("^FO" + std::to_string(z.dots(66) + offset) + "," + std::to_string(z.dots(115) + offset) + "^BQN,2," +
        std::to_string(magnification) + "^FH_^FDMA," + Zpl::escape(label.tracking_url, false) + "^FS\n");
  z.raw("^XZ\n");
  return z.take();
}

}  // namespace dpost
