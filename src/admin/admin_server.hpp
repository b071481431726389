// The operator's endpoint (SPEC §7), on its own listener and its own
// thread so that it answers even when the workers are saturated. JSON in,
// JSON out; errors are {"error": "..."} with a 4xx/5xx code; POSTs need
// the bearer token when one is configured.
#pragma once

#include "admin/admin_views.hpp"
#include "net/beast.hpp"
#include "proxy/runtime.hpp"
#include "store/redis_tier.hpp"

#include <memory>

namespace cachecar::admin {

namespace http = net::http;

class AdminServer {
 public:
  AdminServer(net::asio::io_context& context, proxy::Runtime& runtime, net::tcp::endpoint endpoint);

  // Binds and starts accepting; throws boost::system::system_error on failure.
  void start();
  void stop();

 private:
  net::asio::awaitable<void> accept_loop();
  net::asio::awaitable<void> run_session(net::tcp::socket socket);
  net::asio::awaitable<http::response<http::string_body>> dispatch(const net::Request& request);
  net::asio::awaitable<bool> origin_reachable();
  net::asio::awaitable<std::uint64_t> purge_redis(const PurgeTarget& target);

  net::asio::io_context& context_;
  proxy::Runtime& runtime_;
  net::tcp::endpoint endpoint_;
  net::tcp::acceptor acceptor_;
  std::unique_ptr<store::RedisTier> redis_;  // purges reach the shared tier too
};

}  // namespace cachecar::admin
