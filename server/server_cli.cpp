#include "server_cli.hpp"

#include "access_log.hpp"
#include "api.hpp"
#include "auth.hpp"
#include "demo_data.hpp"
#include "http_server.hpp"
#include "json_writer.hpp"
#include "label_routes.hpp"
#include "notify.hpp"
#include "route_table.hpp"
#include "sqlite_storage.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace dpost::server {
namespace {

constexpr std::string_view kVersion = DPOST_VERSION;  // the CMake project version

// ---- Settings: one struct field plus one registration line per setting -------------------------------------
//
// Every serve setting is read, in this order of precedence, from the command line flag, the DPOST_* environment
// variable named after it (--public-rate -> DPOST_PUBLIC_RATE), the --config file (key = the flag without its
// dashes: `public-rate = 120`), then the default in ServeConfig. CLI11 does all of it; see ConfigEnvFirst for the
// one place where its order (file before environment) is corrected.

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string db;
  bool demo = false;
  std::string public_base_url;  // empty: http://HOST:PORT of the bound address
  int public_rate = 120;
  std::string log_requests = "on";
  int confirm_within_minutes = 240;
  int io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int workers = 4;
  std::string notify_file;  // empty: DB.messages.log
  std::string webhook_url;
  std::string webhook_secret;
  std::string calendar;    // empty: the embedded Vietnamese calendar
  std::string leg_limits;  // empty: the embedded leg limits
};

inline void write_value(JsonWriter& out, const std::string& v) {
  out.value(std::string_view(v));
}
inline void write_value(JsonWriter& out, bool v) {
  out.value(v);
}
inline void write_value(JsonWriter& out, int v) {
  out.value(static_cast<std::int64_t>(v));
}

// Registers flags on a CLI11 app so that each is also an environment variable and a config-file key, and
// remembers how to print its effective value (secrets as "***").
class Settings {
 public:
  explicit Settings(CLI::App& app) : app_(app) {}

  template <class T>
  CLI::Option* add(const std::string& flag, T& field, const std::string& value_name, const std::string& help) {
    auto* option = app_.add_option(flag, field, help)->type_name(value_name)->envname(env_name(flag));
    if constexpr (std::is_same_v<T, std::string>) {
      if (!field.empty()) option->default_str(field);
    } else {
      option->default_str(std::to_string(field));
    }
    printers_.push_back({flag.substr(2), [&field](JsonWriter& out) { write_value(out, field); }});
    return option;
  }
  CLI::Option* add_flag(const std::string& flag, bool& field, const std::string& help) {
    auto* option = app_.add_flag(flag, field, help)->envname(env_name(flag));
    printers_.push_back({flag.substr(2), [&field](JsonWriter& out) { write_value(out, field); }});
    return option;
  }
  // A value that must never be printed: the effective configuration shows "***" when it is set.
  CLI::Option* add_secret(const std::string& flag, std::string& field, const std::string& value_name,
                          const std::string& help) {
    auto* option = app_.add_option(flag, field, help)->type_name(value_name)->envname(env_name(flag));
    printers_.push_back({flag.substr(2), [&field](JsonWriter& out) { out.value(field.empty() ? "" : "***"); }});
    return option;
  }

  // {"listen": "...", ...} in registration order.
  void write_effective(JsonWriter& out) const {
    out.begin_object();
    for (const auto& p : printers_) {
      out.key(p.key);
      p.value(out);
    }
    out.end_object();
  }

  static std::string env_name(const std::string& flag) {
    std::string name = "DPOST_";
    for (char c : flag.substr(2))
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
  }

 private:
  struct Printer {
    std::string key;
    std::function<void(JsonWriter&)> value;
  };
  CLI::App& app_;
  std::vector<Printer> printers_;
};

