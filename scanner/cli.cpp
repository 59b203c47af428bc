#include "cli.hpp"

#include "decode.hpp"
#include "messages.hpp"
#include "outbox.hpp"
#include "sync.hpp"

#include <clock.hpp>
#include <dossier.hpp>
#include <item_id.hpp>
#include <journey.hpp>
#include <signing.hpp>
#include <text.hpp>

#include <poll.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dpost::scanner {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;  // decode/scan: some file had no id or could not be read
constexpr int kExitUsage = 2;       // BSD sysexits-style convention shared by most CLIs: bad command line
constexpr int kExitQueued = 3;      // sync: events still wait (offline, token refused)
constexpr auto kWatchPoll = std::chrono::milliseconds(500);

// Vietnamese first (the clerks' language), English second.
constexpr std::string_view kHelp =
    R"(dossier-scanner — công cụ quét nhãn bưu gửi hồ sơ hành chính (Dossier Post)

Cách dùng: dossier-scanner <lệnh> [tùy chọn]

Các lệnh:
  enroll --server URL --username U --name TÊN_THIẾT_BỊ
           đăng ký thiết bị (mật khẩu đọc từ stdin, không lưu lại)
  decode [--json] TỆP...
           chỉ đọc ảnh và in các mã tìm thấy; không ghi gì
  scan --code EMA|EDD|EDE|EMG|EDG|EMH|EMI|RES|RTS [--site MÃ] [TỆP|THƯ_MỤC ...] [--watch THƯ_MỤC] [--stdin]
           quét: mỗi mã hợp lệ thành một sự kiện, lưu vào hộp thư đi rồi gửi ngay nếu có mạng
           EMH: --action redeliver|hold_at_post_office|return_to_sender (bắt buộc),
                --reason-code absent|refused|wrong_address|office_closed|moved|no_id|other, --reason LÝ_DO
           EMI: --recipient-name TÊN --id-checked --id-type cccd|cmnd|passport|other --id-number SỐ
                (chỉ lưu 4 số cuối); người nhận thay: --relation QUAN_HỆ --authorization-number SỐ
                --authorization-date YYYY-MM-DD (giấy ủy quyền)
  status [--json]   xem hộp thư đi: đang chờ, bị từ chối
  sync [--json] [--retry-for GIÂY | --wait]   gửi ngay các sự kiện đang chờ

Tùy chọn chung:
  --outbox TỆP         hộp thư đi (mặc định $XDG_DATA_HOME/dossier-scanner/outbox.db)
  --server URL, --device-token T   (hoặc DPOST_SERVER, DPOST_DEVICE_TOKEN) thay cho giá trị đã đăng ký
  --device TÊN         tên thiết bị ghi kèm sự kiện
  --lang vi|en         ngôn ngữ (mặc định vi);  --json   một đối tượng JSON mỗi dòng
  -h, --help           hiện trợ giúp này

---

dossier-scanner — label scanning tool for administrative dossiers sent by post (Dossier Post)

Usage: dossier-scanner <command> [options]

Commands:
  enroll --server URL --username U --name DEVICE_NAME
           enroll this device (password read from stdin, never stored)
  decode [--json] FILE...
           only read photos and print the ids found; records nothing
  scan --code EMA|EDD|EDE|EMG|EDG|EMH|EMI|RES|RTS [--site CODE] [FILE|DIR ...] [--watch DIR] [--stdin]
           each valid id becomes an event, stored in the outbox, then sent at once when online
           EMH: --action redeliver|hold_at_post_office|return_to_sender (required),
                --reason-code absent|refused|wrong_address|office_closed|moved|no_id|other, --reason TEXT
           EMI: --recipient-name NAME --id-checked --id-type cccd|cmnd|passport|other --id-number NUMBER
                (only the last 4 are kept); someone else: --relation TEXT --authorization-number NUMBER
                --authorization-date YYYY-MM-DD (the authorization letter)
  status [--json]   what the outbox holds: waiting, refused
  sync [--json] [--retry-for SECONDS | --wait]   send waiting events now

