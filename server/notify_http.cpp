// The webhook sender: the only notification code that includes Beast (slow to compile).
#include "notify.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace dpost::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(5);
constexpr std::uint64_t kResponseBodyLimit = 64 * 1024;  // the answer is only logged on failure

class WebhookSender final : public Sender {
 public:
  WebhookSender(WebhookTarget target, std::string secret) : target_(std::move(target)), secret_(std::move(secret)) {}

  SendResult send(const Notification& n) override {
    // Asynchronous operations driven to completion right here: tcp_stream's expiry only applies to them, and
    // it gives every step (connect, write, read) the same 5 s limit.
    net::io_context ioc;
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(target_.host, target_.port, ec);
    if (ec) return {false, "cannot resolve " + target_.host + ": " + ec.message()};

    beast::tcp_stream stream(ioc);
    stream.expires_after(kTimeout);
    stream.async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    ioc.run();
    if (ec) return {false, "connect: " + ec.message()};

    http::request<http::string_body> request{http::verb::post, target_.target, 11};
    request.set(http::field::host, target_.host + ":" + target_.port);
    request.set(http::field::user_agent, "dossier-post-notifier");
    request.set(http::field::content_type, "application/json");
    request.set("X-Dossier-Signature", signature_header(secret_, n.body));
    request.set("Idempotency-Key", idempotency_key(n.event_id, n.channel));
    request.set(http::field::connection, "close");
    request.body() = n.body;
    request.prepare_payload();

    ioc.restart();
    stream.expires_after(kTimeout);
    http::async_write(stream, request, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.run();
    if (ec) return {false, "send: " + ec.message()};

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    ioc.restart();
    stream.expires_after(kTimeout);
    http::async_read(stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.run();
    if (ec) return {false, "receive: " + ec.message()};
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

    const auto status = parser.get().result_int();
    if (status >= 200 && status < 300) return {true, {}};
    return {false, "HTTP " + std::to_string(status)};
  }

 private:
  WebhookTarget target_;
  std::string secret_;  // never logged
};

}  // namespace

std::unique_ptr<Sender> make_webhook_sender(WebhookTarget target, std::string secret) {
  return std::make_unique<WebhookSender>(std::move(target), std::move(secret));
}

}  // namespace dpost::server
