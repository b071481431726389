// The operator's endpoint (SPEC §7), on its own listener and its own
// thread so that it answers even when the workers are saturated. JSON in,
// JSON out; errors are {"error": "..."} with a 4xx/5xx code; with a token
// configured, every call but the three probes needs it. An optional second
// listener serves only the probes, for kubelet and Prometheus.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "admin/admin_views.hpp"
#include "invalidation/invalidator.hpp"
#include "net/beast.hpp"
#include "proxy/runtime.hpp"
#include "proxy/warmer.hpp"
#include "reload/reloader.hpp"

namespace cachecar::admin {

namespace http = net::http;

class AdminServer {
 public:
  // `invalidator` applies purges to both tiers and `warmer` fetches for
  // POST /admin/warm; both run on `context` too.
  AdminServer(net::asio::io_context& context, proxy::Runtime& runtime,
              invalidation::Invalidator& invalidator, proxy::Warmer& warmer,
              reload::Reloader& reloader);

  // Binds the admin listener and, when given, the probe listener (GET
  // /healthz, /readyz and /metrics only, never a token); throws
  // boost::system::system_error when either cannot bind.
  void start(const net::tcp::endpoint& admin, const std::optional<net::tcp::endpoint>& probes);
  void stop();

 private:
  using Response = http::response<http::string_body>;
  enum class Surface { admin, probes };
  using Handler = net::asio::awaitable<Response> (AdminServer::*)(const net::Request&);
  struct Endpoint {
    std::string_view path;
    bool prefix;  // the path starts with `path` (an id follows)
    http::verb method;
    bool probe;  // on the probe listener too, and never behind the token
    Handler handler;
  };
  static const std::vector<Endpoint>& endpoints();

  net::asio::awaitable<void> accept_loop(net::tcp::acceptor& acceptor, Surface surface);
  net::asio::awaitable<void> run_session(net::tcp::socket socket, Surface surface);
  net::asio::awaitable<Response> dispatch(const net::Request& request, Surface surface);
  bool authorized(const net::Request& request) const;
  net::asio::awaitable<bool> origin_reachable();

  net::asio::awaitable<Response> healthz(const net::Request& request);
  net::asio::awaitable<Response> readyz(const net::Request& request);
  net::asio::awaitable<Response> metrics(const net::Request& request);
  net::asio::awaitable<Response> status_page(const net::Request& request);
  net::asio::awaitable<Response> stats(const net::Request& request);
  net::asio::awaitable<Response> routes(const net::Request& request);
  net::asio::awaitable<Response> effective_config(const net::Request& request);
  net::asio::awaitable<Response> entry(const net::Request& request);
  net::asio::awaitable<Response> explain(const net::Request& request);
  net::asio::awaitable<Response> purge(const net::Request& request);
  net::asio::awaitable<Response> publish_event(const net::Request& request);
  net::asio::awaitable<Response> warm(const net::Request& request);
  net::asio::awaitable<Response> reload(const net::Request& request);
  // Publishes an entity or tag purge on the bus; the number of receivers
  // (-1: Redis unavailable), or nullopt for a purge the fleet need not hear.
  net::asio::awaitable<std::optional<long long>> announce_purge(const nlohmann::json& body);

  net::asio::io_context& context_;
  proxy::Runtime& runtime_;
  invalidation::Invalidator& invalidator_;
  proxy::Warmer& warmer_;
  reload::Reloader& reloader_;
  net::tcp::acceptor admin_acceptor_;
  net::tcp::acceptor probe_acceptor_;
};

}  // namespace cachecar::admin
