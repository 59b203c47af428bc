#include "scan_load.hpp"

#include "bench_util.hpp"
#include "http_client.hpp"
#include "latency.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dpost::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

int make_scan_items(const ScanItemsOptions& options) {
  HttpClient client(options.host, options.port);
  std::ofstream out(options.out_path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + options.out_path);
  for (int i = 0; i < options.count; ++i) {
    const nlohmann::json dossier{{"procedure", {{"code", "1.005129"}, {"name", "Cấp phiếu lý lịch tư pháp"}}},
                                 {"applicant",
                                  {{"name", "Nguyễn Văn An"},
                                   {"phone", "0912345678"},
                                   {"address", "Hà Nội"},
                                   {"id_number", "0010900" + std::to_string(10000 + i)}}},
                                 {"office", options.office},
                                 {"service", "both"}};
    const HttpAnswer created = client.request("POST", "/api/v1/dossiers", dossier.dump(), options.token);
    if (created.status != 201) {
      throw std::runtime_error("POST /api/v1/dossiers: HTTP " + std::to_string(created.status) + " " + created.body);
    }
    const auto item_id = nlohmann::json::parse(created.body).at("items").at(0).at("item_id").get<std::string>();
    std::mt19937_64 rng(static_cast<std::uint64_t>(i) + 1);
    const nlohmann::json accept{{"event_id", random_uuid(rng)},
                                {"item_id", item_id},
                                {"code", "EMA"},
                                {"site", options.site},
                                {"occurred_at", format_rfc3339_millis(unix_millis_now())}};
    const HttpAnswer accepted = client.request("POST", "/api/v1/scans", accept.dump(), options.token);
    if (accepted.status != 201) {
      throw std::runtime_error("EMA on " + item_id + ": HTTP " + std::to_string(accepted.status) + " " + accepted.body);
    }
    out << item_id << '\n';
  }
  std::printf("make-scan-items: %d items accepted at %s, ids in %s\n", options.count, options.site.c_str(),
              options.out_path.c_str());
  return 0;
}

namespace {

struct LoadPlan {
  tcp::endpoint endpoint;
  std::string host_header;
  std::string authorization;
  std::string site;
  SteadyClock::time_point end;
};

struct ConnectionStats {
  LoadResult result;
  std::map<unsigned, std::uint64_t> by_status;  // answers other than 201
  std::uint64_t io_errors = 0;
  std::string first_refusal;  // status and body of the first non-201, to tell what went wrong
  std::string first_io_error;
};

std::string scan_body(std::mt19937_64& rng, const std::string& item_id, bool sorting_in, const std::string& site,
                      std::int64_t occurred_at) {
  // Built by hand: every field is plain ASCII, and the client must stay lean next to the server on 2 cores.
  std::string body;
  body.reserve(160);
  body += R"({"event_id":")";
  body += random_uuid(rng);
  body += R"(","item_id":")";
  body += item_id;
  body += sorting_in ? R"(","code":"EDD","site":")" : R"(","code":"EDE","site":")";
  body += site;
  body += R"(","occurred_at":")";
  body += format_rfc3339_millis(occurred_at);
  body += R"("})";
  return body;
}

net::awaitable<void> pause(std::chrono::milliseconds duration) {
  net::steady_timer timer(co_await net::this_coro::executor, duration);
  co_await timer.async_wait(net::use_awaitable);
}

