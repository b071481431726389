#include "app/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "admin/admin_server.hpp"
#include "app/cpu_quota.hpp"
#include "fleet/fleet_link.hpp"
#include "invalidation/bus.hpp"
#include "invalidation/invalidator.hpp"
#include "net/listener.hpp"
#include "proxy/request_handler.hpp"
#include "proxy/runtime.hpp"
#include "proxy/warmer.hpp"
#include "reload/config_watcher.hpp"
#include "reload/reloader.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::app {

namespace asio = net::asio;
using net::tcp;

namespace {

std::optional<tcp::endpoint> resolve(asio::io_context& context, const std::string& host,
                                     std::uint16_t port, const char* what) {
  boost::system::error_code ec;
  tcp::resolver resolver(context);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    spdlog::error("cannot resolve {} address {}:{}: {}", what, host, port,
                  ec ? ec.message() : "no address");
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

struct Worker {
  asio::io_context context{1};
  std::unique_ptr<proxy::RequestHandler> handler;
  std::unique_ptr<net::Listener> listener;
  std::thread thread;
};
using Workers = std::vector<std::unique_ptr<Worker>>;

struct Endpoints {
  tcp::endpoint origin, listen, admin;
  std::optional<tcp::endpoint> probes;
};

std::optional<Endpoints> resolve_endpoints(asio::io_context& context,
                                           const config::Config& config) {
  auto origin = resolve(context, config.origin.host, config.origin.port, "origin");
  auto listen = resolve(context, config.listen.host, config.listen.port, "listen");
  auto admin = resolve(context, config.admin.listen.host, config.admin.listen.port, "admin.listen");
  if (!origin || !listen || !admin) return std::nullopt;
  Endpoints endpoints{*origin, *listen, *admin, std::nullopt};
  if (const auto& health = config.health.listen) {
    endpoints.probes = resolve(context, health->host, health->port, "health.listen");
    if (!endpoints.probes) return std::nullopt;
  }
  return endpoints;
}

std::size_t worker_count_for(int configured) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  auto automatic = automatic_worker_count();
  spdlog::info("workers: 0 means {} here: {}", automatic.workers, automatic.reason);
  return automatic.workers;
}

// One io_context, handler and listener per worker; false (logged) when the
// listen address cannot be bound.
bool start_workers(proxy::Runtime& runtime, const tcp::endpoint& listen, Workers& workers) {
  const auto& limits = runtime.config.limits;
  net::SessionLimits session{limits.max_header_bytes, limits.max_body_bytes, limits.header_timeout};
  try {
    for (std::size_t i = 0; i < runtime.workers; ++i) {
      auto worker = std::make_unique<Worker>();
      worker->handler =
          std::make_unique<proxy::RequestHandler>(runtime, i, worker->context.get_executor());
      worker->listener =
          std::make_unique<net::Listener>(worker->context, listen, session, *worker->handler);
      worker->listener->start();
      if (auto* tier = worker->handler->redis_tier()) runtime.redis_tiers.push_back(tier);
      workers.push_back(std::move(worker));
    }
  } catch (const boost::system::system_error& e) {
    spdlog::error("cannot listen on {}: {}", runtime.config.listen.to_string(), e.code().message());
    return false;
  }
  return true;
}

std::unique_ptr<store::RedisTier> control_redis(asio::io_context& context,
                                                const config::Config& cfg) {
  if (!cfg.redis) return nullptr;
  return std::make_unique<store::RedisTier>(context.get_executor(), *cfg.redis,
                                            cfg.memory.max_entry_bytes);
}

// The control thread: admin endpoint (and probes), reload, warming,
// invalidations and the bus, with a Redis client of its own.
class ControlPlane {
 public:
  explicit ControlPlane(proxy::Runtime& runtime)
      : runtime_(runtime),
        redis_(control_redis(context_, runtime.config)),
        invalidator_(runtime.memory, redis_.get(), runtime.invalidations,
                     runtime.config.environment),
        warmer_(runtime, context_.get_executor()),
        reloader_(runtime, warmer_),
        admin_server_(context_, runtime, invalidator_, warmer_, reloader_) {}

  // Starts everything and the thread; false (logged) when the admin or
  // probe address cannot be bound.
  bool start(const Endpoints& endpoints) {
    const auto& cfg = runtime_.config;
    if (cfg.source_path != "<embedded default>") {
      watcher_ = std::make_unique<reload::ConfigWatcher>(context_, cfg.source_path, reloader_);
      watcher_->start();
    }
    if (cfg.redis) start_bus();
    try {
      admin_server_.start(endpoints.admin, endpoints.probes);
    } catch (const boost::system::system_error& e) {
      spdlog::error("cannot listen on admin {} or health {}: {}", cfg.admin.listen.to_string(),
                    cfg.health.listen ? cfg.health.listen->to_string() : "off", e.code().message());
      return false;
    }
    warmer_.start();
    thread_ = std::thread([this] { context_.run(); });
    return true;
  }

  void reload(const char* trigger) {
    asio::post(context_, [this, trigger] { reloader_.reload(trigger); });
  }

