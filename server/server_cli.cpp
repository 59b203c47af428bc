#include "server_cli.hpp"

#include "api.hpp"
#include "auth.hpp"
#include "demo_data.hpp"
#include "http_server.hpp"
#include "label_routes.hpp"
#include "notify.hpp"
#include "route_table.hpp"
#include "sqlite_storage.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dpost::server {
namespace {

constexpr const char* kUsage = R"(dossier-server: theo dõi hồ sơ thủ tục hành chính qua bưu chính công ích
                Dossier Post: tracks administrative dossiers carried by the public postal service

Cách dùng / usage:
  dossier-server [serve] --db FILE [--listen HOST:PORT] [--demo] [options]
  dossier-server create-admin --db FILE --username NAME     (password read from standard input)
  dossier-server verify --db FILE                           (exit 1 when the stored history was altered)
  dossier-server backup --db FILE --to FILE                 (consistent copy, safe while the server runs)
  dossier-server label --db FILE --item ID --out FILE [--format png|svg|pdf|zpl] [--dpi 203|300]
                 [--public-base-url URL]                    (an item's label, as GET /api/v1/items/{id}/label)
  dossier-server receipt --db FILE --dossier N --out FILE [--public-base-url URL]
                                                            (the pickup receipt, phiếu gửi hồ sơ, PDF)

serve options:
  --listen HOST:PORT        address to listen on (default 127.0.0.1:8080; port 0 picks a free port)
  --db FILE                 SQLite database file, created and migrated on start
  --demo                    fill a NEW database with demo sites, logins (password "demo") and dossiers
  --public-base-url URL     base of the tracking links printed in QR codes (default http://HOST:PORT)
  --public-rate N           public look-ups per minute per client address (default 120; 0 = no limit)
  --log-requests on|off     one JSON line per request on stderr (default on)
  --confirm-within-minutes N  a handoff not confirmed by the receiving side within N minutes is overdue
                            (default 240)
  --io-threads N            network threads (default: number of cores)
  --workers N               threads for blocking work such as password hashing (default 4)
  --notify-file FILE        where citizen SMS messages are written, one JSON line each, mode 0600 (the SMS
                            gateway stand-in; default DB.messages.log)
  --webhook-url URL         POST each notified event to the one-stop system (http:// only), signed
  --webhook-secret SECRET   HMAC-SHA256 key for X-Dossier-Signature (or env DPOST_WEBHOOK_SECRET; required
                            with --webhook-url)
  --calendar FILE            working-day calendar (JSON: weekend, office hours, cut-off, holidays per year;
                            default: the embedded Vietnamese one, docs/deadlines.md)
  --leg-limits FILE         working days each postal leg may take per province and area (JSON; default 1
                            urban, 2 rural, 3 remote). New dossiers keep the rules in force when received.
  --help, --version
)";

struct Args {
  std::string command = "serve";
  std::map<std::string, std::string> values;
  bool demo = false;
};

// Flags that take a value; anything else unknown is an error (a typo must not silently change behaviour).
const std::vector<std::string> kValueFlags = {"--listen",
                                              "--db",
                                              "--public-base-url",
                                              "--public-rate",
                                              "--io-threads",
                                              "--workers",
                                              "--to",
                                              "--username",
                                              "--item",
                                              "--dossier",
                                              "--format",
                                              "--dpi",
                                              "--out",
                                              "--notify-file",
                                              "--webhook-url",
                                              "--webhook-secret",
                                              "--log-requests",
                                              "--confirm-within-minutes",
                                              "--calendar",
                                              "--leg-limits"};

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
  Args a;
  int i = 1;
  if (i < argc && argv[i][0] != '-') a.command = argv[i++];
  for (; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos && flag.starts_with("--")) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--demo") {
      a.demo = true;
    } else if (flag == "--help" || flag == "-h" || flag == "--version") {
      a.command = flag;
    } else if (std::find(kValueFlags.begin(), kValueFlags.end(), flag) != kValueFlags.end()) {
      if (!has_value) {
        if (i + 1 >= argc) {
          error = flag + " needs a value";
          return std::nullopt;
        }
        value = argv[++i];
      }
      a.values[flag] = value;
    } else {
      error = "unknown option " + flag + " (see --help)";
      return std::nullopt;
    }
  }
  return a;
}

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

