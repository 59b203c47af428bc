#include "cli.hpp"

#include <iostream>
#include <string_view>

namespace dpost::scanner {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;  // BSD sysexits-style convention shared by most CLIs: bad command line

// Vietnamese first (the clerks' language), English second.
constexpr std::string_view kHelp =
    R"(dossier-scanner — công cụ quét nhãn bưu gửi hồ sơ hành chính (Dossier Post)

Cách dùng: dossier-scanner <lệnh> [tùy chọn]

Chương trình sẽ:
  - giải mã ảnh chụp nhãn (mã vạch Code 128 và mã QR) để lấy số hiệu bưu gửi;
  - chạy ở chế độ bàn phím (keyboard-wedge): nhận mã từ máy quét USB gõ vào kèm phím Enter;
  - ghi sự kiện vào hộp thư đi ngoại tuyến khi mất mạng, không bao giờ làm mất sự kiện;
  - đồng bộ hộp thư đi lên máy chủ khi có mạng.

Các lệnh (sắp có):
  decode   giải mã ảnh chụp nhãn
  scan     quét liên tục ở chế độ bàn phím
  status   xem hộp thư đi và lần đồng bộ gần nhất
  sync     gửi các sự kiện đang chờ lên máy chủ

Tùy chọn:
  -h, --help   hiện trợ giúp này

---

dossier-scanner — label scanning tool for administrative dossiers sent by post (Dossier Post)

Usage: dossier-scanner <command> [options]

It will:
  - decode label photos (Code 128 barcode and QR code) into item ids;
  - run in keyboard-wedge mode: read codes a USB scanner types, followed by Enter;
  - record events in an offline outbox when the network is down, never losing one;
  - sync the outbox to the server when the network is back.

Commands (coming soon):
  decode   decode a label photo
  scan     scan continuously in keyboard-wedge mode
  status   show the outbox and the last sync
  sync     send pending events to the server

Options:
  -h, --help   show this help
)";

constexpr std::string_view kComingCommands[] = {"decode", "scan", "status", "sync"};

}  // namespace

int run_cli(int argc, char** argv) {
  if (argc < 2) {
    std::cout << kHelp;
    return kExitOk;
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kHelp;
    return kExitOk;
  }
  for (std::string_view coming : kComingCommands) {
    if (command == coming) {
      std::cerr << "dossier-scanner: '" << command
                << "' chưa được hỗ trợ / is not implemented yet (see dossier-scanner --help)\n";
      return kExitUsage;
    }
  }
  std::cerr << "dossier-scanner: lệnh không hợp lệ / unknown command '" << command
            << "' (see dossier-scanner --help)\n";
  return kExitUsage;
}

}  // namespace dpost::scanner