  void stop() {
    guard_.reset();
    asio::post(context_, [this] {
      admin_server_.stop();
      if (watcher_) watcher_->stop();
      if (bus_) bus_->stop();
    });
    context_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void start_bus() {
    auto& runtime = runtime_;
    const auto& cfg = runtime.config;
    invalidation::Bus::Options options;
    options.connection = store::connect_options(*cfg.redis);
    options.channel = cfg.invalidation.channel;
    options.stream = cfg.invalidation.stream;
    options.policy = {cfg.invalidation.owners, cfg.invalidation.secret, cfg.invalidation.max_skew};
    runtime.startup.add("bus");
    options.side_channels.push_back({fleet::fills_channel(), [&runtime](std::string_view key) {
                                       runtime.fleet_fills.notify(key);
                                     }});
    options.side_channels.push_back(
        {runtime.acks.channel(), [&runtime](std::string_view id) { runtime.acks.deliver(id); }});
    options.on_first_attempt = [&runtime] { runtime.startup.done("bus"); };
    if (!cfg.invalidation.secret_env.empty() && cfg.invalidation.secret.empty()) {
      spdlog::warn(
          "invalidation.secret_env names {}, which is not set: events are accepted unsigned",
          cfg.invalidation.secret_env);
    }
    // With a stream, missed events are replayed: no gap to cover, but the
    // subscription is still tracked (readyz, metrics).
    runtime.gap.enable(std::chrono::system_clock::now(),
                       /*apply_rule=*/cfg.invalidation.stream.empty());
    bus_ = std::make_unique<invalidation::Bus>(context_.get_executor(), options, invalidator_,
                                               runtime.gap, runtime.bus);
    bus_->start();
  }

  proxy::Runtime& runtime_;
  asio::io_context context_{1};
  std::unique_ptr<store::RedisTier> redis_;
  invalidation::Invalidator invalidator_;
  proxy::Warmer warmer_;
  reload::Reloader reloader_;
  admin::AdminServer admin_server_;
  std::unique_ptr<reload::ConfigWatcher> watcher_;
  std::unique_ptr<invalidation::Bus> bus_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ =
      asio::make_work_guard(context_);
  std::thread thread_;
};

// SIGHUP reloads; SIGTERM/SIGINT drain: readyz 503 for drain_delay, then
// the listeners close and requests in flight get shutdown_grace, after
// which the workers are stopped.
class Shutdown {
 public:
  Shutdown(asio::io_context& main_context, asio::signal_set& signals, proxy::Runtime& runtime,
           Workers& workers, ControlPlane& control)
      : signals_(signals),
        runtime_(runtime),
        workers_(workers),
        control_(control),
        drain_timer_(main_context),
        grace_timer_(main_context) {}

  void listen() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (!ec) on_signal(signal);
    });
  }

 private:
  void on_signal(int signal) {
    if (signal == SIGHUP) {
      control_.reload("SIGHUP");
      listen();
      return;
    }
    if (runtime_.draining.exchange(true)) return;
    const auto& cfg = runtime_.config;
    spdlog::info("signal {}: draining for {} ms (readyz is 503), then stopping", signal,
                 cfg.drain_delay.count());
    drain_timer_.expires_after(cfg.drain_delay);
    drain_timer_.async_wait([this](const boost::system::error_code&) { close_listeners(); });
  }

  void close_listeners() {
    runtime_.listening = false;
    for (auto& worker : workers_) {
      asio::post(worker->context, [w = worker.get()] { w->listener->begin_drain(); });
    }
    grace_timer_.expires_after(runtime_.config.shutdown_grace);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("shutdown_grace ({} ms) is over: abandoning requests still in flight",
                   runtime_.config.shutdown_grace.count());
      for (auto& worker : workers_) worker->context.stop();
    });
  }

  asio::signal_set& signals_;
  proxy::Runtime& runtime_;
  Workers& workers_;
  ControlPlane& control_;
  asio::steady_timer drain_timer_;
  asio::steady_timer grace_timer_;
};

// Each worker's thread; the last one whose io_context runs dry (its
// listener closed, its sessions ended) stops `main_context`.
void run_workers(Workers& workers, asio::io_context& main_context, std::size_t& finished) {
  for (auto& worker : workers) {
    worker->thread = std::thread([&, w = worker.get()] {
      w->context.run();
      asio::post(main_context, [&] {
        if (++finished == workers.size()) main_context.stop();
      });
    });
  }
}

}  // namespace

int run_server(config::Config config) {
  asio::io_context main_context{1};
  // Before anything answers: a signal that comes while the rest starts is
  // queued for the drain below, not left to its default (death by SIGINT).
  asio::signal_set signals(main_context, SIGINT, SIGTERM, SIGHUP);
  auto endpoints = resolve_endpoints(main_context, config);
  if (!endpoints) return 1;
  const std::size_t worker_count = worker_count_for(config.workers);
  proxy::Runtime runtime(std::move(config), worker_count, endpoints->origin);
  const auto& cfg = runtime.config;

  Workers workers;
  if (!start_workers(runtime, endpoints->listen, workers)) return 1;
  ControlPlane control(runtime);
  if (!control.start(*endpoints)) return 1;
  std::size_t finished = 0;
  run_workers(workers, main_context, finished);
  runtime.listening = true;
  spdlog::info(
      "cachecar {} listening on {} (workers={}), origin {}, admin {}, probes {}, config {}",
      CACHECAR_VERSION, cfg.listen.to_string(), worker_count, cfg.origin.to_string(),
      cfg.admin.listen.to_string(), cfg.health.listen ? cfg.health.listen->to_string() : "off",
      cfg.source_path);

  Shutdown shutdown(main_context, signals, runtime, workers, control);
  shutdown.listen();
  main_context.run();

  for (auto& worker : workers) worker->thread.join();
  control.stop();
  spdlog::info("cachecar stopped");
  return 0;
}

}  // namespace cachecar::app
