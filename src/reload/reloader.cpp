#include "reload/reloader.hpp"

#include <spdlog/spdlog.h>

#include "config/config_loader.hpp"
#include "logging/event_log.hpp"

namespace cachecar::reload {

std::vector<std::string> settings_needing_restart(const config::Config& a,
                                                  const config::Config& b) {
  std::vector<std::string> changed;
  auto note = [&](bool differs, const char* name) {
    if (differs) changed.emplace_back(name);
  };
  note(a.listen.to_string() != b.listen.to_string(), "listen");
  note(a.origin.to_string() != b.origin.to_string(), "origin");
  note(a.environment != b.environment, "environment");
  note(a.workers != b.workers, "workers");
  note(a.shutdown_grace != b.shutdown_grace, "shutdown_grace");
  note(a.drain_delay != b.drain_delay, "drain_delay");
  note(a.log.format != b.log.format, "log.format");
  note(a.limits.max_header_bytes != b.limits.max_header_bytes ||
           a.limits.max_body_bytes != b.limits.max_body_bytes ||
           a.limits.header_timeout != b.limits.header_timeout ||
           a.limits.origin_timeout != b.limits.origin_timeout ||
           a.limits.origin_idle_timeout != b.limits.origin_idle_timeout,
       "limits");
  note(a.admin.listen.to_string() != b.admin.listen.to_string(), "admin.listen");
  note(a.admin.token != b.admin.token, "admin.token");
  auto health = [](const config::Config& c) {
    return c.health.listen ? c.health.listen->to_string() : "off";
  };
  note(health(a) != health(b), "health.listen");
  note(a.admin.disclose_keys != b.admin.disclose_keys, "admin.disclose_keys");
  note(a.memory.max_bytes != b.memory.max_bytes ||
           a.memory.max_entry_bytes != b.memory.max_entry_bytes,
       "store.memory");
  note(a.redis.has_value() != b.redis.has_value() ||
           (a.redis && (a.redis->url.redacted() != b.redis->url.redacted() ||
                        a.redis->url.password != b.redis->url.password ||
                        a.redis->timeout != b.redis->timeout || a.redis->pool != b.redis->pool ||
                        a.redis->compress != b.redis->compress ||
                        a.redis->tls_ca_file != b.redis->tls_ca_file ||
                        a.redis->tls_verify != b.redis->tls_verify)),
       "store.redis");
  note(a.invalidation.channel != b.invalidation.channel ||
           a.invalidation.owners != b.invalidation.owners ||
           a.invalidation.secret != b.invalidation.secret ||
           a.invalidation.stream != b.invalidation.stream ||
           a.invalidation.max_skew != b.invalidation.max_skew,
       "invalidation");
  return changed;
}

ReloadOutcome Reloader::reload(std::string_view trigger) {
  ReloadOutcome outcome;
  const auto& running = runtime_.config;
  const std::string& source = running.source_path;
  config::LoadResult loaded =
      source == "<embedded default>"
          ? config::load_config_text(config::embedded_default_config(), source, config::process_env)
          : config::load_config_file(source, config::process_env);
  auto current = runtime_.routes();
  outcome.generation = current->generation;
  if (!loaded.config) {
    for (const auto& diagnostic : loaded.errors)
      outcome.errors.push_back(config::format_diagnostic(source, diagnostic));
    runtime_.reloads_failed.fetch_add(1, std::memory_order_relaxed);
    logging::event(spdlog::level::err, "reload-failed",
                   "the config has problems; the running config stays",
                   logging::Fields()
                       .add("trigger", trigger)
                       .add("file", source)
                       .add("problems", outcome.errors.size())
                       .add("first", outcome.errors.front()));
    return outcome;
  }
  auto next_config = std::make_shared<const config::Config>(std::move(*loaded.config));
  std::string error;
  auto next = runtime_.next_routes(next_config, error);
  if (!next) {
    outcome.errors.push_back(source + ": " + error);
    runtime_.reloads_failed.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("reload ({}): {}; the running config stays", trigger, error);
    return outcome;
  }
  outcome.restart_required = settings_needing_restart(running, *next_config);
  runtime_.publish(next);
  spdlog::default_logger()->set_level(spdlog::level::from_str(next_config->log.level));
  warmer_.reloaded();
  runtime_.reloads_ok.fetch_add(1, std::memory_order_relaxed);
  outcome.ok = true;
  outcome.generation = next->generation;
  outcome.routes = next->routes().size();
  logging::event(spdlog::level::info, "reloaded", "new routes in force",
                 logging::Fields()
                     .add("trigger", trigger)
                     .add("file", source)
                     .add("routes", outcome.routes)
                     .add("generation", outcome.generation));
  for (const auto& name : outcome.restart_required) {
    logging::event(
        spdlog::level::warn, "restart-required",
        "a setting changed that takes effect only after a restart",
        logging::Fields().add("trigger", trigger).add("setting", name).add("file", source));
  }
  return outcome;
}

}  // namespace cachecar::reload
