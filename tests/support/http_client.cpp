#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <ctime>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>

namespace dpost::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

nlohmann::json HttpResult::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("HTTP " + std::to_string(status) + " body is not JSON (" + e.what() +
                             "): " + body.substr(0, 2000));
  }
}

std::string HttpResult::header(std::string_view name) const {
  auto found = headers.find(lower(name));
  return found == headers.end() ? std::string() : found->second;
}

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{30'000};

  // Runs the queued operations to completion; tcp_stream's expiry bounds them.
  void run() {
    ioc.restart();
    ioc.run();
  }

  void close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
  }

  void connect(const std::string& host, unsigned short port) {
    close();
    stream.emplace(ioc);
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    auto address = net::ip::make_address(host, ec);
    if (!ec) {
      endpoints.emplace_back(address, port);
    } else {
      tcp::resolver resolver(ioc);
      for (const auto& entry : resolver.resolve(host, std::to_string(port))) endpoints.push_back(entry.endpoint());
    }
    stream->expires_after(timeout);
    beast::error_code connect_ec;
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { connect_ec = e; });
    run();
    if (connect_ec) {
      close();
      throw std::system_error(connect_ec, "connect to " + host + ":" + std::to_string(port));
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
  }
};

HttpClient::HttpClient(std::string host, unsigned short port)
    : host_(std::move(host)), port_(port), impl_(std::make_unique<Impl>()) {
  ::signal(SIGPIPE, SIG_IGN);
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::set_timeout(std::chrono::milliseconds timeout) {
  impl_->timeout = timeout;
}
void HttpClient::disconnect() {
  impl_->close();
}

HttpResult HttpClient::get(std::string_view target, std::string_view token) {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + std::string(token);
  return request("GET", target, "", headers);
}

HttpResult HttpClient::post(std::string_view target, const std::string& body, std::string_view token) {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + std::string(token);
  return request("POST", target, body, headers);
}

HttpResult HttpClient::post(std::string_view target, const char* body, std::string_view token) {
  return post(target, std::string(body), token);
}

HttpResult HttpClient::post(std::string_view target, const nlohmann::json& body, std::string_view token) {
  return post(target, body.dump(), token);
}

HttpResult HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                               const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req;
  req.method_string(std::string(method));
  req.target(std::string(target));
  req.version(11);
  req.set(http::field::host, host_ + ":" + std::to_string(port_));
  req.set(http::field::user_agent, "dpost-integration-tests");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    if (lower(name) == "content-type") has_content_type = true;
  }
  if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.keep_alive(true);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (!reused) impl_->connect(host_, port_);

    auto& stream = *impl_->stream;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code write_ec;
    beast::error_code read_ec;
    bool write_done = false;
    stream.expires_after(impl_->timeout);
    // Read while writing: a server may answer early (413) and close before taking the whole body.
    http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
      write_done = true;
      write_ec = ec;
    });
    http::async_read(stream, impl_->buffer, parser, [&](beast::error_code ec, std::size_t) {
      read_ec = ec;
      if (!write_done) {
        beast::error_code ignored;
        stream.socket().cancel(ignored);
      }
    });
    impl_->run();

    if (read_ec) {
      bool nothing_received = !parser.got_some();
      impl_->close();
      // A kept-alive connection the server has closed meanwhile: connect again once.
      if (reused && nothing_received && attempt == 0) continue;
      std::string what = std::string(method) + " " + std::string(target) + " on " + host_ + ":" +
                         std::to_string(port_) + (write_ec ? " (write: " + write_ec.message() + ")" : "");
      throw std::system_error(read_ec, what);
    }

    auto response = parser.release();
    HttpResult result;
    result.status = static_cast<int>(response.result_int());
    result.body = std::move(response.body());
    for (const auto& field : response) result.headers[lower(field.name_string())] = std::string(field.value());
    if (write_ec || !write_done || !response.keep_alive()) impl_->close();
    return result;
  }
}

std::string login(HttpClient& client, std::string_view username, std::string_view password) {
  nlohmann::json body{{"username", username}, {"password", password}};
  auto result = client.post("/api/v1/login", body);
  if (result.status != 200) {
    throw std::runtime_error("login as " + std::string(username) + " answered " + std::to_string(result.status) + ": " +
                             result.body);
  }
  auto json = result.json();
  if (!json.contains("token") || !json["token"].is_string()) {
    throw std::runtime_error("login as " + std::string(username) + " answered without a token: " + result.body);
  }
  return json["token"].get<std::string>();
}

std::string new_uuid() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  unsigned char bytes[16];
  for (int i = 0; i < 16; i += 8) {
    auto value = engine();
    for (int j = 0; j < 8; ++j) bytes[i + j] = static_cast<unsigned char>(value >> (8 * j));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0x0f];
  }
  return text;
}

std::string rfc3339_at(std::chrono::system_clock::time_point when) {
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  int fraction = static_cast<int>(millis % 1000);
  if (fraction < 0) {
    fraction += 1000;
    --seconds;
  }
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
  return text;
}

std::string rfc3339(std::chrono::milliseconds offset) {
  return rfc3339_at(std::chrono::system_clock::now() + offset);
}

}  // namespace dpost::test
