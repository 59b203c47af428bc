#include "http_server.hpp"
#include "access_log.hpp"

#include "api_error.hpp"
#include "thread_name.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace dpost::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kHardStopDeadline = std::chrono::seconds(30);
// After an error answer the server reads (and drops) what the client is still sending for a short while
// before closing: closing a socket with unread input sends a RST, which can destroy the answer in flight.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerMaxBytes = 4 * 1024 * 1024;

class Session;

// State shared by the server and its sessions. Sessions hold it by shared_ptr, so a session destroyed while
// the io_context itself is torn down still finds it alive.
struct SharedState {
  SharedState(HttpServerOptions options_in, Dispatch dispatch_in)
      : options(std::move(options_in)), dispatch(std::move(dispatch_in)) {}

  const HttpServerOptions options;
  const Dispatch dispatch;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> requests_in_progress{0};

  std::mutex mutex;  // guards everything below
  std::unordered_map<std::string, std::size_t> connections_per_address;
  std::size_t connections = 0;
  std::uint64_t next_session_id = 0;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;
  // Set by the server while it runs; called (under mutex) when the last session of a drain goes away.
  std::function<void()> on_drained;
};

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string address_text(const net::ip::address& address) {
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; count and show them as IPv4.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// One TCP connection. Every member is touched only on the connection's strand (the stream's executor); the
// only entry from other threads is post_response(), which posts onto that strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<SharedState> shared, std::string remote_address, bool admitted)
      : stream_(std::move(socket)),
        read_timer_(stream_.get_executor()),
        shared_(std::move(shared)),
        remote_address_(std::move(remote_address)),
        admitted_(admitted) {}

  ~Session() {
    set_busy(false);
    std::lock_guard lock(shared_->mutex);
    if (admitted_) {
      --shared_->connections;
      auto it = shared_->connections_per_address.find(remote_address_);
      if (it != shared_->connections_per_address.end() && --it->second == 0) {
        shared_->connections_per_address.erase(it);
      }
    }
    shared_->sessions.erase(id_);
    if (shared_->sessions.empty() && shared_->stopping && shared_->on_drained) shared_->on_drained();
  }

  void set_id(std::uint64_t id) { id_ = id; }

  void start() {
    // Hop onto the strand before touching the stream: the acceptor's handler runs elsewhere.
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->admitted_) {
        // The request (if any) is never read: close after the answer, draining what the client sends.
        self->must_close_ = true;
        self->unread_input_ = true;
        self->send(error_response(429, "too_many_connections",
                                  "Too many connections from this address; close some and retry."));
        return;
      }
      if (self->shared_->stopping) {
        self->close();
        return;
      }
      self->wait_for_request();
    });
  }

  // Any thread: the server starts draining.
  void notify_shutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->on_shutdown(); });
  }

 private:
  enum class State { idle, reading, dispatched, writing, closing };

  void on_shutdown() {
    stopping_ = true;
    // Only a connection with nothing received is closed now; a request being read or served finishes and
    // is answered with Connection: close.
    if (state_ == State::idle) close();
  }

  // Any thread: a worker or the storage writer completes a request.
  void post_response(HttpResponse response) {
    net::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
      self->send(std::move(response));
    });
  }

  // Counts this connection in requests_in_progress while a request is between its first byte and its answer.
  void set_busy(bool busy) {
    if (busy == busy_) return;
    busy_ = busy;
    if (busy) {
      shared_->requests_in_progress.fetch_add(1);
    } else {
      shared_->requests_in_progress.fetch_sub(1);
    }
  }

  void wait_for_request() {
    set_busy(false);
    state_ = State::idle;
    if (stopping_) {
      close();
      return;
    }
    if (buffer_.size() > 0) {
      // A pipelined request is already buffered: no idle wait.
      read_header();
      return;
    }
    // Waiting for the first byte separately tells an idle keep-alive connection (idle_timeout, closed at
    // shutdown) from a client that is slowly sending its header (header_timeout).
    stream_.expires_after(requests_served_ == 0 ? shared_->options.header_timeout : shared_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t bytes) {
    if (ec) {
      // EOF, timeout or cancellation at shutdown: an idle connection simply ends.
      close();
      return;
    }
    buffer_.commit(bytes);
    read_header();
  }

  void read_header() {
    state_ = State::reading;
    set_busy(true);
    // A fresh parser per message: limits and parse state must not leak from the previous request.
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(shared_->options.header_limit, UINT32_MAX)));
    arm_read_deadline(shared_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    disarm_read_deadline();
    if (ec) {
      on_read_error(ec);
      return;
    }
    const auto& request = parser_->get();
    if (auto refusal = framing_refusal(request)) {
      version_ = request.version();
      must_close_ = true;
      // A refused Transfer-Encoding leaves Beast thinking the body is empty while the client may still be
      // sending it: linger so that the answer is not lost to a reset.
      unread_input_ = !parser_->is_done() || request.count(http::field::transfer_encoding) > 0;
      send(std::move(*refusal));
      return;
    }
    if (parser_->is_done()) {
      dispatch_request();
      return;
    }
    arm_read_deadline(shared_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  // RFC 9112 3.2 and 6.1: no Host on HTTP/1.1 or more than one, or a transfer coding other than one "chunked"
  // (Beast would read "gzip, chunked" as plain chunked and hand on the gzip bytes as the body). A proxy in
  // front may have framed such a request differently from us, so it is refused and the connection closed.
  static std::optional<HttpResponse> framing_refusal(const http::request<http::string_body>& request) {
    const auto hosts = request.count(http::field::host);
    if (request.version() >= 11 && hosts == 0) {
      return error_response(400, "missing_host", "An HTTP/1.1 request needs a Host header.");
    }
    if (hosts > 1) return error_response(400, "duplicate_host", "A request has exactly one Host header.");
    if (request.count(http::field::transfer_encoding) == 0) return std::nullopt;
    // HTTP/1.0 has no transfer codings: such a message's framing is faulty (RFC 9112 6.1).
    if (request.version() < 11) {
      return error_response(400, "malformed_request", "HTTP/1.0 has no Transfer-Encoding: send a Content-Length.");
    }
    std::size_t codings = 0;
    bool only_chunked = true;
    for (auto [it, end] = request.equal_range(http::field::transfer_encoding); it != end; ++it) {
      for (const auto& coding : http::token_list{it->value()}) {
        ++codings;
        only_chunked = only_chunked && beast::iequals(coding, "chunked");
      }
    }
    if (codings != 1 || !only_chunked) {
      return error_response(501, "unsupported_transfer_coding",
                            "Only \"Transfer-Encoding: chunked\" is understood: send the body plain or chunked.");
    }
    return std::nullopt;
  }

  // A request that has begun but does not arrive in time is answered 408 before the connection closes
  // (RFC 9110 15.5.9), so a client on a stalled link learns why rather than seeing a reset. The stream's own
  // timeout would close the socket, leaving nothing to answer on; this timer only cancels the read.
  void arm_read_deadline(std::chrono::steady_clock::duration timeout) {
    stream_.expires_never();
    const auto generation = ++read_deadline_generation_;
    read_timer_.expires_after(timeout);
    read_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      // A deadline disarmed or re-armed after this wait completed is stale: its read has already ended.
      if (ec || generation != self->read_deadline_generation_ || self->state_ != State::reading) return;
      self->read_timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void disarm_read_deadline() {
    ++read_deadline_generation_;
    read_timer_.cancel();
  }

  void on_body(beast::error_code ec, std::size_t /*bytes*/) {
    disarm_read_deadline();
    if (ec) {
      on_read_error(ec);
      return;
    }
    dispatch_request();
  }

  void on_read_error(beast::error_code ec) {
    // After a protocol error the rest of the stream cannot be framed: answer once, then close.
    must_close_ = true;
    unread_input_ = true;
    if (parser_ && parser_->is_header_done()) version_ = parser_->get().version();
    if (read_timed_out_) {
      send(error_response(408, "request_timeout",
                          "The request did not arrive in time; the connection is closed. Send it again."));
    } else if (ec == http::error::body_limit) {
      send(error_response(413, "payload_too_large", "The request body is larger than the server accepts."));
    } else if (ec == http::error::header_limit) {
      send(error_response(431, "headers_too_large", "The request headers are larger than the server accepts."));
    } else if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      send(error_response(400, "malformed_request", "The request is not valid HTTP/1.1."));
    } else {
      // end_of_stream, partial_message (peer left mid-request), timeout, reset, cancellation.
      close();
    }
  }

  void dispatch_request() {
    state_ = State::dispatched;
    auto message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    version_ = message.version();

    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    std::string_view target = request.target;
    const auto question = target.find('?');
    request.path = percent_decode(target.substr(0, question));
    if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request.headers.emplace_back(to_lower(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;

    Reply reply = make_reply();
    // A decoded path with a control character (%00, %0A, ...) names nothing we serve, and would cut or split the
    // messages and log lines that quote it.
    if (std::any_of(request.path.begin(), request.path.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      reply(error_response(400, "bad_path", "The path holds a control character."));
      return;
    }
    // A draining server is not ready, whatever the dispatcher would say: answered here because only the
    // server knows (the dispatcher is built before the server and holds no reference to it).
    if (shared_->stopping && request.path == "/readyz" && request.method == "GET") {
      auto response = error_response(503, "draining", "The server is shutting down: send requests elsewhere.");
      response.close = true;
      reply(std::move(response));
      return;
    }
    try {
      shared_->dispatch(std::move(request), reply);
    } catch (...) {
      // The dispatcher should not throw; if it does, the client still gets one answer (the guard ignores a
      // second one if the handler had already replied).
      reply(response_for_current_exception());
    }
  }

  // Exactly one response per request: the guard answers 500 if every copy of the Reply is dropped unused
  // (a handler bug), and ignores a second call.
  class ReplyGuard {
   public:
    explicit ReplyGuard(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    ReplyGuard(const ReplyGuard&) = delete;
    ReplyGuard& operator=(const ReplyGuard&) = delete;
    ~ReplyGuard() {
      if (replied_.exchange(true)) return;
      try {
        log_event(LogLevel::error, "request_dropped", {{"answer", 500}});
        session_->post_response(error_response(500, "internal_error", "Internal server error."));
      } catch (...) {
        // Destructors must not throw; the connection then ends at its next timeout or at shutdown.
      }
    }
    void reply(HttpResponse response) {
      if (replied_.exchange(true)) {
        log_event(LogLevel::error, "request_answered_twice", {{"kept", "first"}});
        return;
      }
      session_->post_response(std::move(response));
    }

   private:
    std::shared_ptr<Session> session_;
    std::atomic<bool> replied_{false};
  };

  Reply make_reply() {
    auto guard = std::make_shared<ReplyGuard>(shared_from_this());
    return [guard](HttpResponse response) { guard->reply(std::move(response)); };
  }

  void send(HttpResponse response) {
    if (state_ == State::writing || state_ == State::closing) return;  // the connection is already going away
    state_ = State::writing;
    // Draining (stopping_) or a protocol error (must_close_) ends the connection after this answer.
    const bool close_after = must_close_ || !keep_alive_ || response.close || stopping_ || shared_->stopping;
    close_after_ = close_after;

    response_.emplace();
    auto& out = *response_;
    out.version(version_);
    out.result(response.status);
    out.set(http::field::server, "dossier-post");
    out.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) out.insert(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(!close_after);
    // Said explicitly even for HTTP/1.0, where closing is the default, so clients never have to guess.
    if (close_after) out.set(http::field::connection, "close");
    out.prepare_payload();

    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, out, beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    set_busy(false);
    response_.reset();
    if (ec) {
      close();
      return;
    }
    ++requests_served_;
    if (close_after_) {
      if (unread_input_) {
        linger();
      } else {
        shutdown_send();
        close();
      }
      return;
    }
    wait_for_request();
  }

  void shutdown_send() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void linger() {
    state_ = State::closing;
    shutdown_send();
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerMaxBytes) {
        self->close();
        return;
      }
      self->drain();
    });
  }

  void close() {
    set_busy(false);
    state_ = State::closing;
    disarm_read_deadline();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer read_timer_;  // header and body deadlines (arm_read_deadline)
  std::uint64_t read_deadline_generation_ = 0;
  bool read_timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::shared_ptr<SharedState> shared_;
  std::string remote_address_;
  bool admitted_;
  std::uint64_t id_ = 0;
  State state_ = State::idle;
  bool stopping_ = false;
  bool busy_ = false;
  bool keep_alive_ = false;
  bool must_close_ = false;    // a protocol error or refusal: this is the last answer
  bool unread_input_ = false;  // the client may still be sending: drain before closing
  bool close_after_ = false;
  unsigned version_ = 11;
  std::size_t requests_served_ = 0;
  std::size_t drained_ = 0;
  std::array<char, 4096> scratch_{};
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Dispatch dispatch)
      : shared(std::make_shared<SharedState>(std::move(options), std::move(dispatch))),
        ioc(static_cast<int>(std::max<std::size_t>(1, shared->options.io_threads))),
        strand(net::make_strand(ioc)),
        acceptor(strand),
        signals(strand),
        deadline(strand) {}

  ~Impl() {
    // Sessions still queued in the io_context (after a hard stop) are destroyed with it; they must not
    // call back into this object.
    std::lock_guard lock(shared->mutex);
    shared->on_drained = nullptr;
  }

  void listen() {
    const auto& options = shared->options;
    const std::string where = options.host + ":" + std::to_string(options.port);
    try {
      beast::error_code ec;
      auto address = net::ip::make_address(options.host, ec);
      if (ec) {
        if (options.host != "localhost") throw std::runtime_error("not a numeric IPv4/IPv6 address or localhost");
        address = net::ip::address_v4::loopback();
      }
      const tcp::endpoint endpoint(address, options.port);
      // Catch SIGINT/SIGTERM from before the socket exists: a supervisor may stop us as soon as the port
      // answers, before run() starts the loop. Asio queues a signal that arrives with no wait pending, and
      // run() arms the wait, so such a signal drains at once instead of killing the process mid-start.
      if (options.handle_signals && !signals_added) {
        signals.add(SIGINT);
        signals.add(SIGTERM);
        signals_added = true;
      }
      acceptor.open(endpoint.protocol());
      acceptor.set_option(net::socket_base::reuse_address(true));
      acceptor.bind(endpoint);
      acceptor.listen(net::socket_base::max_listen_connections);
      bound_port = acceptor.local_endpoint().port();
    } catch (const std::exception& error) {
      beast::error_code ignored;
      acceptor.close(ignored);
      throw std::runtime_error("cannot listen on " + where + ": " + error.what());
    }
  }

  void run() {
    {
      std::lock_guard lock(shared->mutex);
      // The last session of a drain lets the io_context run out of work by cancelling what still waits.
      shared->on_drained = [this] { net::post(strand, [this] { finish_drain(); }); };
    }
    net::post(strand, [this] {
      if (shared->stopping) return;
      if (signals_added) wait_for_signal();  // delivers a signal queued since listen()
      accept();
    });

    const std::size_t thread_count = std::max<std::size_t>(1, shared->options.io_threads);
    std::vector<std::thread> threads;
    threads.reserve(thread_count - 1);
    for (std::size_t i = 1; i < thread_count; ++i) {
      threads.emplace_back([this, i] {
        set_thread_name("dpost-io-" + std::to_string(i + 1));
        run_io();
      });
    }
    set_thread_name("dpost-io-1");  // the thread that called serve(): main() in dossier-server
    run_io();
    for (auto& thread : threads) thread.join();
  }

  void run_io() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& error) {
        // A handler must not take the whole server down; log and keep serving.
        log_event(LogLevel::error, "io_thread_exception", {{"error", error.what()}});
      }
    }
  }

  void stop() {
    if (stop_requested.exchange(true)) return;
    net::post(strand, [this] { begin_drain(); });
  }

  // On strand.
  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!acceptor.is_open() || shared->stopping) return;
        // EMFILE and friends: keep accepting rather than going deaf.
        log_event(LogLevel::error, "accept_failed", {{"error", ec.message()}});
      } else {
        start_session(std::move(socket));
      }
      if (!shared->stopping) accept();
    });
  }

  void start_session(tcp::socket socket) {
    beast::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // the client already left
    std::string address = address_text(peer.address());

    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(shared->mutex);
      auto& from_address = shared->connections_per_address[address];
      const bool admitted = from_address < shared->options.max_connections_per_address &&
                            shared->connections < shared->options.max_connections;
      if (admitted) {
        ++from_address;
        ++shared->connections;
      } else if (from_address == 0) {
        shared->connections_per_address.erase(address);
      }
      session = std::make_shared<Session>(std::move(socket), shared, address, admitted);
      const auto id = shared->next_session_id++;
      session->set_id(id);
      shared->sessions.emplace(id, session);
    }
    session->start();
  }

  void wait_for_signal() {
    signals.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      const std::string_view name = signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal";
      if (stop_requested.exchange(true)) {
        // A second signal while draining: the operator wants out now.
        log_event(LogLevel::warn, "drain_aborted", {{"signal", name}});
        ioc.stop();
        return;
      }
      // Re-arm before draining: a drain with no open connection finishes at once and cancels this wait,
      // and a wait armed after that would keep the io_context alive for ever.
      log_event(LogLevel::info, "drain_started", {{"signal", name}});
      wait_for_signal();
      begin_drain();
    });
  }

  // On strand.
  void begin_drain() {
    beast::error_code ignored;
    acceptor.close(ignored);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(shared->mutex);
      shared->stopping = true;
      for (auto& [id, weak] : shared->sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) session->notify_shutdown();
    deadline.expires_after(kHardStopDeadline);
    deadline.async_wait([this](beast::error_code ec) {
      if (ec) return;  // cancelled: the drain finished in time
      log_event(LogLevel::warn, "shutdown_deadline_passed",
                {{"deadline_s", static_cast<std::int64_t>(kHardStopDeadline.count())}});
      ioc.stop();
    });
    bool drained;
    {
      std::lock_guard lock(shared->mutex);
      drained = shared->sessions.empty();
    }
    // `live` still holds the sessions here, so a drain completing meanwhile posts finish_drain itself.
    if (drained) finish_drain();
  }

  // On strand: nothing is left to serve; cancel what would keep io_context::run() from returning.
  void finish_drain() {
    beast::error_code ignored;
    deadline.cancel();
    signals.cancel(ignored);
    signals.clear(ignored);
  }

  std::shared_ptr<SharedState> shared;
  net::io_context ioc;
  net::strand<net::io_context::executor_type> strand;  // acceptor, signals and deadline live here
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer deadline;
  std::atomic<unsigned short> bound_port{0};
  std::atomic<bool> stop_requested{false};
  bool signals_added = false;  // listen() registered SIGINT/SIGTERM
};

HttpServer::HttpServer(HttpServerOptions options, Dispatch dispatch)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dispatch))) {}

HttpServer::~HttpServer() = default;

void HttpServer::listen() {
  impl_->listen();
}

unsigned short HttpServer::port() const {
  return impl_->bound_port;
}

void HttpServer::run() {
  impl_->run();
}

void HttpServer::stop() {
  impl_->stop();
}

bool HttpServer::draining() const {
  return impl_->shared->stopping;
}

std::size_t HttpServer::requests_in_progress() const {
  return impl_->shared->requests_in_progress;
}

}  // namespace dpost::server