// One client: one connection, one item, one request at a time. `stats` outlives the io_context run.
net::awaitable<void> drive_connection(std::shared_ptr<const LoadPlan> plan, std::string item_id, ConnectionStats* stats,
                                      std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  beast::tcp_stream stream(co_await net::this_coro::executor);
  beast::flat_buffer buffer;
  http::request<http::string_body> request{http::verb::post, "/api/v1/scans", 11};
  request.set(http::field::host, plan->host_header);
  request.set(http::field::authorization, plan->authorization);
  request.set(http::field::content_type, "application/json");
  request.keep_alive(true);

  bool connected = false;
  bool sorting_in = true;  // the item is accepted: EDD first
  std::int64_t occurred_at = 0;
  auto io_failed = [&](const beast::error_code& ec) {
    ++stats->io_errors;
    if (stats->first_io_error.empty()) stats->first_io_error = ec.message();
    beast::error_code ignored;
    stream.socket().close(ignored);
    connected = false;
  };

  while (SteadyClock::now() < plan->end) {
    beast::error_code ec;
    if (!connected) {
      stream.expires_after(std::chrono::seconds(10));
      co_await stream.async_connect(plan->endpoint, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        io_failed(ec);
        co_await pause(std::chrono::milliseconds(50));
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true), ec);
      buffer.clear();
      connected = true;
    }
    occurred_at = std::max(occurred_at + 1, unix_millis_now());
    request.body() = scan_body(rng, item_id, sorting_in, plan->site, occurred_at);
    request.prepare_payload();

    const auto sent = SteadyClock::now();
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, request, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      io_failed(ec);
      continue;
    }
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      io_failed(ec);
      continue;
    }
    const auto done = SteadyClock::now();
    const unsigned status = response.result_int();
    if (status == 201) {
      if (done <= plan->end) {
        ++stats->result.ok;
        stats->result.latency.add(done - sent);
      }
      sorting_in = !sorting_in;
    } else {
      ++stats->by_status[status];
      if (stats->first_refusal.empty()) stats->first_refusal = std::to_string(status) + " " + response.body();
      // 409: our idea of the item's state is off (say a 503 that committed after all): take the other code.
      if (status == 409) sorting_in = !sorting_in;
      if (status == 503 || status == 429) co_await pause(std::chrono::milliseconds(10));
    }
    if (!response.keep_alive()) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.socket().close(ignored);
      connected = false;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

int run_scan_load(const ScanLoadOptions& options) {
  const std::vector<std::string> items = read_lines(options.items_path);
  if (items.size() < static_cast<std::size_t>(options.clients)) {
    throw std::runtime_error(options.items_path + " has " + std::to_string(items.size()) + " items for " +
                             std::to_string(options.clients) + " clients: each client needs its own item");
  }
  auto plan = std::make_shared<LoadPlan>();
  plan->endpoint = tcp::endpoint(net::ip::make_address(options.host), options.port);
  plan->host_header = options.host + ":" + std::to_string(options.port);
  plan->authorization = "Bearer " + options.token;
  plan->site = options.site;

  net::io_context ioc(options.threads);
  std::vector<ConnectionStats> stats(static_cast<std::size_t>(options.clients));
  const auto start = SteadyClock::now();
  plan->end = start + std::chrono::seconds(options.seconds);
  for (std::size_t c = 0; c < stats.size(); ++c) {
    net::co_spawn(net::make_strand(ioc), drive_connection(plan, items[c], &stats[c], 1000 + c), net::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& thread : threads) thread.join();

  LoadResult total;
  total.seconds = options.seconds;
  std::map<unsigned, std::uint64_t> by_status;
  std::uint64_t io_errors = 0;
  std::string first_refusal;
  std::string first_io_error;
  for (auto& connection : stats) {
    total.ok += connection.result.ok;
    total.latency.merge(connection.result.latency);
    for (const auto& [status, count] : connection.by_status) by_status[status] += count;
    io_errors += connection.io_errors;
    if (first_refusal.empty()) first_refusal = connection.first_refusal;
    if (first_io_error.empty()) first_io_error = connection.first_io_error;
  }
  total.errors = io_errors;
  for (const auto& [status, count] : by_status) {
    total.errors += count;
    std::printf("scan-load: %llu answers with HTTP %u\n", static_cast<unsigned long long>(count), status);
  }
  if (!first_refusal.empty()) std::printf("scan-load: first refusal: %.300s\n", first_refusal.c_str());
  if (io_errors > 0) {
    std::printf("scan-load: %llu connection errors, first: %s\n", static_cast<unsigned long long>(io_errors),
                first_io_error.c_str());
  }
  print_result("durable scans over HTTP (" + std::to_string(options.clients) + " clients)", total);
  return 0;
}

}  // namespace dpost::bench
