#include "admin/admin_views.hpp"

#include <algorithm>
#include <cctype>

#include "cache/cache_status.hpp"
#include "cache/canonical_form.hpp"
#include "cache/field_lines.hpp"
#include "cache/key_builder.hpp"
#include "config/units.hpp"
#include "invalidation/event.hpp"

namespace cachecar::admin {

using nlohmann::json;

namespace {

json store_stats(const store::StoreStats& s) {
  return {{"entries", s.entries}, {"bytes", s.bytes},
          {"hits", s.hits},       {"misses", s.misses},
          {"stores", s.stores},   {"evictions", s.evictions},
          {"errors", s.errors},   {"rejected_too_large", s.rejected_too_large}};
}

json status_counts(const metrics::Stats& stats, std::size_t slot) {
  json counts = json::object();
  for (std::size_t i = 0; i < cache::kCacheStatusCount; ++i) {
    auto status = static_cast<cache::CacheStatus>(i);
    counts[cache::to_string(status)] = stats.by_route(slot, static_cast<std::size_t>(status));
  }
  return counts;
}

}  // namespace

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

json route_counts(const proxy::Runtime& runtime) {
  json routes = json::object();
  auto current = runtime.routes();
  for (std::size_t i = 0; i < current->routes().size(); ++i)
    routes[current->routes()[i].name] = status_counts(runtime.stats, current->stats_slots[i]);
  return routes;
}

json origin_failure_counts(const metrics::Stats& stats) {
  json origin_failures = json::object();
  for (std::size_t i = 0; i < metrics::kOriginFailureCount; ++i) {
    auto failure = static_cast<metrics::OriginFailure>(i);
    origin_failures[metrics::to_string(failure)] = stats.origin_failures(failure);
  }
  return origin_failures;
}

json tier_stats(const proxy::Runtime& runtime) {
  json tiers = {{"memory", store_stats(runtime.memory.stats())}};
  if (!runtime.redis_tiers.empty()) {
    bool degraded = false;
    tiers["redis"] = store_stats(runtime.redis_totals(degraded));
    tiers["redis"]["degraded"] = degraded;
  }
  return tiers;
}

json refresh_stats(const metrics::RefreshCounters& f) {
  json refresh_outcomes = json::object();
  for (std::size_t i = 0; i < metrics::kRefreshOutcomeCount; ++i) {
    refresh_outcomes[metrics::to_string(static_cast<metrics::RefreshOutcome>(i))] =
        f.outcomes[i].load();
  }
  return {{"background", f.background.load()},
          {"outcomes", refresh_outcomes},
          {"early", f.early.load()},
          {"stale_while_revalidate", f.stale_while_revalidate.load()},
          {"revalidated", f.revalidated.load()},
          {"rebuild_waits", f.rebuild_waits.load()},
          {"rebuild_stale", f.rebuild_stale.load()},
          {"rebuild_rejected", f.rebuild_rejected.load()},
          {"write_refreshed", f.write_refreshed.load()},
          {"write_unacknowledged", f.write_unacknowledged.load()}};
}

json bus_stats(const proxy::Runtime& runtime) {
  const auto& b = runtime.bus;
  json rejected = json::object();
  for (std::size_t i = 0; i < invalidation::kRejectionCount; ++i) {
    rejected[invalidation::to_string(static_cast<invalidation::Rejection>(i))] =
        b.rejected[i].load();
  }
  return {{"enabled", runtime.gap.enabled()},
          {"subscribed", runtime.gap.enabled() && runtime.gap.subscribed()},
          {"received", b.received.load()},
          {"applied", b.applied.load()},
          {"rejected", rejected},
          {"subscriptions", b.subscriptions.load()},
          {"drops", b.drops.load()},
          {"stream_events", b.stream_events.load()},
          {"stream_ready", b.stream_ready.load()},
          {"last_lag_ms", b.last_lag_ms.load()}};
}

}  // namespace

json stats_view(const proxy::Runtime& runtime) {
  const auto& stats = runtime.stats;
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 runtime.started);
  auto c = runtime.fetch_locks.stats();
  json coalescing = {{"fetches", c.fetches},
                     {"collapsed", c.collapsed},
                     {"abandoned", c.abandoned},
                     {"passes", c.passes},
                     {"fleet_signals", runtime.fleet_fills.woken()}};
  return {{"uptime_seconds", uptime.count()},
          {"workers", runtime.workers},
          {"routes", route_counts(runtime)},
          {"unmatched", status_counts(stats, stats.unmatched_slot())},
          {"stored", stats.stored()},
          {"origin_failures", origin_failure_counts(stats)},
          {"tiers", tier_stats(runtime)},
          {"bus", bus_stats(runtime)},
          {"coalescing", coalescing},
          {"refreshes", refresh_stats(runtime.refreshes)}};
}

