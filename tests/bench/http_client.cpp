#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace dpost::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  unsigned short port;
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void connect() {
    tcp::resolver resolver(ioc);
    stream.connect(resolver.resolve(host, std::to_string(port)));
    connected = true;
  }
};

HttpClient::HttpClient(const std::string& host, unsigned short port) : impl_(std::make_unique<Impl>()) {
  impl_->host = host;
  impl_->port = port;
}

HttpClient::~HttpClient() {
  if (impl_->connected) {
    beast::error_code ignored;
    impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

HttpAnswer HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::string& token) {
  if (!impl_->connected) impl_->connect();
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, impl_->host);
  req.keep_alive(true);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(impl_->stream, req);
  http::response<http::string_body> res;
  http::read(impl_->stream, impl_->buffer, res);
  if (!res.keep_alive()) {
    beast::error_code ignored;
    impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->stream.close();
    impl_->connected = false;
  }
  return {res.result_int(), std::move(res.body())};
}

std::string login(HttpClient& client, const std::string& username, const std::string& password) {
  const nlohmann::json body{{"username", username}, {"password", password}};
  const HttpAnswer answer = client.request("POST", "/api/v1/login", body.dump());
  if (answer.status / 100 != 2) {
    throw std::runtime_error("login as " + username + ": HTTP " + std::to_string(answer.status) + " " + answer.body);
  }
  return nlohmann::json::parse(answer.body).at("token").get<std::string>();
}

}  // namespace dpost::bench