// The serve settings. Adding one: a field in ServeConfig and a line here (then use it in serve()).
void register_serve_settings(Settings& s, ServeConfig& c) {
  s.add("--listen", c.listen, "HOST:PORT",
        "địa chỉ lắng nghe; cổng 0 chọn một cổng trống / address to listen on; port 0 picks a free port");
  s.add("--db", c.db, "FILE",
        "tệp SQLite, tạo và nâng cấp khi khởi động / SQLite database, created and migrated on start");
  s.add_flag("--demo", c.demo,
             "nạp dữ liệu mẫu vào một cơ sở dữ liệu MỚI (mật khẩu \"demo\") / fill a NEW database with the demo data "
             "(password \"demo\")");
  s.add("--public-base-url", c.public_base_url, "URL",
        "gốc của liên kết tra cứu trong mã QR (mặc định http://HOST:PORT) / base of the tracking links in QR codes "
        "(default http://HOST:PORT)");
  s.add("--public-rate", c.public_rate, "N",
        "số lần tra cứu công khai mỗi phút cho mỗi địa chỉ; 0 = không giới hạn / public look-ups per minute per "
        "address; 0 = no limit")
      ->check(CLI::Range(0, 100'000'000));
  s.add("--log-requests", c.log_requests, "on|off",
        "mỗi yêu cầu một dòng JSON trên stderr / one JSON line per request on stderr")
      ->check(CLI::IsMember({"on", "off"}));
  s.add("--confirm-within-minutes", c.confirm_within_minutes, "N",
        "bàn giao chưa được bên nhận xác nhận sau N phút là quá hạn / a handoff not confirmed within N minutes is "
        "overdue")
      ->check(CLI::Range(0, 7 * 24 * 60));
  s.add("--io-threads", c.io_threads, "N", "số luồng mạng (mặc định: số lõi) / network threads (default: cores)")
      ->check(CLI::Range(1, 64));
  s.add("--workers", c.workers, "N",
        "số luồng cho việc chặn như băm mật khẩu / threads for blocking work such as password hashing")
      ->check(CLI::Range(1, 256));
  s.add("--notify-file", c.notify_file, "FILE",
        "nơi ghi tin nhắn SMS cho công dân, chế độ 0600 (mặc định DB.messages.log) / where citizen SMS messages are "
        "written, mode 0600 (default DB.messages.log)");
  s.add("--webhook-url", c.webhook_url, "URL",
        "gửi mỗi sự kiện tới hệ thống một cửa (chỉ http://), có ký / POST each notified event to the one-stop "
        "system (http:// only), signed");
  s.add_secret("--webhook-secret", c.webhook_secret, "SECRET",
               "khóa HMAC-SHA256 cho X-Dossier-Signature, bắt buộc khi có --webhook-url; nên dùng biến môi trường "
               "/ HMAC-SHA256 key for X-Dossier-Signature, required with --webhook-url; prefer the environment");
  s.add("--calendar", c.calendar, "FILE",
        "lịch ngày làm việc (JSON: ngày nghỉ cuối tuần, giờ làm việc, giờ chốt, ngày lễ theo năm; mặc định lịch Việt "
        "Nam có sẵn) / working-day calendar (JSON; default: the embedded Vietnamese one, docs/deadlines.md)");
  s.add("--leg-limits", c.leg_limits, "FILE",
        "số ngày làm việc cho mỗi chặng bưu chính theo tỉnh và khu vực (JSON; mặc định 1 nội thành, 2 ngoại thành, "
        "3 vùng sâu) / working days per postal leg by province and area (JSON; default 1 urban, 2 rural, 3 remote)");
}

// The deadline rules: --calendar and --leg-limits files, each defaulting to the embedded one. A file that cannot
// be read or has a typo stops the start with a one-line error naming the file and the place.
RuleSet load_rules(const ServeConfig& c) {
  auto read = [](const char* flag, const std::string& path, std::string_view fallback) {
    if (path.empty()) return std::string(fallback);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string(flag) + " " + path + ": không đọc được tệp / cannot read the file");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  auto calendar = read("--calendar", c.calendar, WorkingCalendar::vietnam_source());
  auto limits = read("--leg-limits", c.leg_limits, LegLimits::defaults_source());
  try {
    return RuleSet::from_texts(std::move(calendar), std::move(limits));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("quy định thời hạn / deadline rules: ") + e.what());
  }
}

