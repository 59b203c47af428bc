#pragma once

#include "dossier.hpp"
#include "journey.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpost {

// Output formats of a label (issue 3). PNG for screens and phone printers, SVG for crisp small files, PDF for
// office printers, ZPL for Zebra thermal printers.
enum class LabelFormat { png, svg, pdf, zpl };
std::string_view to_string(LabelFormat format);
std::optional<LabelFormat> parse_label_format(std::string_view text);
std::string_view content_type(LabelFormat format);    // "image/png", ..., ZPL "text/plain; charset=utf-8"
std::string_view file_extension(LabelFormat format);  // "png", "svg", "pdf", "zpl"

// Thermal printers print at 203 dpi (8 dots/mm) or 300 dpi (12 dots/mm); PNG and ZPL are made for one of them.
inline constexpr int kLabelDpis[] = {203, 300};
bool is_supported_dpi(int dpi);

// One label is 100 x 150 mm (4 x 6 in), portrait: the common thermal shipping label.
inline constexpr double kLabelWidthMm = 100.0;
inline constexpr double kLabelHeightMm = 150.0;

// One side of an envelope: who, then the lines that get it there.
struct LabelParty {
  std::string name;
  std::vector<std::string> lines;  // address lines, office identifier, masked phone; printed as given
};

// Everything printed on one item's label, already chosen and masked by the caller: no ID number, no full phone.
struct LabelData {
  std::string item_id;  // canonical S10 id, e.g. EE123456785VN
  ItemKind kind = ItemKind::dossier;
  std::string tracking_url;  // {public base URL}/t/{token}: the QR
  LabelParty sender;
  LabelParty recipient;
  std::string procedure_code;
  std::string procedure_name;
  std::string dossier_code;  // mã hồ sơ, may be empty
  ServiceOption service = ServiceOption::both;
  std::string date;  // as printed, e.g. "23/11/2026"
};

// Renders one label. `dpi` sets the raster of PNG and the dot grid of ZPL; PDF and SVG are vector (mm) and
// ignore it. Throws std::invalid_argument for an unsupported dpi or an item id Code 128 cannot carry.
std::string render_label(const LabelData& label, LabelFormat format, int dpi = 203);

// A4 sheets for a day's batch: 4 labels per page (2 x 2), each the 100 x 150 mm label scaled to 94 % so that a
// 7 mm margin remains for office printers; thin cut lines between them. PDF bytes.
inline constexpr double kSheetLabelScale = 0.94;
inline constexpr int kSheetLabelsPerPage = 4;
std::string render_label_sheet(std::span<const LabelData> labels);

// The receipt the citizen keeps when a clerk picks up a dossier (phiếu gửi hồ sơ): one A4 page, PDF.
struct ReceiptDocument {
  std::string name;
  std::string kind;  // "Bản chính", "Bản sao chứng thực", "Bản sao"
  int count = 1;
};
struct ReceiptData {
  std::string item_id;
  std::string tracking_url;
  std::string lookup_code;  // the second factor for tracking by item number (may be empty)
  std::string dossier_code;
  std::string procedure_code;
  std::string procedure_name;
  std::string applicant_name;
  std::string applicant_address;
  std::string applicant_phone;   // masked by the caller
  std::string office_name;       // the one-stop office the dossier goes to
  std::string post_office_name;  // where the clerk works
  std::string clerk_name;
  ServiceOption service = ServiceOption::both;
  std::string date;      // pickup date, as printed
  std::string due_date;  // hẹn trả, as printed; may be empty
  std::vector<ReceiptDocument> documents;
  std::optional<std::int64_t> fee_vnd;
};
std::string render_receipt(const ReceiptData& receipt);

// A handover slip (phiếu kiểm soát bàn giao) or a bag's manifest: one row per handoff, giver and receiver,
// time and on-time status, with signature boxes; A4 landscape PDF, as many pages as the rows need.
struct HandoverSlipRow {
  std::string time;  // as printed, "09:15 23/11/2026"
  std::string item_id;
  std::string dossier_code;
  std::string what;   // "HỒ SƠ — Cấp phiếu lý lịch tư pháp"
  std::string event;  // "EMI Đã phát", "Trong bảng kê"
  std::string giver;
  std::string receiver;
  std::string recorded_by;
  std::string result;  // Trước hạn / Đúng hạn / Quá hạn, or a bag outcome
  std::string note;
};
struct HandoverSlipData {
  std::string title_vi;
  std::string title_en;
  std::string site_name;  // whose slip, or "A → B" for a bag
  std::string period;     // the day, or the dispatch time
  std::string bag_id;     // a bag's slip: its barcode is printed at the top
  std::string giver;      // signature boxes
  std::string receiver;
  std::vector<HandoverSlipRow> rows;
};
std::string render_handover_slip(const HandoverSlipData& slip);

// The label on a bag: its Code 128 with the id below, from, to, number of items, date. 100 x 150 mm PDF.
struct BagLabelData {
  std::string bag_id;
  std::string origin;
  std::string destination;
  int items = 0;
  std::string date;
};
std::string render_bag_label(const BagLabelData& label);

// The item's kind as printed in the label's black box: "HỒ SƠ" / "DOSSIER", "KẾT QUẢ" / "RESULT",
// "HOÀN TRẢ" / "RETURN".
std::string_view label_kind_vi(ItemKind kind);
std::string_view label_kind_en(ItemKind kind);
// Vietnamese label of a service option: "Gửi hồ sơ", "Nhận kết quả", "Gửi hồ sơ và nhận kết quả".
std::string_view describe_vi(ServiceOption option);
// Amounts as Vietnamese write them: 50000 -> "50.000 ₫".
std::string format_vnd(std::int64_t amount);
// "2026-11-23" -> "23/11/2026" (the order Vietnamese forms use); other text is returned unchanged.
std::string format_date_dmy(std::string_view iso_date);
// What delivery needs of a sender's address: the ward, district and province, without the house and street
// ("Số 12 ngõ 5, phường Kim Mã, quận Ba Đình, Hà Nội" -> "phường Kim Mã, quận Ba Đình, Hà Nội"). Addresses
// with fewer than three comma-separated parts are kept whole.
std::string address_locality(std::string_view address);

}  // namespace dpost
