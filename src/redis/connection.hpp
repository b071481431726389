// One connection to Redis on one executor, pipelined: many coroutines of
// that executor may call execute() at once; commands are written in call
// order and replies matched in the same order. Every command has a timeout;
// a timeout or an I/O error closes the connection and fails every command in
// flight (their replies could no longer be matched). Not thread-safe: use it
// only from its executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "redis/reply.hpp"
#include "redis/stream.hpp"

namespace cachecar::redis {

struct ConnectOptions {
  Endpoint endpoint;
  std::string user;
  std::string password;
  int database = 0;
  std::chrono::milliseconds timeout{50};  // per command
  std::chrono::milliseconds connect_timeout{1000};
};

class Connection {
 public:
  Connection(boost::asio::any_io_executor executor, ConnectOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connect (TCP, TLS or unix socket), AUTH and SELECT. On failure the error says why (an error
  // reply from AUTH/SELECT becomes access_denied / invalid_argument).
  boost::asio::awaitable<boost::system::error_code> connect();
  bool connected() const;
  void close();

  // `command` is already RESP-formatted (format_command). nullopt with `ec`
  // set on timeout (timed_out), I/O failure or when not connected.
  boost::asio::awaitable<std::optional<Reply>> execute(std::string command,
                                                       boost::system::error_code& ec);

  struct State;  // opaque; shared with the read and write loops

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cachecar::redis
