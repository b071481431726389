#include "app/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "admin/admin_server.hpp"
#include "admin/config_watcher.hpp"
#include "admin/reloader.hpp"
#include "app/cpu_quota.hpp"
#include "invalidation/bus.hpp"
#include "invalidation/invalidator.hpp"
#include "net/listener.hpp"
#include "proxy/request_handler.hpp"
#include "proxy/runtime.hpp"
#include "proxy/warmer.hpp"
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

}  // namespace

int run_server(config::Config config) {
  asio::io_context main_context{1};
  // Before anything answers: a signal that comes while the rest starts is
  // queued for the drain below, not left to its default (death by SIGINT).
  asio::signal_set signals(main_context, SIGINT, SIGTERM, SIGHUP);
  auto origin = resolve(main_context, config.origin.host, config.origin.port, "origin");
  auto listen = resolve(main_context, config.listen.host, config.listen.port, "listen");
  auto admin_listen =
      resolve(main_context, config.admin.listen.host, config.admin.listen.port, "admin.listen");
  std::optional<tcp::endpoint> probe_listen;
  if (config.health.listen) {
    probe_listen = resolve(main_context, config.health.listen->host, config.health.listen->port,
                           "health.listen");
    if (!probe_listen) return 1;
  }
  if (!origin || !listen || !admin_listen) return 1;

  std::size_t worker_count = static_cast<std::size_t>(config.workers);
  if (worker_count == 0) {
    auto automatic = automatic_worker_count();
    worker_count = automatic.workers;
    spdlog::info("workers: 0 means {} here: {}", worker_count, automatic.reason);
  }
  proxy::Runtime runtime(std::move(config), worker_count, *origin);
  const auto& cfg = runtime.config;

  std::vector<std::unique_ptr<Worker>> workers;
  net::SessionLimits limits{cfg.limits.max_header_bytes, cfg.limits.max_body_bytes,
                            cfg.limits.header_timeout};
  try {
    for (std::size_t i = 0; i < worker_count; ++i) {
      auto worker = std::make_unique<Worker>();
      worker->handler =
          std::make_unique<proxy::RequestHandler>(runtime, i, worker->context.get_executor());
      worker->listener =
          std::make_unique<net::Listener>(worker->context, *listen, limits, *worker->handler);
      worker->listener->start();
      if (auto* tier = worker->handler->redis_tier()) runtime.redis_tiers.push_back(tier);
      workers.push_back(std::move(worker));
    }
  } catch (const boost::system::system_error& e) {
    spdlog::error("cannot listen on {}: {}", cfg.listen.to_string(), e.code().message());
    return 1;
  }

  // The control thread: admin endpoint, invalidations and the bus, with a
  // Redis client of its own.
  asio::io_context admin_context{1};
  std::unique_ptr<store::RedisTier> control_redis;
  if (cfg.redis) {
    control_redis = std::make_unique<store::RedisTier>(admin_context.get_executor(), *cfg.redis,
                                                       cfg.memory.max_entry_bytes);
  }
  invalidation::Invalidator invalidator(runtime.memory, control_redis.get(), runtime.invalidations,
                                        cfg.environment);
  proxy::Warmer warmer(runtime, admin_context.get_executor());
  admin::Reloader reloader(runtime, warmer);
  admin::AdminServer admin_server(admin_context, runtime, invalidator, warmer, reloader);
  std::unique_ptr<admin::ConfigWatcher> watcher;
  if (cfg.source_path != "<embedded default>") {
    watcher = std::make_unique<admin::ConfigWatcher>(admin_context, cfg.source_path, reloader);
    watcher->start();
  }
  std::unique_ptr<invalidation::Bus> bus;
  if (cfg.redis) {
    invalidation::Bus::Options options;
    options.connection = store::connect_options(*cfg.redis);
    options.channel = cfg.invalidation.channel;
    options.stream = cfg.invalidation.stream;
    options.policy = {cfg.invalidation.owners, cfg.invalidation.secret, cfg.invalidation.max_skew};
    runtime.startup.add("bus");
    options.side_channels.push_back({store::fills_channel(), [&runtime](std::string_view key) {
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
    bus = std::make_unique<invalidation::Bus>(admin_context.get_executor(), options, invalidator,
                                              runtime.gap, runtime.bus);
    bus->start();
  }
  try {
    admin_server.start(*admin_listen, probe_listen);
  } catch (const boost::system::system_error& e) {
    spdlog::error("cannot listen on admin {} or health {}: {}", cfg.admin.listen.to_string(),
                  cfg.health.listen ? cfg.health.listen->to_string() : "off", e.code().message());
    return 1;
  }
  warmer.start();
  auto admin_guard = asio::make_work_guard(admin_context);
  std::thread admin_thread([&] { admin_context.run(); });

  // Workers report to the main context when their io_context runs dry,
  // which happens once their listener is closed and their sessions ended.
  std::size_t finished = 0;
  for (auto& worker : workers) {
    worker->thread = std::thread([&, w = worker.get()] {
      w->context.run();
      asio::post(main_context, [&] {
        if (++finished == workers.size()) main_context.stop();
      });
    });
  }
  runtime.listening = true;
  spdlog::info(
      "cachecar {} listening on {} (workers={}), origin {}, admin {}, probes {}, config {}",
      CACHECAR_VERSION, cfg.listen.to_string(), worker_count, cfg.origin.to_string(),
      cfg.admin.listen.to_string(), cfg.health.listen ? cfg.health.listen->to_string() : "off",
      cfg.source_path);

  asio::steady_timer drain_timer(main_context);
  asio::steady_timer grace_timer(main_context);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          asio::post(admin_context, [&] { reloader.reload("SIGHUP"); });
          signals.async_wait(on_signal);
          return;
        }
        if (runtime.draining.exchange(true)) return;
        spdlog::info("signal {}: draining for {} ms (readyz is 503), then stopping", signal,
                     cfg.drain_delay.count());
        drain_timer.expires_after(cfg.drain_delay);
        drain_timer.async_wait([&](const boost::system::error_code&) {
          runtime.listening = false;
          for (auto& worker : workers) {
            asio::post(worker->context, [w = worker.get()] { w->listener->begin_drain(); });
          }
          grace_timer.expires_after(cfg.shutdown_grace);
          grace_timer.async_wait([&](const boost::system::error_code& timer_ec) {
            if (timer_ec) return;
            spdlog::warn("shutdown_grace ({} ms) is over: abandoning requests still in flight",
                         cfg.shutdown_grace.count());
            for (auto& worker : workers) worker->context.stop();
          });
        });
      };
  signals.async_wait(on_signal);
  main_context.run();

  for (auto& worker : workers) worker->thread.join();
  admin_guard.reset();
  asio::post(admin_context, [&] {
    admin_server.stop();
    if (watcher) watcher->stop();
    if (bus) bus->stop();
  });
  admin_context.stop();
  admin_thread.join();
  spdlog::info("cachecar stopped");
  return 0;
}

}  // namespace cachecar::app