Common options:
  --outbox FILE        the outbox (default $XDG_DATA_HOME/dossier-scanner/outbox.db)
  --server URL, --device-token T   (or DPOST_SERVER, DPOST_DEVICE_TOKEN) override the enrolled values
  --device NAME        device name recorded with events
  --lang vi|en         language (default vi);  --json   one JSON object per line
  -h, --help           show this help

Exit codes: 0 ok; 1 a file had no id or was unreadable, or a request failed; 2 bad usage; 3 events still queued.
)";

// Bad usage, said in both languages on one line (Vietnamese first): --lang may be the very option that is wrong.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& vi, const std::string& en) : std::runtime_error(vi + " / " + en) {}
};

UsageError bad_server_url() {
  return UsageError("địa chỉ máy chủ phải có dạng http://máy:cổng", "the server URL must look like http://host:port");
}

// --name value options and --flag switches; everything else is positional.
struct Args {
  std::map<std::string, std::string, std::less<>> values;
  std::set<std::string, std::less<>> flags;
  std::vector<std::string> positional;

  std::optional<std::string> get(std::string_view key) const {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  bool has(std::string_view flag) const { return flags.contains(flag); }
};

constexpr std::string_view kValueOptions[] = {"--code",
                                              "--site",
                                              "--reason",
                                              "--recipient-name",
                                              "--relation",
                                              "--outbox",
                                              "--server",
                                              "--device-token",
                                              "--device",
                                              "--lang",
                                              "--watch",
                                              "--username",
                                              "--name",
                                              "--retry-for",
                                              "--batch-size",
                                              "--reason-code",
                                              "--action",
                                              "--id-type",
                                              "--id-number",
                                              "--authorization-number",
                                              "--authorization-date"};
constexpr std::string_view kFlagOptions[] = {"--json", "--stdin", "--id-checked", "--wait", "--help", "-h"};

Args parse_args(int argc, char** argv, int first) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) args.positional.emplace_back(argv[i]);
      break;
    }
    if (!a.starts_with("-") || a == "-") {
      args.positional.emplace_back(a);
      continue;
    }
    std::string key(a);
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      key = std::string(a.substr(0, eq));
      inline_value = std::string(a.substr(eq + 1));
    }
    if (std::find(std::begin(kValueOptions), std::end(kValueOptions), key) != std::end(kValueOptions)) {
      if (inline_value) {
        args.values[key] = *inline_value;
      } else if (i + 1 < argc) {
        args.values[key] = argv[++i];
      } else {
        throw UsageError("tùy chọn " + key + " cần một giá trị", "option " + key + " needs a value");
      }
    } else if (std::find(std::begin(kFlagOptions), std::end(kFlagOptions), key) != std::end(kFlagOptions) &&
               !inline_value) {
      args.flags.insert(key);
    } else {
      throw UsageError("tùy chọn không hợp lệ " + std::string(a), "unknown option " + std::string(a));
    }
  }
  return args;
}

Lang lang_of(const Args& args) {
  const auto lang = args.get("--lang").value_or("vi");
  if (lang == "vi") return Lang::vi;
  if (lang == "en") return Lang::en;
  throw UsageError("--lang phải là vi hoặc en", "--lang must be vi or en");
}