json routes_view(const proxy::Runtime& runtime) {
  json list = json::array();
  auto current = runtime.routes();
  for (const auto& r : current->routes()) {
    json route = {
        {"name", r.name},
        {"methods", r.methods.empty() ? json("*") : json(r.methods)},
        {"path", r.path.text()},
        {"mode", config::to_string(r.mode)},
        {"entity", r.key_entity()},
        {"version", r.version},
        {"ttl", r.ttl ? json(config::format_duration(*r.ttl)) : json(nullptr)},
        {"origin_cache_control",
         r.origin_cache_control == config::OriginCacheControl::respect ? "respect" : "ignore"},
        {"ttl_jitter", r.ttl_jitter},
        {"coalesce", r.coalesce},
        {"vary", r.vary},
        {"tags", r.tags}};
    route["query"] = r.query ? json(*r.query) : json("*");
    route["stale_while_revalidate"] = config::format_duration(r.stale_while_revalidate);
    route["stale_if_error"] = config::format_duration(r.stale_if_error);
    route["max_stale"] = r.max_stale ? json(config::format_duration(*r.max_stale)) : json(nullptr);
    route["early_refresh"] =
        r.early_refresh == config::EarlyRefresh::probabilistic ? "probabilistic" : "off";
    route["rebuild_rate_per_second"] = r.rebuild_rate ? json(*r.rebuild_rate) : json(nullptr);
    route["warm"] = r.warm;
    if (!r.tenant_header.empty()) route["tenant_header"] = r.tenant_header;
    if (!r.refreshes.empty()) {
      route["refreshes"] = r.refreshes;
      route["refresh_from"] =
          r.refresh_from == config::RefreshFrom::refetch ? "refetch" : "response";
      route["on_cache_error"] =
          r.on_cache_error == config::OnCacheError::invalidate ? "invalidate" : "ignore";
    }
    list.push_back(route);
  }
  return {{"routes", list}};
}

json config_view(const proxy::Runtime& runtime) {
  const auto& c = runtime.config;
  auto current = runtime.routes();
  const auto& log = current->config->log;  // reloadable, like the routes
  auto duration = [](config::Duration d) { return config::format_duration(d); };
  json view = {
      {"source", c.source_path},
      {"routes_generation", current->generation},
      {"listen", c.listen.to_string()},
      {"origin", c.origin.to_string()},
      {"environment", c.environment},
      {"workers", runtime.workers},
      {"shutdown_grace", duration(c.shutdown_grace)},
      {"drain_delay", duration(c.drain_delay)},
      {"log",
       {{"format", c.log.format == config::LogFormat::json ? "json" : "text"},
        {"level", log.level},
        {"access_sample", log.access_sample}}},
      {"limits",
       {{"max_header_bytes", c.limits.max_header_bytes},
        {"max_body_bytes", c.limits.max_body_bytes},
        {"header_timeout", duration(c.limits.header_timeout)},
        {"origin_timeout", duration(c.limits.origin_timeout)},
        {"origin_idle_timeout", duration(c.limits.origin_idle_timeout)}}},
      // Secrets appear only as whether they are set.
      {"admin",
       {{"listen", c.admin.listen.to_string()},
        {"token_env", c.admin.token_env},
        {"token", c.admin.token.empty() ? "<unset>" : "<redacted>"},
        {"disclose_keys", c.admin.disclose_keys}}},
      {"health", {{"listen", c.health.listen ? c.health.listen->to_string() : "off"}}},
      {"store",
       {{"memory",
         {{"max_bytes", c.memory.max_bytes}, {"max_entry_bytes", c.memory.max_entry_bytes}}}}},
      {"invalidation",
       {{"channel", c.invalidation.channel},
        {"owners", c.invalidation.owners},
        {"secret_env", c.invalidation.secret_env},
        {"secret", c.invalidation.secret.empty() ? "<unset>" : "<redacted>"},
        {"stream", c.invalidation.stream},
        {"max_skew", duration(c.invalidation.max_skew)}}},
      {"routes", routes_view(runtime)["routes"]}};
  if (c.redis) {
    const char* compress = c.redis->compress == config::Compression::zstd  ? "zstd"
                           : c.redis->compress == config::Compression::lz4 ? "lz4"
                                                                           : "none";
    view["store"]["redis"] = {{"url", c.redis->url.redacted()},
                              {"timeout", duration(c.redis->timeout)},
                              {"pool", c.redis->pool},
                              {"lease_poll", duration(c.redis->lease_poll)},
                              {"compress", compress},
                              {"tls_ca_file", c.redis->tls_ca_file},
                              {"tls_verify", c.redis->tls_verify}};
  }
  return view;
}

