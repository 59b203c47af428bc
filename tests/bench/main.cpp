// dossier-bench: the measuring tools behind scripts/bench (see docs/benchmarks.md).
#include "args.hpp"
#include "beast_baseline.hpp"
#include "bench_util.hpp"
#include "http_client.hpp"
#include "label_bench.hpp"
#include "scan_load.hpp"
#include "scanner_bench.hpp"
#include "sqlite_baseline.hpp"
#include "track_db.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr const char* kUsage = R"(usage: dossier-bench COMMAND [OPTIONS]

  sqlite-baseline --db FILE [--clients 32] [--seconds 10]
      bare SQLite group commit (WAL, synchronous=FULL): the baseline for durable scans
  beast-baseline [--listen 127.0.0.1:0] [--io-threads CORES]
      bare Beast server answering every GET with a fixed body: the baseline for look-ups
  login --port P [--host 127.0.0.1] [--user clerk1] [--password demo]
      prints a bearer token
  make-scan-items --port P --token T --count N --out FILE [--host 127.0.0.1] [--site BC-HN01] [--office MC-HN-BD]
      creates N dossiers and accepts their items (EMA) through the API
  scan-load --port P --token T --items FILE [--clients 32] [--seconds 10] [--threads 1] [--host 127.0.0.1]
            [--site BC-HN01]
      N keep-alive connections posting EDD/EDE scans, one item each
  track-check --port P --item ID [--host 127.0.0.1]
      one GET /api/v1/track/ID: exits 1 unless it answers 200
  make-track-db --db FILE --items N --ids FILE [--reuse-only]
      fills a --demo database with N items and ~11.5 events each for look-ups
  labels [--iterations N] [--seconds S]
      label rendering per format next to the bare ZXing encode of the same symbols, and the decode round trip
  scanner [--repeat N] [--out DIR]
      photo decoding: ours next to the bare ZXing call and zbarimg on the same generated images

Load commands end with one line "result rate=R p50_us=A p99_us=B ok=N errors=E".
)";

using namespace dpost::bench;

int clamp_int(std::int64_t value) {
  return static_cast<int>(std::min<std::int64_t>(value, 1'000'000'000));
}

int dispatch(std::string_view command, Args& args) {
  if (command == "sqlite-baseline") {
    SqliteBaselineOptions options;
    options.db_path = args.text("db");
    options.clients = clamp_int(args.number("clients", options.clients));
    options.seconds = clamp_int(args.number("seconds", options.seconds));
    args.check_all_used();
    return run_sqlite_baseline(options);
  }
  if (command == "beast-baseline") {
    const HostPort listen = parse_host_port(args.text("listen", "127.0.0.1:0"));
    // Same default as dossier-server: one I/O thread per core.
    const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
    const int io_threads = std::max(1, clamp_int(args.number("io-threads", cores)));
    args.check_all_used();
    return run_beast_baseline({listen.host, listen.port, io_threads});
  }
  if (command == "login") {
    const std::string host = args.text("host", "127.0.0.1");
    const auto port = static_cast<unsigned short>(args.number("port"));
    const std::string user = args.text("user", "clerk1");
    const std::string password = args.text("password", "demo");
    args.check_all_used();
    HttpClient client(host, port);
    std::printf("%s\n", login(client, user, password).c_str());
    return 0;
  }
  if (command == "make-scan-items") {
    ScanItemsOptions options;
    options.host = args.text("host", options.host);
    options.port = static_cast<unsigned short>(args.number("port"));
    options.token = args.text("token");
    options.count = clamp_int(args.number("count"));
    options.out_path = args.text("out");
    options.site = args.text("site", options.site);
    options.office = args.text("office", options.office);
    args.check_all_used();
    return make_scan_items(options);
  }
  if (command == "scan-load") {
    ScanLoadOptions options;
    options.host = args.text("host", options.host);
    options.port = static_cast<unsigned short>(args.number("port"));
    options.token = args.text("token");
    options.items_path = args.text("items");
    options.clients = clamp_int(args.number("clients", options.clients));
    options.seconds = clamp_int(args.number("seconds", options.seconds));
    options.threads = std::max(1, clamp_int(args.number("threads", options.threads)));
    options.site = args.text("site", options.site);
    args.check_all_used();
    return run_scan_load(options);
  }
  if (command == "track-check") {
    const std::string host = args.text("host", "127.0.0.1");
    const auto port = static_cast<unsigned short>(args.number("port"));
    const std::string item = args.text("item");
    args.check_all_used();
    HttpClient client(host, port);
    const HttpAnswer answer = client.request("GET", "/api/v1/track/" + item, "");
    std::printf("GET /api/v1/track/%s: HTTP %u, %zu bytes\n%.400s\n", item.c_str(), answer.status, answer.body.size(),
                answer.body.c_str());
    return answer.status == 200 ? 0 : 1;
  }
  if (command == "make-track-db") {
    TrackDbOptions options;
    options.db_path = args.text("db");
    options.items = clamp_int(args.number("items"));
    options.ids_path = args.text("ids");
    options.reuse_only = args.flag("reuse-only");
    args.check_all_used();
    return make_track_db(options);
  }
  throw UsageError("unknown command '" + std::string(command) + "'");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::string_view(argv[1]) == "labels") return run_label_bench(argc, argv);
  if (std::string_view(argv[1]) == "scanner") return run_scanner_bench(argc - 2, argv + 2);
  try {
    Args args(argc, argv, 2, {"reuse-only"});
    return dispatch(argv[1], args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "dossier-bench: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dossier-bench %s: %s\n", argv[1], e.what());
    return 1;
  }
}
