// The scanner's only Beast file (slow to compile): a blocking HTTP/1.1 client, one connection per exchange.
#include "http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace dpost::scanner {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

std::optional<ServerUrl> parse_server_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (!text.starts_with(kScheme)) return std::nullopt;
  text.remove_prefix(kScheme.size());
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : text.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ServerUrl url;
  url.base = std::string(path);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    url.host = std::string(authority);
    url.port = "80";
  } else {
    url.host = std::string(authority.substr(0, colon));
    url.port = std::string(authority.substr(colon + 1));
    if (url.port.empty() || url.port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  }
  if (url.host.empty()) return std::nullopt;
  return url;
}

HttpAnswer http_request(const ServerUrl& server, std::string_view method, std::string_view path, std::string_view body,
                        std::string_view bearer_token, std::chrono::milliseconds timeout) {
  HttpAnswer answer;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  net::ip::tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(server.host, server.port, ec);
  if (ec) {
    answer.transport_error = "resolve: " + ec.message();
    return answer;
  }
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec) {
    answer.transport_error = "connect: " + ec.message();
    return answer;
  }
  http::request<http::string_body> request(http::string_to_verb(method), server.base + std::string(path), 11);
  request.set(http::field::host, server.host + ":" + server.port);
  request.set(http::field::user_agent, "dossier-scanner");
  request.set(http::field::content_type, "application/json");
  if (!bearer_token.empty()) request.set(http::field::authorization, "Bearer " + std::string(bearer_token));
  request.body() = std::string(body);
  request.prepare_payload();
  stream.expires_after(timeout);
  http::write(stream, request, ec);
  if (ec) {
    answer.transport_error = "write: " + ec.message();
    return answer;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);  // a batch answer for 500 events is well under this
  stream.expires_after(timeout);
  http::read(stream, buffer, parser, ec);
  if (ec) {
    answer.transport_error = "read: " + ec.message();
    return answer;
  }
  const auto& response = parser.get();
  answer.status = static_cast<int>(response.result_int());
  answer.body = response.body();
  if (auto it = response.find(http::field::retry_after); it != response.end()) {
    answer.retry_after = std::string(it->value());
  }
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  return answer;
}

}  // namespace dpost::scanner