bool is_image_path(const fs::path& path) {
  auto ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Files named on the command line; a folder stands for its photos, in name order.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(input, ec)) {
        if (entry.is_regular_file() && is_image_path(entry.path()) &&
            !entry.path().filename().string().starts_with(".")) {
          found.push_back(entry.path().string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
  }
  return files;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// ---- decode -------------------------------------------------------------------------------------------

int run_decode(const Args& args) {
  if (args.positional.empty()) throw UsageError("decode cần ít nhất một TỆP ảnh", "decode needs at least one FILE");
  const bool as_json = args.has("--json");
  int exit_code = kExitOk;
  for (const auto& file : expand_inputs(args.positional)) {
    const auto decoded = decode_file(file);
    std::vector<std::string> ids;
    for (const auto& id : decoded.labels.ids) ids.push_back(id.str());
    if (decoded.error || ids.empty()) exit_code = kExitSomeFailed;
    if (as_json) {
      json line = {{"file", file}, {"ids", ids}, {"ignored", decoded.labels.ignored}};
      if (decoded.error) line["error"] = std::string(to_code(*decoded.error));
      std::cout << line.dump() << '\n';
      continue;
    }
    // The human form is relied on by outside checks: "FILE: ID, ID" or "FILE: không tìm thấy mã / no code found".
    if (decoded.error) {
      std::cout << file << ": không đọc được ảnh / unreadable image (" << to_code(*decoded.error) << ")\n";
    } else if (ids.empty()) {
      std::cout << file << ": không tìm thấy mã / no code found\n";
    } else {
      std::cout << file << ": " << join(ids, ", ") << '\n';
    }
    for (const auto& text : decoded.labels.ignored) {
      std::cerr << file << ": bỏ qua mã không phải của hệ thống / ignored, not ours: " << text << '\n';
    }
  }
  return exit_code;
}

// ---- configuration ------------------------------------------------------------------------------------

std::string outbox_path(const Args& args) {
  return args.get("--outbox").value_or(Outbox::default_path());
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// Flags override the environment, which overrides what `enroll` stored.
std::optional<Credentials> credentials(const Args& args, const Outbox& outbox) {
  auto server = args.get("--server");
  if (!server) server = env("DPOST_SERVER");
  if (!server) server = outbox.config("server");
  auto token = args.get("--device-token");
  if (!token) token = env("DPOST_DEVICE_TOKEN");
  if (!token) token = outbox.config("token");
  if (!server || !token) return std::nullopt;
  auto url = parse_server_url(*server);
  if (!url) throw bad_server_url();
  return Credentials{*url, *token};
}

std::string device_name(const Args& args, const Outbox& outbox) {
  if (auto d = args.get("--device")) return *d;
  if (auto d = outbox.config("device_name")) return *d;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "dossier-scanner";
}

// ---- printing answers ---------------------------------------------------------------------------------

struct Printer {
  Lang lang = Lang::vi;
  bool as_json = false;

  void answer(const EventAnswer& a) const {
    if (as_json) {
      json line = {{"item_id", a.item_id},
                   {"event_id", a.event_id},
                   {"code", a.code},
                   {"result", verdict_word(a)},
                   {"outcome", a.outcome},
                   {"status", a.http_status},
                   {"message", verdict_text(lang, a)}};
      if (!a.state.empty()) line["state"] = a.state;
      if (!a.message.empty()) line["reason"] = a.message;
      std::cout << line.dump() << std::endl;
    } else {
      std::cout << a.item_id << " " << a.code << ": " << verdict_text(lang, a) << std::endl;
    }
  }
  void queued(const std::string& item_id, const std::string& event_id, const std::string& code) const {
    if (as_json) {
      std::cout << json{{"item_id", item_id},
                        {"event_id", event_id},
                        {"code", code},
                        {"result", "queued"},
                        {"message", queued_text(lang)}}
                       .dump()
                << std::endl;
    } else {
      std::cout << item_id << " " << code << ": " << queued_text(lang) << std::endl;
    }
  }
  void ignored(const std::string& source, const std::string& text) const {
    if (as_json) {
      std::cout
          << json{{"source", source}, {"text", text}, {"result", "ignored"}, {"message", not_ours_text(lang)}}.dump()
          << std::endl;
    } else {
      std::cout << source << ": " << text << ": " << not_ours_text(lang) << std::endl;
    }
  }
  void no_code(const std::string& file, const std::string& text) const {
    if (as_json) {
      std::cout << json{{"file", file}, {"result", "no_code"}, {"message", text}}.dump() << std::endl;
    } else {
      std::cout << file << ": " << text << std::endl;
    }
  }
  void stop(SyncStop stop, const std::string& detail) const {
    if (stop == SyncStop::done) return;
    // Token problems matter to the clerk even in --json mode: they must act.
    if (as_json) {
      std::cout << json{{"result", "sync_stopped"},
                        {"reason", stop == SyncStop::revoked        ? "device_revoked"
                                   : stop == SyncStop::unauthorized ? "unauthorized"
                                   : stop == SyncStop::offline      ? "offline"
                                                                    : "rejected"},
                        {"message", stop_text(lang, stop, detail)}}
                       .dump()
                << std::endl;
    } else {
      std::cerr << "dossier-scanner: " << stop_text(lang, stop, detail) << std::endl;
    }
  }
};

// ---- scan ---------------------------------------------------------------------------------------------

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}

// Signs a scan with the device's Ed25519 key, kept in the outbox since enrolment, and its own counter: the
// server refuses unsigned, altered or replayed scans from a device token. The counter is advanced (durably)
// before the scan is stored, so a number is never used twice, even across a crash. No key (a person's login
// token given with --device-token): the scan goes unsigned.
void sign_event(Outbox& outbox, json& event) {
  const auto seed_text = outbox.config("signing_key");
  if (!seed_text) return;
  auto seed = signing::base64_decode_fixed<32>(*seed_text);
  if (!seed) throw std::runtime_error("the outbox's signing key is damaged: enroll the device again");
  auto parsed = parse_scan(event);
  if (!std::holds_alternative<ScanRequest>(parsed)) throw std::runtime_error("cannot sign an invalid scan");
  std::int64_t seq = 1;
  if (auto last = outbox.config("signing_seq")) seq = std::stoll(*last) + 1;
  outbox.set_config("signing_seq", std::to_string(seq));
  const auto pair = signing::key_pair_from_seed(*seed);
  event["seq"] = seq;
  event["signature"] = signing::base64_encode(
      signing::sign(signing::scan_signing_text(std::get<ScanRequest>(parsed), seq), pair.secret_key));
}

struct ScanSession {
  ScanSession(Outbox& o, std::optional<Credentials> c, Printer p, json event)
      : outbox(o), creds(std::move(c)), printer(p), template_event(std::move(event)) {}

  Outbox& outbox;
  std::optional<Credentials> creds;
  Printer printer;
  json template_event;          // code, site, device, reason, recipient: the same for every scan of this run
  std::set<std::string> fresh;  // event ids created in this run and not yet answered
  std::map<std::string, std::pair<std::string, std::string>> fresh_items;  // event id -> item id, code
  int attempt = 0;
  std::chrono::steady_clock::time_point next_try{};
  std::mt19937 rng{std::random_device{}()};
  bool token_refused = false;

  void record(const ItemId& id) {
    json event = template_event;
    const std::string event_id = new_event_id();
    event["event_id"] = event_id;
    event["item_id"] = id.str();
    event["occurred_at"] = format_rfc3339(now_millis());
    const std::string code = event["code"].get<std::string>();
    sign_event(outbox, event);
    outbox.add(event_id, id.str(), code, event.dump());
    fresh.insert(event_id);
    fresh_items[event_id] = {id.str(), code};
  }

  // Sends what waits; prints the server's answer for every event answered and "saved" for fresh ones that
  // could not be sent.
  void sync_now() {
    if (creds && !token_refused) {
      const auto report = sync_once(outbox, *creds);
      for (const auto& a : report.answers) {
        printer.answer(a);
        fresh.erase(a.event_id);
      }
      if (report.stop == SyncStop::done) {
        attempt = 0;
      } else {
        printer.stop(report.stop, report.detail);
        if (report.stop == SyncStop::revoked || report.stop == SyncStop::unauthorized) token_refused = true;
        next_try = std::chrono::steady_clock::now() + std::max(backoff_delay(attempt++, rng), report.retry_after);
      }
      outbox.set_config("last_sync_at", format_rfc3339(now_millis()));
    }
    sync_later();
  }

  // The fresh events not answered yet are safe in the outbox: say so.
  void sync_later() {
    for (const auto& event_id : fresh) {
      const auto& [item, code] = fresh_items[event_id];
      printer.queued(item, event_id, code);
    }
    fresh.clear();
    fresh_items.clear();
  }

  void retry_if_due() {
    if (!creds || token_refused || outbox.counts().pending == 0) return;
    if (std::chrono::steady_clock::now() < next_try) return;
    sync_now();
  }

  // Returns false when the file gave no id.
  bool scan_file(const std::string& file) {
    const auto decoded = decode_file(file);
    for (const auto& text : decoded.labels.ignored) printer.ignored(file, text);
    if (decoded.error) {
      printer.no_code(file, unreadable_text(printer.lang, to_code(*decoded.error)));
      return false;
    }
    if (decoded.labels.ids.empty()) {
      printer.no_code(file, no_code_text(printer.lang));
      return false;
    }
    for (const auto& id : decoded.labels.ids) record(id);
    return true;
  }

  // Keyboard wedge: the USB scanner types the id and Enter.
  void scan_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) return;
    auto id = ItemId::parse(line);
    if (!id) {
      printer.ignored("stdin", std::string(line));
      return;
    }
    record(*id);
    // Offline, a wedge scanner may type a line a second: respect the backoff instead of one attempt per line.
    if (std::chrono::steady_clock::now() >= next_try) {
      sync_now();
    } else {
      sync_later();
    }
  }
};