// A calendar that does not list this year's days off, or next year's when it is less than 90 days away, makes
// deadlines that ignore Tết; one whose days off for such a year are only estimated makes deadlines that may move:
// say so at start (the gauge dpost_calendar_last_year says it while running).
void warn_missing_calendar_years(const WorkingCalendar& calendar, UnixMillis now) {
  constexpr UnixMillis kAhead = 90LL * 24 * 60 * 60 * 1000;
  for (int year = calendar.year_of(now); year <= calendar.year_of(now + kAhead); ++year) {
    if (calendar.covers(year)) continue;
    const bool estimated = calendar.estimated(year);
    const std::string y = std::to_string(year);
    const std::string why = estimated
                                ? "ngày nghỉ năm " + y + " trong lịch làm việc là dự kiến, chưa phải ngày đã công bố" +
                                      ": hạn trả là tạm tính / the working calendar's days off of " + y +
                                      " are estimated, not yet the published ones"
                                : "lịch làm việc chưa có ngày nghỉ năm " + y +
                                      ", hạn trả là tạm tính / the working calendar lacks the days off of " + y;
    log_event(
        LogLevel::warn, estimated ? "calendar_year_estimated" : "calendar_year_missing",
        {{"year", static_cast<std::int64_t>(year)}, {"text", why + ": deadlines are provisional (docs/deadlines.md)"}});
  }
}

// CLI11 2.1 applies the config file before the environment, so a file value would hide DPOST_*. Drop the file's
// items whose environment variable is set (CLI11 ignores empty ones too): flag > environment > file > default.
// Unknown keys and sections are refused here with a message naming them.
class ConfigEnvFirst : public CLI::ConfigTOML {
 public:
  explicit ConfigEnvFirst(const CLI::App& app) : app_(app) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    auto items = CLI::ConfigTOML::from_config(input);
    std::vector<CLI::ConfigItem> kept;
    for (auto& item : items) {
      if (!item.parents.empty() || item.name == "++" || item.name == "--") {
        throw CLI::ConfigError("khóa không hợp lệ trong tệp cấu hình / unknown key in the configuration file: " +
                               item.parents.front() + " (sections are not used)");
      }
      const CLI::Option* option = app_.get_option_no_throw("--" + item.name);
      if (option == nullptr || !option->get_configurable() || item.name == "config" || item.name == "help") {
        throw CLI::ConfigError("khóa không hợp lệ trong tệp cấu hình / unknown key in the configuration file: " +
                               item.name);
      }
      const auto& env = option->get_envname();
      const char* value = env.empty() ? nullptr : std::getenv(env.c_str());
      if (value != nullptr && *value != '\0') continue;
      kept.push_back(std::move(item));
    }
    return kept;
  }

 private:
  const CLI::App& app_;
};

// The other commands' flags, each command with its own (a flag another command takes is refused).
struct ToolArgs {
  std::string db, to, username, item, dossier, out, format = "png", public_base_url;
  int dpi = 203;
};

void use_bilingual_help(CLI::App& app) {
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->label("Usage", "Cách dùng / usage");
  formatter->label("OPTIONS", "TÙY CHỌN / OPTIONS");
  formatter->label("SUBCOMMAND", "LỆNH / COMMAND");
  formatter->label("Env", "biến môi trường / env");
  formatter->label("REQUIRED", "BẮT BUỘC / REQUIRED");
  formatter->column_width(34);
  app.formatter(formatter);
  app.set_help_flag("-h,--help", "in trợ giúp này rồi thoát / print this help and exit");
}

constexpr const char* kFooter = R"(
Thứ tự ưu tiên / precedence: cờ dòng lệnh / flag > biến môi trường DPOST_* / environment > tệp --config / file >
mặc định / default. Tệp cấu hình: mỗi dòng `khóa = giá trị`, khóa là tên cờ bỏ "--" / config file: one
`key = value` per line, the key is the flag without "--", e.g.
  listen = "0.0.0.0:8080"
  db = "/var/lib/dossier-post/dossier.db"
  public-rate = 120
Khóa lạ bị từ chối / unknown keys are refused. Khi khởi động, cấu hình hiệu lực được in thành một dòng JSON trên
stderr, bí mật hiện là "***" / at start the effective configuration is printed as one JSON line on stderr,
secrets as "***".