json explain_view(const proxy::Runtime& runtime, std::string_view method, std::string_view target,
                  const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view{};
  config::RouteValues values;
  auto routes = runtime.routes();
  const config::RoutePolicy* route = routes->table.match(method, path, values);
  json out = {{"method", method}, {"path", target}};
  if (route == nullptr) {
    out["route"] = nullptr;
    out["cached"] = false;
    out["reason"] = "no route matches: the request is forwarded untouched (bypass)";
    return out;
  }
  out["route"] = route->name;
  out["mode"] = config::to_string(route->mode);
  if (route->mode == config::RouteMode::bypass || route->mode == config::RouteMode::write_through) {
    out["cached"] = false;
    out["reason"] =
        std::string("route mode ") + config::to_string(route->mode) + " does not serve from cache";
    return out;
  }
  if (method != "GET" && method != "HEAD") {
    out["cached"] = false;
    out["reason"] = "only GET and HEAD are served from cache";
    return out;
  }
  cache::FieldLines source(headers);
  cache::KeyScratch scratch;
  std::vector<cache::KeySegmentOrigin> segments;
  const auto refusal = cache::key_canonical_request(
      *route, runtime.config.environment, routes->config->forwarding, values, query, source,
      cache::forwarded_authority(source, false), scratch, &segments);
  if (refusal == cache::Refusal::missing_tenant) {
    out["cached"] = false;
    out["reason"] =
        "the route is tenant-scoped and the request has no " + route->tenant_header + " header";
    return out;
  }
  if (refusal != cache::Refusal::none) {
    out["cached"] = false;
    out["reason"] = std::string("the request cannot be put in canonical form (") +
                    cache::to_string(refusal) + "): it is forwarded as sent and not cached";
    return out;
  }
  out["forwarded_target"] = scratch.target;
  out["cached"] = true;
  out["key"] = scratch.key;
  json parts = json::array();
  for (const auto& s : segments)
    parts.push_back({{"segment", s.name}, {"value", s.value}, {"origin", s.origin}});
  out["segments"] = parts;
  auto entry = runtime.memory.peek(scratch.key);
  out["in_memory"] = entry != nullptr && entry->fingerprint == scratch.fingerprint;
  return out;
}

std::optional<invalidation::Scope> parse_purge(const json& body, std::string_view environment,
                                               std::string& error) {
  auto text = [&](const char* name) -> std::optional<std::string> {
    if (!body.contains(name) || !body[name].is_string()) return std::nullopt;
    return body[name].get<std::string>();
  };
  if (!body.is_object()) {
    error = "expected a JSON object: {\"key\"}, {\"prefix\"}, {\"tag\"} or {\"entity\", \"id\"}";
    return std::nullopt;
  }
  invalidation::Scope scope;
  if (auto key = text("key")) {
    scope.key = *key;
  } else if (auto prefix = text("prefix")) {
    if (prefix->empty()) {
      error = "an empty prefix would purge everything; refused";
      return std::nullopt;
    }
    scope.prefix = *prefix;
  } else if (auto tag = text("tag")) {
    scope.tags.push_back(*tag);
  } else if (auto entity = text("entity")) {
    // An id or tenant of the wrong type must not widen the purge to the
    // whole entity: a number is taken as its decimal text, anything else refused.
    auto id_or_tenant = [&](const char* name, std::optional<std::string>& out) {
      if (!body.contains(name) || body[name].is_null()) return true;
      if (body[name].is_string())
        out = body[name].get<std::string>();
      else if (body[name].is_number_integer())
        out = std::to_string(body[name].get<long long>());
      else
        error = std::string("\"") + name + "\" must be a string or an integer";
      return error.empty();
    };
    std::optional<std::string> id, tenant;
    if (!id_or_tenant("id", id) || !id_or_tenant("tenant", tenant)) return std::nullopt;
    scope = invalidation::entity_scope(environment, *entity, id, tenant);
  } else {
    error = "expected one of \"key\", \"prefix\", \"tag\" or \"entity\" (string values)";
    return std::nullopt;
  }
  return scope;
}

namespace {

json describe_entry(const store::Entry& e, store::Clock::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  auto age = seconds(e.initial_age_seconds) + duration_cast<seconds>(now - e.stored_at);
  json d = {{"stored_at", invalidation::format_rfc3339(e.stored_at)},
            {"expires_at", invalidation::format_rfc3339(e.expires_at)},
            {"age_seconds", age.count()},
            {"ttl_seconds", std::chrono::floor<seconds>(e.expires_at - now).count()},
            {"tags", e.tags}};
  if (e.is_vary_marker()) {
    d["vary_marker"] = e.vary;
    return d;
  }
  d["status"] = e.status;
  d["stale_while_revalidate_seconds"] = e.stale_while_revalidate_seconds;
  d["stale_if_error_seconds"] = e.stale_if_error_seconds;
  d["must_revalidate"] = e.must_revalidate;
  d["fill_ms"] = e.rebuild_ms;
  d["generation"] = e.generation;
  d["head_bytes"] = e.head.size();
  d["body_bytes"] = e.body.size();
  return d;
}

}  // namespace

std::optional<json> entry_view(const std::string& key, const store::EntryPtr& in_memory,
                               const store::EntryPtr& in_redis, store::Clock::time_point now) {
  if (!in_memory && !in_redis) return std::nullopt;
  json view = {{"key", key}, {"tiers", json::array()}};
  if (in_memory) {
    view["tiers"].push_back("memory");
    view["memory"] = describe_entry(*in_memory, now);
  }
  if (in_redis) {
    view["tiers"].push_back("redis");
    view["redis"] = describe_entry(*in_redis, now);
  }
  return view;
}

}  // namespace cachecar::admin