// The values a usage error lists, once each (the Vietnamese half of the message names them).
constexpr std::string_view kEventCodes = " (EMA, EDD, EDE, EMG, EDG, EMH, EMI, RES, RTS)";
constexpr std::string_view kActions = " (redeliver, hold_at_post_office, return_to_sender)";

// The event code, checked before the outbox is opened so that a typo creates nothing.
std::string checked_code(const Args& args) {
  const auto code_text = args.get("--code");
  if (!code_text) throw UsageError("scan cần --code" + std::string(kEventCodes), "scan needs --code");
  std::string upper = *code_text;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const auto code = parse_event_code(upper);
  if (!code)
    throw UsageError("mã sự kiện không hợp lệ " + *code_text + std::string(kEventCodes),
                     "unknown event code " + *code_text);
  const auto reason_code_text = args.get("--reason-code");
  std::optional<FailureReason> reason_code;
  if (reason_code_text) {
    reason_code = parse_failure_reason(*reason_code_text);
    if (!reason_code) {
      throw UsageError("--reason-code không hợp lệ " + *reason_code_text +
                           " (absent, refused, wrong_address, office_closed, moved, no_id, other)",
                       "unknown --reason-code " + *reason_code_text);
    }
  }
  if (auto action = args.get("--action"); action && !parse_failure_action(*action)) {
    throw UsageError("--action không hợp lệ " + *action + std::string(kActions), "unknown --action " + *action);
  }
  if (requires_reason(*code)) {
    if (!args.get("--reason") && (!reason_code || *reason_code == FailureReason::other)) {
      throw UsageError(upper + " cần --reason (lý do), hoặc một --reason-code khác other",
                       upper + " needs --reason, or a --reason-code other than other");
    }
    if (!args.get("--action")) {
      throw UsageError(upper + " cần --action" + std::string(kActions), upper + " needs --action");
    }
  }
  if (auto type = args.get("--id-type"); type && !parse_id_document_type(*type)) {
    throw UsageError("--id-type không hợp lệ " + *type + " (cccd, cmnd, passport, other)",
                     "unknown --id-type " + *type);
  }
  if (args.get("--id-number") && !args.has("--id-checked"))
    throw UsageError("--id-number cần --id-checked (đã kiểm tra giấy tờ)", "--id-number needs --id-checked");
  if (args.get("--relation") && (!args.get("--authorization-number") || !args.get("--authorization-date"))) {
    throw UsageError("người nhận thay (--relation) cần giấy ủy quyền: --authorization-number và --authorization-date",
                     "a recipient other than the applicant needs the authorization's number and date");
  }
  return upper;
}