Lệnh khác / other commands:
  dossier-server create-admin --db FILE --username NAME     (mật khẩu từ stdin / password read from stdin)
  dossier-server verify --db FILE                           (mã 1 khi lịch sử bị sửa / exit 1 when history was altered)
  dossier-server backup --db FILE --to FILE                 (bản sao nhất quán khi server chạy / consistent copy)
  dossier-server label --db FILE --item ID --out FILE [--format png|svg|pdf|zpl] [--dpi 203|300] [--public-base-url URL]
  dossier-server receipt --db FILE --dossier N --out FILE [--public-base-url URL]   (phiếu gửi hồ sơ, PDF)
)";

std::optional<int> parse_count(const std::string& text, int min, int max) {
  try {
    std::size_t used = 0;
    int v = std::stoi(text, &used);
    if (used != text.size() || v < min || v > max) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int fail(const std::string& message) {
  std::cerr << "dossier-server: " << message << "\n";
  return 2;
}

// One JSON line on stderr with every effective serve setting (secrets "***"), so an operator sees what the
// server runs with whatever mix of flags, environment and file produced it.
void print_effective_config(const Settings& settings, const std::string& config_file) {
  JsonWriter line;
  line.begin_object()
      .member("ts", std::string_view(format_rfc3339(now_millis())))
      .member("level", "info")
      .member("msg", "configuration")
      .member("config_file", std::string_view(config_file))
      .key("settings");
  settings.write_effective(line);
  line.end_object();
  std::cerr << line.take() << std::endl;
}

int serve(ServeConfig& c, const Settings& settings, const std::string& config_file) {
  const auto& db = c.db;
  if (db.empty())
    return fail(
        "cần --db FILE (hoặc DPOST_DB, hoặc db = trong --config) / --db FILE is required (or DPOST_DB, or db = in "
        "--config)");
  const std::string& listen = c.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return fail("--listen cần dạng HOST:PORT / --listen takes HOST:PORT, e.g. 127.0.0.1:8080");
  HttpServerOptions http;
  http.host = listen.substr(0, colon);
  if (http.host.size() > 2 && http.host.front() == '[' && http.host.back() == ']') {
    http.host = http.host.substr(1, http.host.size() - 2);
  }
  const auto port = parse_count(listen.substr(colon + 1), 0, 65535);
  if (!port) return fail("cổng trong --listen phải là 0..65535 / the port in --listen must be 0..65535");
  http.port = static_cast<unsigned short>(*port);
  http.io_threads = static_cast<std::size_t>(c.io_threads);
  ApiOptions api_options;
  api_options.workers = static_cast<std::size_t>(c.workers);
  api_options.log_requests = c.log_requests == "on";
  api_options.confirm_within_ms = static_cast<UnixMillis>(c.confirm_within_minutes) * 60'000;
  api_options.public_rate_per_minute = c.public_rate;

  // Notifications: citizen messages always go to the messages file; the webhook only when configured.
  if (c.notify_file.empty()) c.notify_file = db + ".messages.log";  // printed as it will be used
  const std::string& notify_file = c.notify_file;
  std::optional<WebhookTarget> webhook;
  const std::string& webhook_secret = c.webhook_secret;
  if (!c.webhook_url.empty()) {
    webhook = parse_webhook_url(c.webhook_url);
    if (!webhook)
      return fail(
          "--webhook-url cần dạng http://HOST[:PORT]/PATH / --webhook-url takes http://HOST[:PORT]/PATH (https is not "
          "supported)");
    // Never echo the secret: messages name the flag only.
    if (webhook_secret.empty())
      return fail(
          "--webhook-url cần --webhook-secret (hoặc DPOST_WEBHOOK_SECRET) / --webhook-url needs --webhook-secret (or "
          "DPOST_WEBHOOK_SECRET)");
  } else if (!webhook_secret.empty()) {
    return fail(
        "--webhook-secret chỉ dùng cùng --webhook-url / --webhook-secret (or DPOST_WEBHOOK_SECRET) is only used with "
        "--webhook-url");
  }
  print_effective_config(settings, config_file);

  SqliteOptions storage_options{db, default_scan_policy()};
  try {
    storage_options.rules = load_rules(c);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  warn_missing_calendar_years(storage_options.rules->calendar, now_millis());
  api_options.calendar_last_year = storage_options.rules->calendar.last_year().value_or(0);
  std::unique_ptr<Storage> storage;
  try {
    storage = open_sqlite_storage(std::move(storage_options));
  } catch (const std::exception& e) {
    return fail(db + ": " + e.what());
  }
  std::vector<std::string> demo_lines;
  if (c.demo) {
    try {
      demo_lines = load_demo_data(*storage);
    } catch (const std::exception& e) {
      return fail(std::string("loading the demo data failed: ") + e.what());
    }
  }

  std::unique_ptr<Notifier> notifier;
  {
    std::map<NotificationChannel, std::unique_ptr<Sender>> senders;
    senders[NotificationChannel::citizen] = std::make_unique<FileSender>(notify_file);
    if (webhook) senders[NotificationChannel::webhook] = make_webhook_sender(*webhook, webhook_secret);
    notifier = std::make_unique<Notifier>(*storage, std::move(senders));
  }

  std::unique_ptr<Api> api;
  // The API needs the final base URL, which needs the bound port: bind first with a dispatch that forwards
  // through this pointer. It lives as long as the server, not only as long as the block that sets it.
  Api* api_ptr = nullptr;
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(
        http, [&api_ptr](HttpRequest&& r, Reply reply) { api_ptr->dispatch(std::move(r), std::move(reply)); });
    server->listen();
    const std::string host = http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host;
    const std::string url = "http://" + host + ":" + std::to_string(server->port());
    api_options.public_base_url = c.public_base_url.empty() ? url : c.public_base_url;
    NotificationConfig notify_config;
    notify_config.citizen = true;
    notify_config.webhook = webhook.has_value();
    notify_config.public_base_url = api_options.public_base_url;
    notify_config.on_queued = notifier->waker();
    storage->configure_notifications(std::move(notify_config));
    api = std::make_unique<Api>(*storage, api_options);
    api_ptr = api.get();
    std::cout << "dossier-server listening on " << url << std::endl;
    log_event(LogLevel::info, "server_started",
              {{"url", url}, {"version", kVersion}, {"pid", static_cast<std::int64_t>(::getpid())}});
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (c.demo) {
    std::cerr
        << "\nDữ liệu mẫu / demo data (chỉ để thử / demo only):\n"
        << "  đăng nhập / logins: admin, clerk1 (BC-HN01), clerk2 (BC-HN02), staff1 (MC-HN-BD), staff2 (MC-HN-CG),"
           " supervisor1 — mật khẩu / password: demo\n";
    for (const auto& line : demo_lines) std::cerr << "  " << line << "\n";
    std::cerr << std::endl;
  }
  server->run();
  // Shutdown order matters: replies post onto the server's I/O context, so everything that may still call a
  // reply (the storage writer finishing queued writes, then the worker pool) stops before the server goes.
  // The notifier goes first: it records its attempts through the storage writer.
  notifier->stop();
  storage->close();
  api.reset();
  server.reset();
  log_event(LogLevel::info, "server_stopped", {{"text", "stopped cleanly"}});
  return 0;
}

int create_admin(const ToolArgs& a) {
  const auto& db = a.db;
  const auto& username = a.username;
  if (db.empty() || username.empty()) return fail("create-admin needs --db FILE and --username NAME");
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (!is_acceptable_password(password))
    return fail("the password (first line of standard input) needs 10..128 characters");
  try {
    auto storage = open_sqlite_storage({db, default_scan_policy()});
    User user;
    user.username = username;
    user.role = Role::admin;
    user.full_name = username;
    const auto hash = hash_password(password);
    await_write<User>([&](auto done) { storage->create_user(user, hash, std::move(done)); });
    storage->close();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::cout << "admin " << username << " created" << std::endl;
  return 0;
}

int verify(const ToolArgs& a) {
  const auto& db = a.db;
  if (db.empty()) return fail("verify needs --db FILE");
  if (!std::filesystem::exists(db)) return fail(db + ": no such file");
  try {
    auto storage = open_sqlite_storage({db, nullptr, 512, true});
    const auto problems = storage->verify();
    if (problems.empty()) {
      std::cout << "verify: history intact" << std::endl;
      return 0;
    }
    for (const auto& p : problems) std::cout << "verify: " << p << "\n";
    std::cout << "verify: " << problems.size() << " problem(s): the stored history was altered" << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dossier-server: verify: " << e.what() << std::endl;
    return 1;
  }
}

int backup(const ToolArgs& a) {
  const auto& db = a.db;
  const auto& to = a.to;
  if (db.empty() || to.empty()) return fail("backup needs --db FILE and --to FILE");
  if (!std::filesystem::exists(db)) return fail(db + ": no such file");
  if (std::filesystem::exists(to)) return fail(to + " exists already: choose a new file");
  try {
    auto storage = open_sqlite_storage({db, nullptr, 512, true});
    storage->backup_to(to);
  } catch (const std::exception& e) {
    return fail(std::string("backup failed: ") + e.what());
  }
  std::cout << "backup written to " << to << std::endl;
  return 0;
}

// label / receipt: the same documents as the HTTP API, rendered from the database without a server (the
// server may be running: this only reads).
std::string cli_public_base_url(const ToolArgs& a) {
  return a.public_base_url.empty() ? ApiOptions{}.public_base_url : a.public_base_url;
}

int write_output(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail("cannot write " + path);
  return 0;
}

int label(const ToolArgs& a) {
  const auto& db = a.db;
  const auto& item_text = a.item;
  const auto& out = a.out;
  if (db.empty() || item_text.empty() || out.empty()) return fail("label needs --db FILE, --item ID and --out FILE");
  if (!std::filesystem::exists(db)) return fail(db + ": no such file");
  const auto format = parse_label_format(a.format);
  if (!format) return fail("--format takes png, svg, pdf or zpl");
  const std::optional<int> dpi = a.dpi;
  if (!is_supported_dpi(*dpi)) return fail("--dpi takes 203 or 300");
  const auto id = ItemId::parse(item_text);
  if (!id) return fail(item_text + ": " + std::string(describe(id.error())));
  try {
    auto storage = open_sqlite_storage({db, nullptr, 512, true});
    auto item = storage->find_item(*id);
    if (!item) return fail("there is no item " + id->str() + " in " + db);
    return write_output(out, render_label(label_data_for(*storage, *item, cli_public_base_url(a)), *format, *dpi));
  } catch (const std::exception& e) {
    return fail(std::string("label: ") + e.what());
  }
}

int receipt(const ToolArgs& a) {
  const auto& db = a.db;
  const auto& dossier_text = a.dossier;
  const auto& out = a.out;
  if (db.empty() || dossier_text.empty() || out.empty())
    return fail("receipt needs --db FILE, --dossier N and --out FILE");
  if (!std::filesystem::exists(db)) return fail(db + ": no such file");
  const auto dossier_id = parse_count(dossier_text, 1, std::numeric_limits<int>::max());
  if (!dossier_id) return fail("--dossier takes a dossier number");
  try {
    auto storage = open_sqlite_storage({db, nullptr, 512, true});
    auto dossier = storage->find_dossier(*dossier_id);
    if (!dossier) return fail("there is no dossier " + dossier_text + " in " + db);
    return write_output(out, render_receipt(receipt_data_for(*storage, *dossier, cli_public_base_url(a))));
  } catch (const std::exception& e) {
    return fail(std::string("receipt: ") + e.what());
  }
}

// A parse error as one line (CLI11 messages are English; ours lead in Vietnamese).
int parse_failure(const CLI::ParseError& e) {
  std::string message = e.what();
  std::replace(message.begin(), message.end(), '\n', ' ');
  return fail("tham số không hợp lệ / invalid arguments: " + message + " (xem / see --help)");
}

}  // namespace

int run_server_cli(int argc, char** argv) {
  CLI::App app(
      "dossier-server: theo dõi hồ sơ thủ tục hành chính qua bưu chính công ích\n"
      "Dossier Post: tracks administrative dossiers carried by the public postal service",
      "dossier-server");
  use_bilingual_help(app);
  app.footer(kFooter);
  app.option_defaults()->group("Tùy chọn / options");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.config_formatter(std::make_shared<ConfigEnvFirst>(app));
  auto* config_option =
      app.set_config("--config", "", "đọc cấu hình từ tệp / read settings from FILE (key = value)", false);
  config_option->type_name("FILE");
  bool version = false;
  app.add_flag("--version", version, "in phiên bản / print the version");

  ServeConfig serve_config;
  Settings settings(app);
  register_serve_settings(settings, serve_config);
  // `serve` is the default command: its settings live on the top level, so `dossier-server --db X` and
  // `dossier-server serve --db X` are the same (fallthrough) and the config file needs no section.
  auto* serve_cmd = app.add_subcommand("serve", "chạy server (mặc định) / run the server (the default)");
  serve_cmd->fallthrough();
  serve_cmd->footer("Các thiết lập của serve: xem dossier-server --help / serve's settings: see dossier-server --help");

  ToolArgs tool;
  const std::string db_help = "tệp cơ sở dữ liệu / database file";
  auto* create_admin_cmd = app.add_subcommand(
      "create-admin", "tạo quản trị viên đầu tiên, mật khẩu từ stdin / first admin, password on stdin");
  create_admin_cmd->add_option("--db", tool.db, db_help)->type_name("FILE");
  create_admin_cmd->add_option("--username", tool.username, "tên đăng nhập / login name")->type_name("NAME");
  auto* verify_cmd = app.add_subcommand(
      "verify", "kiểm tra lịch sử lưu trữ, mã 1 khi bị sửa / check the stored history, exit 1 when altered");
  verify_cmd->add_option("--db", tool.db, db_help)->type_name("FILE");
  auto* backup_cmd = app.add_subcommand(
      "backup", "bản sao nhất quán, an toàn khi server chạy / consistent copy, safe while the server runs");
  backup_cmd->add_option("--db", tool.db, db_help)->type_name("FILE");
  backup_cmd->add_option("--to", tool.to, "tệp sao lưu mới / new backup file")->type_name("FILE");
  auto* label_cmd = app.add_subcommand("label", "nhãn của một bưu gửi / an item's label");
  label_cmd->add_option("--db", tool.db, db_help)->type_name("FILE");
  label_cmd->add_option("--item", tool.item, "mã bưu gửi S10 / S10 item id")->type_name("ID");
  label_cmd->add_option("--out", tool.out, "tệp kết quả / output file")->type_name("FILE");
  label_cmd->add_option("--format", tool.format, "png, svg, pdf, zpl")->type_name("FORMAT")->default_str("png");
  label_cmd->add_option("--dpi", tool.dpi, "203 | 300")->type_name("N")->default_str("203");
  label_cmd->add_option("--public-base-url", tool.public_base_url, "gốc liên kết QR / base of the QR link")
      ->type_name("URL");
  auto* routes_cmd = app.add_subcommand(
      "routes", "in bảng định tuyến, mỗi dòng METHOD PATH / print the route table, one METHOD PATH per line");
  auto* receipt_cmd = app.add_subcommand("receipt", "phiếu gửi hồ sơ (PDF) / the pickup receipt (PDF)");
  receipt_cmd->add_option("--db", tool.db, db_help)->type_name("FILE");
  receipt_cmd->add_option("--dossier", tool.dossier, "số hồ sơ / dossier number")->type_name("N");
  receipt_cmd->add_option("--out", tool.out, "tệp kết quả / output file")->type_name("FILE");
  receipt_cmd->add_option("--public-base-url", tool.public_base_url, "gốc liên kết QR / base of the QR link")
      ->type_name("URL");
  app.get_help_ptr()->group("Tùy chọn / options");
  for (auto* command : app.get_subcommands({})) {
    command->group("Lệnh / commands");
    command->get_help_ptr()->group("Tùy chọn / options");
  }
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return parse_failure(e);
  }
  if (version) {
    std::cout << "dossier-server " << kVersion << "\n";
    return 0;
  }
  if (*create_admin_cmd) return create_admin(tool);
  if (*verify_cmd) return verify(tool);
  if (*backup_cmd) return backup(tool);
  if (*label_cmd) return label(tool);
  if (*receipt_cmd) return receipt(tool);
  if (*routes_cmd) return print_route_table(std::cout, std::cerr);
  return serve(serve_config, settings, config_option->as<std::string>());
}

}  // namespace dpost::server
