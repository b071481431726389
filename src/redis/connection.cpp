#include "redis/connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "redis/resp_codec.hpp"

namespace cachecar::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

// A command waiting for its reply. The waiter sleeps on `signal` until the
// reader fills `reply` (and cancels the timer) or the timeout fires.
struct PendingCommand {
  explicit PendingCommand(asio::any_io_executor ex) : signal(ex) {}
  asio::steady_timer signal;
  std::optional<Reply> reply;
  error_code error;
  bool done = false;

  void complete(std::optional<Reply> r, error_code ec) {
    reply = std::move(r);
    error = ec;
    done = true;
    signal.cancel();
  }
};

// Everything the read and write loops touch. They hold a shared_ptr to it,
// so it outlives the Connection handle until they have finished.
struct Connection::State {
  State(asio::any_io_executor ex, ConnectOptions opts) : executor(ex), options(std::move(opts)) {}

  asio::any_io_executor executor;
  ConnectOptions options;
  std::shared_ptr<Stream> stream;  // replaced on each connect; loops hold their own reference
  std::unique_ptr<ReplyParser> parser;
  std::deque<std::shared_ptr<PendingCommand>> pending;  // in the order written
  std::string outgoing;                                 // formatted, not yet written
  bool writing = false;
  bool is_connected = false;
  std::uint64_t generation = 0;  // bumped per connect, so old loops stand down

  void fail_all(error_code ec) {
    if (is_connected) {
      is_connected = false;
      stream->close();
    }
    outgoing.clear();
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& p : waiting) p->complete(std::nullopt, ec);
  }
};

namespace {

asio::awaitable<void> read_loop(std::shared_ptr<Connection::State> s, std::uint64_t generation) {
  auto stream = s->stream;
  std::array<char, 64 * 1024> buffer;
  while (s->is_connected && s->generation == generation) {
    auto [ec, n] = co_await stream->read_some(asio::buffer(buffer));
    if (s->generation != generation) co_return;
    if (ec) {
      s->fail_all(ec);
      co_return;
    }
    if (!s->parser->feed(buffer.data(), n)) {
      s->fail_all(asio::error::message_size);
      co_return;
    }
    bool failed = false;
    while (auto reply = s->parser->next(failed)) {
      if (s->pending.empty()) {  // a reply nobody asked for: the stream is out of step
        s->fail_all(asio::error::fault);
        co_return;
      }
      auto waiter = std::move(s->pending.front());
      s->pending.pop_front();
      waiter->complete(std::move(reply), {});
    }
    if (failed) {
      s->fail_all(asio::error::fault);
      co_return;
    }
  }
}

asio::awaitable<void> write_loop(std::shared_ptr<Connection::State> s, std::uint64_t generation) {
  auto stream = s->stream;
  std::string chunk;
  while (!s->outgoing.empty() && s->is_connected && s->generation == generation) {
    chunk.clear();
    chunk.swap(s->outgoing);
    auto [ec, n] = co_await stream->write(asio::buffer(chunk));
    if (s->generation != generation) co_return;
    if (ec) {
      s->fail_all(ec);
      break;
    }
  }
  s->writing = false;
}

// Sends the set-up commands and checks each reply before the loops start.
asio::awaitable<error_code> handshake(Connection::State& s) {
  std::string commands;
  int expected = 0;
  if (!s.options.password.empty()) {
    commands += s.options.user.empty()
                    ? format_command({"AUTH", s.options.password})
                    : format_command({"AUTH", s.options.user, s.options.password});
    ++expected;
  }
  if (s.options.database != 0) {
    std::string db = std::to_string(s.options.database);
    commands += format_command({"SELECT", db});
    ++expected;
  }
  if (expected == 0) co_return error_code{};
  s.stream->set_timeout(s.options.connect_timeout);
  auto [write_error, written] = co_await s.stream->write(asio::buffer(commands));
  if (write_error) co_return write_error;
  std::array<char, 4096> buffer;
  while (expected > 0) {
    auto [ec, n] = co_await s.stream->read_some(asio::buffer(buffer));
    if (ec) co_return ec;
    if (!s.parser->feed(buffer.data(), n)) co_return asio::error::fault;
    bool failed = false;
    while (auto reply = s.parser->next(failed)) {
      if (reply->is_error()) {
        co_return reply->text.rfind("WRONGPASS", 0) == 0 || reply->text.rfind("NOAUTH", 0) == 0
            ? asio::error::access_denied
            : asio::error::invalid_argument;
      }
      --expected;
    }
    if (failed) co_return asio::error::fault;
  }
  co_return error_code{};
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, ConnectOptions options)
    : state_(std::make_shared<State>(executor, std::move(options))) {}

Connection::~Connection() { close(); }

bool Connection::connected() const { return state_->is_connected; }

void Connection::close() {
  ++state_->generation;
  state_->fail_all(asio::error::operation_aborted);
}

asio::awaitable<error_code> Connection::connect() {
  auto s = state_;
  s->fail_all(asio::error::operation_aborted);
  std::uint64_t generation = ++s->generation;
  s->parser = std::make_unique<ReplyParser>();
  error_code open_error;
  auto stream = co_await open_stream(s->executor, s->options.endpoint, s->options.connect_timeout,
                                     open_error);
  if (open_error) co_return open_error;
  s->stream = std::move(stream);
  if (auto ec = co_await handshake(*s)) {
    s->stream->close();
    co_return ec;
  }
  s->stream->set_timeout(std::chrono::milliseconds(0));
  if (s->generation != generation) co_return asio::error::operation_aborted;
  s->is_connected = true;
  asio::co_spawn(s->executor, read_loop(s, generation), asio::detached);
  co_return error_code{};
}

asio::awaitable<std::optional<Reply>> Connection::execute(std::string command, error_code& ec) {
  auto s = state_;
  if (!s->is_connected) {
    ec = asio::error::not_connected;
    co_return std::nullopt;
  }
  auto waiter = std::make_shared<PendingCommand>(s->executor);
  s->pending.push_back(waiter);
  s->outgoing += command;
  if (!s->writing) {
    s->writing = true;
    asio::co_spawn(s->executor, write_loop(s, s->generation), asio::detached);
  }
  waiter->signal.expires_after(s->options.timeout);
  co_await waiter->signal.async_wait(use_tuple);
  if (!waiter->done) {
    // No reply in time: later replies could not be matched to their
    // commands any more, so the connection goes.
    s->fail_all(asio::error::timed_out);
  }
  ec = waiter->error;
  co_return std::move(waiter->reply);
}

}  // namespace cachecar::redis