json event_template(const Args& args, const Outbox& outbox) {
  const std::string upper = checked_code(args);
  auto site = args.get("--site");
  if (!site) site = outbox.config("site");
  if (!site)
    throw UsageError("scan cần --site (hoặc đăng ký thiết bị trước: enroll)",
                     "scan needs --site (or enroll the device first)");
  if (!is_valid_site_code(*site)) throw UsageError("mã đơn vị không hợp lệ " + *site, "invalid site code " + *site);
  json event = {{"code", upper}, {"site", *site}, {"device", device_name(args, outbox)}};
  if (auto reason = args.get("--reason")) event["reason"] = *reason;
  if (auto reason_code = args.get("--reason-code")) event["reason_code"] = *reason_code;
  if (auto action = args.get("--action")) event["action"] = *action;
  if (auto name = args.get("--recipient-name")) {
    json recipient = {{"name", *name}, {"id_checked", args.has("--id-checked")}};
    if (auto number = args.get("--id-number")) {
      // Only the masked number is stored in the outbox and sent: the full one never leaves this command.
      std::string compact;
      for (char c : *number) {
        if (c != ' ') compact.push_back(c);
      }
      recipient["id_document"] = {{"type", args.get("--id-type").value_or("cccd")},
                                  {"number", mask_id_number(compact)}};
    }
    if (auto relation = args.get("--relation")) {
      recipient["relation"] = *relation;
      recipient["authorization"] = {{"number", *args.get("--authorization-number")},
                                    {"date", *args.get("--authorization-date")}};
    }
    event["recipient"] = std::move(recipient);
  }
  return event;
}

