#include "beast_baseline.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace dpost::bench {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// About the size of a small JSON answer; a real track answer is larger (see docs/benchmarks.md).
constexpr std::string_view kBody =
    R"({"item_id":"EB000000015VN","kind":"dossier","state":"at_sorting","procedure_name":"baseline"})";

class BaselineSession : public std::enable_shared_from_this<BaselineSession> {
 public:
  explicit BaselineSession(tcp::socket&& socket) : stream_(std::move(socket)) {}

  void run() {
    // The socket was accepted on its own strand: start there.
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&BaselineSession::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(1024 * 1024);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&BaselineSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream) return close();
    if (ec) return;
    const auto& request = parser_->get();
    response_ = {};
    response_.version(request.version());
    response_.keep_alive(request.keep_alive());
    response_.set(http::field::server, "dossier-bench");
    response_.set(http::field::content_type, "application/json");
    if (request.method() == http::verb::get) {
      response_.result(http::status::ok);
      response_.body() = kBody;
    } else {
      response_.result(http::status::method_not_allowed);
      response_.body() = R"({"code":"method_not_allowed"})";
    }
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, response_, beast::bind_front_handler(&BaselineSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;
    if (!response_.keep_alive()) return close();
    do_read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

class BaselineListener : public std::enable_shared_from_this<BaselineListener> {
 public:
  BaselineListener(net::io_context& ioc, const tcp::endpoint& endpoint) : ioc_(ioc), acceptor_(net::make_strand(ioc)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void start() { do_accept(); }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&BaselineListener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      std::make_shared<BaselineSession>(std::move(socket))->run();
    }
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

}  // namespace

int run_beast_baseline(const BeastBaselineOptions& options) {
  net::io_context ioc(options.io_threads);
  auto listener =
      std::make_shared<BaselineListener>(ioc, tcp::endpoint(net::ip::make_address(options.host), options.port));
  listener->start();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });

  std::printf("dossier-bench beast-baseline listening on http://%s:%u\n", options.host.c_str(),
              static_cast<unsigned>(listener->port()));
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (int i = 1; i < options.io_threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& thread : threads) thread.join();
  return 0;
}

}  // namespace dpost::bench