std::string require(const Args& a, const std::string& flag) {
  auto it = a.values.find(flag);
  return it == a.values.end() ? std::string() : it->second;
}

// The deadline rules: --calendar and --leg-limits files, each defaulting to the embedded one. A file that
// cannot be read or has a typo stops the start with a one-line error naming the file and the place.
RuleSet load_rules(const Args& a) {
  auto read = [&](const char* flag, std::string_view fallback) {
    const auto it = a.values.find(flag);
    if (it == a.values.end()) return std::string(fallback);
    std::ifstream in(it->second, std::ios::binary);
    if (!in) throw std::runtime_error(std::string(flag) + " " + it->second + ": cannot read the file");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  auto calendar = read("--calendar", WorkingCalendar::vietnam_source());
  auto limits = read("--leg-limits", LegLimits::defaults_source());
  try {
    return RuleSet::from_texts(std::move(calendar), std::move(limits));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("deadline rules: ") + e.what());
  }
}

int serve(const Args& a) {
  const auto db = require(a, "--db");
  if (db.empty()) return fail("--db FILE is required");
  std::string listen = a.values.count("--listen") ? a.values.at("--listen") : "127.0.0.1:8080";
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return fail("--listen takes HOST:PORT, e.g. 127.0.0.1:8080");
  HttpServerOptions http;
  http.host = listen.substr(0, colon);
  if (http.host.size() > 2 && http.host.front() == '[' && http.host.back() == ']') {
    http.host = http.host.substr(1, http.host.size() - 2);
  }
  const auto port = parse_count(listen.substr(colon + 1), 0, 65535);
  if (!port) return fail("the port in --listen must be 0..65535");
  http.port = static_cast<unsigned short>(*port);
  http.io_threads = std::max(1u, std::thread::hardware_concurrency());
  ApiOptions api_options;
  if (a.values.count("--io-threads")) {
    auto n = parse_count(a.values.at("--io-threads"), 1, 64);
    if (!n) return fail("--io-threads takes 1..64");
    http.io_threads = static_cast<std::size_t>(*n);
  }
  if (a.values.count("--workers")) {
    auto n = parse_count(a.values.at("--workers"), 1, 256);
    if (!n) return fail("--workers takes 1..256");
    api_options.workers = static_cast<std::size_t>(*n);
  }
  if (a.values.count("--log-requests")) {
    const auto& v = a.values.at("--log-requests");
    if (v != "on" && v != "off") return fail("--log-requests takes on or off");
    api_options.log_requests = v == "on";
  }
  if (a.values.count("--confirm-within-minutes")) {
    auto n = parse_count(a.values.at("--confirm-within-minutes"), 0, 7 * 24 * 60);
    if (!n) return fail("--confirm-within-minutes takes 0..10080");
    api_options.confirm_within_ms = static_cast<UnixMillis>(*n) * 60'000;
  }
  if (a.values.count("--public-rate")) {
    auto n = parse_count(a.values.at("--public-rate"), 0, 100'000'000);
    if (!n) return fail("--public-rate takes a number of look-ups per minute (0 = no limit)");
    api_options.public_rate_per_minute = *n;
  }

  // Notifications: citizen messages always go to the messages file; the webhook only when configured.
  const std::string notify_file = a.values.count("--notify-file") ? a.values.at("--notify-file") : db + ".messages.log";
  std::optional<WebhookTarget> webhook;
  std::string webhook_secret;
  if (a.values.count("--webhook-url")) {
    webhook = parse_webhook_url(a.values.at("--webhook-url"));
    if (!webhook) return fail("--webhook-url takes http://HOST[:PORT]/PATH (https is not supported)");
    if (a.values.count("--webhook-secret")) {
      webhook_secret = a.values.at("--webhook-secret");
    } else if (const char* env = std::getenv("DPOST_WEBHOOK_SECRET")) {
      webhook_secret = env;
    }
    // Never echo the secret: messages name the flag only.
    if (webhook_secret.empty()) return fail("--webhook-url needs --webhook-secret (or DPOST_WEBHOOK_SECRET)");
  } else if (a.values.count("--webhook-secret")) {
    return fail("--webhook-secret is only used with --webhook-url");
  }

  std::unique_ptr<Storage> storage;
  SqliteOptions storage_options{db, default_scan_policy()};
  try {
    storage_options.rules = load_rules(a);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  try {
    storage = open_sqlite_storage(std::move(storage_options));
  } catch (const std::exception& e) {
    return fail(db + ": " + e.what());
  }
  std::vector<std::string> demo_lines;
  if (a.demo) {
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
  std::unique_ptr<HttpServer> server;
  try {
    // The API needs the final base URL, which needs the bound port: bind first with a forwarding dispatch.
    Api* api_ptr = nullptr;
    server = std::make_unique<HttpServer>(
        http, [&api_ptr](HttpRequest&& r, Reply reply) { api_ptr->dispatch(std::move(r), std::move(reply)); });
    server->listen();
    const std::string host = http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host;
    const std::string url = "http://" + host + ":" + std::to_string(server->port());
    api_options.public_base_url = a.values.count("--public-base-url") ? a.values.at("--public-base-url") : url;
    NotificationConfig notify_config;
    notify_config.citizen = true;
    notify_config.webhook = webhook.has_value();
    notify_config.public_base_url = api_options.public_base_url;
    notify_config.on_queued = notifier->waker();
    storage->configure_notifications(std::move(notify_config));
    api = std::make_unique<Api>(*storage, api_options);
    api_ptr = api.get();
    std::cout << "dossier-server listening on " << url << std::endl;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (a.demo) {
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
  std::cerr << "dossier-server: stopped cleanly" << std::endl;
  return 0;
}

int create_admin(const Args& a) {
  const auto db = require(a, "--db");
  const auto username = require(a, "--username");
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

int verify(const Args& a) {
  const auto db = require(a, "--db");
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

int backup(const Args& a) {
  const auto db = require(a, "--db");
  const auto to = require(a, "--to");
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
std::string cli_public_base_url(const Args& a) {
  return a.values.count("--public-base-url") ? a.values.at("--public-base-url") : ApiOptions{}.public_base_url;
}

int write_output(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail("cannot write " + path);
  return 0;
}

int label(const Args& a) {
  const auto db = require(a, "--db");
  const auto item_text = require(a, "--item");
  const auto out = require(a, "--out");
  if (db.empty() || item_text.empty() || out.empty()) return fail("label needs --db FILE, --item ID and --out FILE");
  if (!std::filesystem::exists(db)) return fail(db + ": no such file");
  const auto format = parse_label_format(a.values.count("--format") ? a.values.at("--format") : "png");
  if (!format) return fail("--format takes png, svg, pdf or zpl");
  const auto dpi = a.values.count("--dpi") ? parse_count(a.values.at("--dpi"), 1, 10000) : std::optional<int>(203);
  if (!dpi || !is_supported_dpi(*dpi)) return fail("--dpi takes 203 or 300");
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

int receipt(const Args& a) {
  const auto db = require(a, "--db");
  const auto dossier_text = require(a, "--dossier");
  const auto out = require(a, "--out");
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

}  // namespace

int run_server_cli(int argc, char** argv) {
  std::string error;
  auto args = parse_args(argc, argv, error);
  if (!args) return fail(error);
  if (args->command == "--help" || args->command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args->command == "--version") {
    std::cout << "dossier-server 0.1.0\n";
    return 0;
  }
  if (args->command == "serve") return serve(*args);
  if (args->command == "create-admin") return create_admin(*args);
  if (args->command == "verify") return verify(*args);
  if (args->command == "backup") return backup(*args);
  if (args->command == "label") return label(*args);
  if (args->command == "receipt") return receipt(*args);
  if (args->command == "routes") return print_route_table(std::cout, std::cerr);  // METHOD PATTERN per line
  return fail("unknown command " + args->command + " (see --help)");
}

}  // namespace dpost::server