// A photo the camera app is still writing grows between polls: it is read once its size stayed the same for
// one poll, then moved to processed/ (or unreadable/ when it gave no id) so that it is never scanned twice.
void watch_folder(ScanSession& session, const fs::path& folder, bool& any_failed) {
  std::map<fs::path, std::uintmax_t> last_size;
  fs::create_directories(folder / "processed");
  fs::create_directories(folder / "unreadable");
  while (!g_stop) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (entry.is_regular_file(ec) && is_image_path(entry.path()) &&
          !entry.path().filename().string().starts_with(".")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const auto size = fs::file_size(file, ec);
      if (ec) continue;
      auto it = last_size.find(file);
      if (it == last_size.end() || it->second != size || size == 0) {
        last_size[file] = size;
        continue;
      }
      last_size.erase(it);
      const bool ok = session.scan_file(file.string());
      any_failed = any_failed || !ok;
      fs::rename(file, folder / (ok ? "processed" : "unreadable") / file.filename(), ec);
      if (ec) fs::rename(file, file.string() + ".done", ec);  // another file system or a name clash
      session.sync_now();
    }
    session.retry_if_due();
    std::this_thread::sleep_for(kWatchPoll);
  }
}

void read_stdin(ScanSession& session) {
  std::string buffer;
  char chunk[4096];
  while (!g_stop) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(kWatchPoll.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {
      session.retry_if_due();
      continue;
    }
    const auto n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      session.scan_line(std::string_view(buffer).substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  if (!buffer.empty()) session.scan_line(buffer);
}

int run_scan(const Args& args) {
  const bool use_stdin = args.has("--stdin");
  const auto watch = args.get("--watch");
  checked_code(args);
  if (args.positional.empty() && !use_stdin && !watch) {
    throw UsageError("scan cần TỆP, THƯ_MỤC, --watch THƯ_MỤC hoặc --stdin",
                     "scan needs FILE, DIR, --watch DIR or --stdin");
  }
  if (watch && !fs::is_directory(*watch)) {
    throw UsageError("--watch cần một thư mục đã có: " + *watch, "--watch needs an existing folder");
  }
  lang_of(args);
  Outbox outbox(outbox_path(args));
  ScanSession session(outbox, credentials(args, outbox), Printer{lang_of(args), args.has("--json")},
                      event_template(args, outbox));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  bool any_failed = false;
  for (const auto& file : expand_inputs(args.positional)) any_failed = !session.scan_file(file) || any_failed;
  if (!args.positional.empty()) session.sync_now();
  if (use_stdin) read_stdin(session);
  if (watch) watch_folder(session, *watch, any_failed);
  return any_failed ? kExitSomeFailed : kExitOk;
}

// ---- status, sync, enroll -----------------------------------------------------------------------------

json event_json(const OutboxEvent& e) {
  json j = {{"event_id", e.event_id},
            {"item_id", e.item_id},
            {"code", e.code},
            {"status", to_string(e.status)},
            {"created_at", format_rfc3339(e.created_at)},
            {"attempts", e.attempts}};
  if (!e.outcome.empty()) j["outcome"] = e.outcome;
  if (!e.state.empty()) j["state"] = e.state;
  if (!e.message.empty()) j["reason"] = e.message;
  return j;
}

int run_status(const Args& args) {
  Outbox outbox(outbox_path(args));
  const Lang lang = lang_of(args);
  const auto counts = outbox.counts();
  const auto waiting = outbox.unsent(1000);
  const auto refused = outbox.list(OutboxStatus::refused, 1000);
  if (args.has("--json")) {
    json waiting_json = json::array();
    for (const auto& e : waiting) waiting_json.push_back(event_json(e));
    json refused_json = json::array();
    for (const auto& e : refused) refused_json.push_back(event_json(e));
    std::cout << json{{"pending", counts.pending},
                      {"done", counts.done},
                      {"refused", counts.refused},
                      {"waiting_events", waiting_json},
                      {"refused_events", refused_json},
                      {"server", outbox.config("server").value_or("")},
                      {"site", outbox.config("site").value_or("")},
                      {"last_sync_at", outbox.config("last_sync_at").value_or("")}}
                     .dump()
              << '\n';
    return kExitOk;
  }
  std::cout << summary_text(lang, counts) << '\n';
  if (auto last = outbox.config("last_sync_at")) {
    std::cout << (lang == Lang::vi ? "lần đồng bộ gần nhất: " : "last sync: ") << *last << '\n';
  }
  for (const auto& e : waiting) {
    std::cout << "  " << (lang == Lang::vi ? "chờ gửi" : "waiting") << "  " << e.item_id << " " << e.code << " "
              << format_rfc3339(e.created_at) << (e.message.empty() ? "" : "  (" + e.message + ")") << '\n';
  }
  for (const auto& e : refused) {
    EventAnswer a{e.event_id, e.item_id, e.code, e.outcome, e.http_status, e.state, e.message};
    std::cout << "  " << (lang == Lang::vi ? "bị từ chối" : "refused") << "  " << e.item_id << " " << e.code << " "
              << format_rfc3339(e.created_at) << ": " << verdict_text(lang, a)
              << (e.message.empty() ? "" : " — " + e.message) << '\n';
  }
  return kExitOk;
}

int run_sync(const Args& args) {
  Outbox outbox(outbox_path(args));
  Printer printer{lang_of(args), args.has("--json")};
  const auto creds = credentials(args, outbox);
  if (!creds)
    throw UsageError("chưa có máy chủ: chạy dossier-scanner enroll, hoặc cho --server và --device-token",
                     "no server: run dossier-scanner enroll, or give --server and --device-token");
  std::chrono::milliseconds retry_for{0};
  if (args.has("--wait")) retry_for = std::chrono::hours(24 * 365);
  if (auto s = args.get("--retry-for")) {
    try {
      retry_for = std::chrono::seconds(std::stoll(*s));
    } catch (const std::exception&) {
      throw UsageError("--retry-for cần số giây", "--retry-for needs a number of seconds");
    }
  }
  std::size_t batch_size = 200;
  if (auto b = args.get("--batch-size")) batch_size = std::clamp<std::size_t>(std::stoul(*b), 1, 500);
  SyncReport report;
  if (retry_for.count() > 0) {
    report = sync_with_retry(outbox, *creds, retry_for);
  } else {
    report = sync_once(outbox, *creds, batch_size);
  }
  for (const auto& a : report.answers) printer.answer(a);
  printer.stop(report.stop, report.detail);
  outbox.set_config("last_sync_at", format_rfc3339(now_millis()));
  const auto counts = outbox.counts();
  if (printer.as_json) {
    std::cout << json{{"result", "summary"},
                      {"pending", counts.pending},
                      {"done", counts.done},
                      {"refused", counts.refused}}
                     .dump()
              << '\n';
  } else {
    std::cout << summary_text(printer.lang, counts) << '\n';
  }
  return counts.pending > 0 ? kExitQueued : kExitOk;
}

int run_enroll(const Args& args) {
  const auto server = args.get("--server");
  const auto username = args.get("--username");
  const auto name = args.get("--name");
  if (!server || !username || !name)
    throw UsageError("enroll cần --server URL --username U --name TÊN_THIẾT_BỊ",
                     "enroll needs --server URL --username U --name DEVICE_NAME");
  const auto url = parse_server_url(*server);
  if (!url) throw bad_server_url();
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  const Lang lang = lang_of(args);
  auto fail = [&](const std::string& what, const HttpAnswer& a) {
    std::cerr << "dossier-scanner: " << what << ": "
              << (a.ok() ? "HTTP " + std::to_string(a.status) + " " + a.body.substr(0, 300) : a.transport_error)
              << '\n';
    return kExitSomeFailed;
  };
  const auto login =
      http_request(*url, "POST", "/api/v1/login", json{{"username", *username}, {"password", password}}.dump(), "");
  password.assign(password.size(), '\0');
  if (!login.ok() || login.status != 200) {
    return fail(lang == Lang::vi ? "đăng nhập thất bại" : "login failed", login);
  }
  const json session = json::parse(login.body, nullptr, false);
  const std::string user_token = session.value("token", "");
  std::string site;
  if (session.contains("user") && session["user"].is_object()) site = session["user"].value("site", "");
  // The device's own key: the private half stays in the outbox, the server keeps the public one and checks
  // every scan against it.
  const auto key = signing::generate_key_pair();
  const auto device =
      http_request(*url, "POST", "/api/v1/devices",
                   json{{"name", *name}, {"public_key", signing::base64_encode(key.public_key)}}.dump(), user_token);
  // The login session was only needed to ask for the device token.
  http_request(*url, "POST", "/api/v1/logout", "{}", user_token);
  if (!device.ok() || device.status != 201) {
    return fail(lang == Lang::vi ? "không cấp được mã thiết bị" : "could not get a device token", device);
  }
  const json issued = json::parse(device.body, nullptr, false);
  if (!issued.is_object() || !issued.contains("token") || !issued["token"].is_string()) {
    return fail("unexpected answer", device);
  }
  Outbox outbox(outbox_path(args));
  outbox.set_config("server", *server);
  outbox.set_config("token", issued["token"].get<std::string>());
  outbox.set_config("device_name", *name);
  outbox.set_config("signing_key", signing::base64_encode(signing::seed_of(key)));
  outbox.set_config("signing_seq", "0");
  if (issued.contains("id")) outbox.set_config("device_id", issued["id"].dump());
  if (issued.contains("device") && issued["device"].is_object() && issued["device"].contains("site") &&
      issued["device"]["site"].is_string()) {
    site = issued["device"]["site"].get<std::string>();
  }
  if (!site.empty()) outbox.set_config("site", site);
  std::cout << (lang == Lang::vi ? "đã đăng ký thiết bị " : "device enrolled: ") << *name
            << (site.empty() ? "" : " (" + site + ")") << '\n';
  return kExitOk;
}

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
  try {
    const Args args = parse_args(argc, argv, 2);
    if (args.has("--help") || args.has("-h")) {
      std::cout << kHelp;
      return kExitOk;
    }
    if (command == "decode") return run_decode(args);
    if (command == "scan") return run_scan(args);
    if (command == "status") return run_status(args);
    if (command == "sync") return run_sync(args);
    if (command == "enroll") return run_enroll(args);
    std::cerr << "dossier-scanner: lệnh không hợp lệ / unknown command '" << command
              << "' (xem / see dossier-scanner --help)\n";
    return kExitUsage;
  } catch (const UsageError& e) {
    std::cerr << "dossier-scanner: " << e.what() << " (xem / see dossier-scanner --help)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // The outbox could not be opened or written (disk full, permissions): say so, do not pretend it was saved.
    std::cerr << "dossier-scanner: " << e.what() << '\n';
    return kExitSomeFailed;
  }
}

}  // namespace dpost::scanner
