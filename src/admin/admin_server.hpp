// The operator's endpoint (SPEC §7), on its own listener and its own
// thread so that it answers even when the workers are saturated. JSON in,
// JSON out; errors are {"error": "..."} with a 4xx/5xx code; POSTs need
// the bearer token when one is configured.
#pragma once

#include "admin/admin_views.hpp"
#include "admin/reloader.hpp"
#include "net/beast.hpp"
#include "proxy/runtime.hpp"
#include "proxy/warmer.hpp"
#include "invalidation/invalidator.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace cachecar::admin {

namespace http = net::http;

class AdminServer {
 public:
  // `invalidator` applies purges to both tiers and `warmer` fetches for
  // POST /admin/warm; both run on `context` too.
  AdminServer(net::asio::io_context& context, proxy::Runtime& runtime, net::tcp::endpoint endpoint,
              invalidation::Invalidator& invalidator, proxy::Warmer& warmer, Reloader& reloader);

  // Binds and starts accepting; throws boost::system::system_error on failure.
  void start();
  void stop();

 private:
  net::asio::awaitable<void> accept_loop();
  net::asio::awaitable<void> run_session(net::tcp::socket socket);
  net::asio::awaitable<http::response<http::string_body>> dispatch(const net::Request& request);
  net::asio::awaitable<bool> origin_reachable();
  net::asio::awaitable<http::response<http::string_body>> publish_event(const net::Request& request);
  net::asio::awaitable<http::response<http::string_body>> warm(const net::Request& request);
  // Publishes an entity or tag purge on the bus; the number of receivers
  // (-1: Redis unavailable), or nullopt for a purge the fleet need not hear.
  net::asio::awaitable<std::optional<long long>> announce_purge(const nlohmann::json& body);

  net::asio::io_context& context_;
  proxy::Runtime& runtime_;
  net::tcp::endpoint endpoint_;
  net::tcp::acceptor acceptor_;
  invalidation::Invalidator& invalidator_;
  proxy::Warmer& warmer_;
  Reloader& reloader_;
};

}  // namespace cachecar::admin
