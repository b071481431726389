#include "admin/metrics.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "cache/cache_status.hpp"
#include "net/accept_pacer.hpp"

namespace cachecar::admin {
namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Writes one family at a time: HELP and TYPE, then its samples.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = "cachecar_";
    name_ += name;
    out_ += "# HELP " + name_ + " ";
    out_ += help;
    out_ += "\n# TYPE " + name_ + " ";
    out_ += type;
    out_ += '\n';
  }
  void sample(std::uint64_t value, Labels labels = {}) { sample(std::to_string(value), labels); }
  void sample(const std::string& value, Labels labels) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, label_value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label;
        out_ += "=\"";
        escape(label_value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  // The family's _bucket (cumulative, with le), _sum and _count samples;
  // `label` (optional) goes on each.
  void histogram(const metrics::LatencySnapshot& s, std::string_view label = {},
                 std::string_view value = {}) {
    const std::string base = name_;
    std::string extra;
    if (!label.empty()) extra = std::string(label) + "=\"" + std::string(value) + "\",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < s.buckets.size(); ++i) {
      cumulative += s.buckets[i];
      char le[32];
      if (i < metrics::kLatencyBounds.size()) {
        std::snprintf(le, sizeof le, "%g", metrics::kLatencyBounds[i]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      out_ += base + "_bucket{" + extra + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.9g", s.sum_seconds);
    const std::string labels = extra.empty() ? "" : "{" + extra.substr(0, extra.size() - 1) + "}";
    out_ += base + "_sum" + labels + " " + sum + "\n";
    out_ += base + "_count" + labels + " " + std::to_string(s.count) + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  void escape(std::string_view value) {
    for (char c : value) {
      if (c == '\\')
        out_ += "\\\\";
      else if (c == '"')
        out_ += "\\\"";
      else if (c == '\n')
        out_ += "\\n";
      else
        out_ += c;
    }
  }

  std::string out_;
  std::string name_;
};

void store_families(Exposition& m, std::string_view tier, const store::StoreStats& s) {
  const std::string prefix(tier);
  m.family(prefix + "_entries", "gauge", "Entries held in the " + prefix + " tier.");
  m.sample(s.entries);
  m.family(prefix + "_bytes", "gauge",
           "Bytes held in the " + prefix + " tier (payload and overhead).");
  m.sample(s.bytes);
  m.family(prefix + "_lookups_total", "counter", "Lookups in the " + prefix + " tier by result.");
  m.sample(s.hits, {{"result", "hit"}});
  m.sample(s.misses, {{"result", "miss"}});
  m.family(prefix + "_stores_total", "counter", "Entries written to the " + prefix + " tier.");
  m.sample(s.stores);
  m.family(prefix + "_evictions_total", "counter",
           "Entries the " + prefix + " tier evicted for room.");
  m.sample(s.evictions);
  m.family(prefix + "_rejected_total", "counter", "Entries too large for the " + prefix + " tier.");
  m.sample(s.rejected_too_large);
  m.family(prefix + "_errors_total", "counter", "Failed " + prefix + " tier operations.");
  m.sample(s.errors);
}

void process_families(Exposition& m, const proxy::Runtime& runtime) {
  m.family("build_info", "gauge", "Always 1; the version is a label.");
  m.sample("1", {{"version", CACHECAR_VERSION}});
  m.family("uptime_seconds", "gauge", "Seconds since start.");
  m.sample(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now() - runtime.started)
                                          .count()));
  m.family("accept_failures_total", "counter",
           "Connections the listeners could not accept (out of descriptors or memory); each pauses "
           "accepts.");
  m.sample(net::AcceptPacer::failures());
}

void request_families(Exposition& m, const proxy::Runtime& runtime,
                      const proxy::RouteSet& current) {
  const auto& stats = runtime.stats;
  m.family("requests_total", "counter",
           "Requests by route and cache status (RFC 9211 hit or fwd reason).");
  auto by_route = [&](std::string_view route, std::size_t slot) {
    for (std::size_t i = 0; i < cache::kCacheStatusCount; ++i) {
      auto status = static_cast<cache::CacheStatus>(i);
      m.sample(stats.by_route(slot, i),
               {{"route", route}, {"cache_status", cache::to_string(status)}});
    }
  };
  for (std::size_t i = 0; i < current.routes().size(); ++i)
    by_route(current.routes()[i].name, current.stats_slots[i]);
  by_route("(unmatched)", stats.unmatched_slot());
  m.family("responses_stored_total", "counter", "Origin responses stored.");
  m.sample(stats.stored());
  m.family("origin_failures_total", "counter", "Origin exchanges that failed, by reason.");
  for (std::size_t i = 0; i < metrics::kOriginFailureCount; ++i) {
    auto failure = static_cast<metrics::OriginFailure>(i);
    m.sample(stats.origin_failures(failure), {{"reason", metrics::to_string(failure)}});
  }
}

void tier_families(Exposition& m, const proxy::Runtime& runtime) {
  store_families(m, "memory", runtime.memory.stats());
  if (runtime.redis_tiers.empty()) return;
  bool degraded = false;
  store_families(m, "redis", runtime.redis_totals(degraded));
  m.family("redis_up", "gauge", "1 while Redis answers; 0 while the circuit breaker is open.");
  m.sample(degraded ? 0 : 1);
}

void bus_families(Exposition& m, const proxy::Runtime& runtime) {
  const auto& b = runtime.bus;
  m.family("bus_subscribed", "gauge", "1 while the invalidation bus is subscribed.");
  m.sample(runtime.gap.enabled() && runtime.gap.subscribed() ? 1 : 0);
  m.family("bus_events_total", "counter", "Invalidation events by outcome.");
  m.sample(b.received.load(), {{"outcome", "received"}});
  m.sample(b.applied.load(), {{"outcome", "applied"}});
  m.family("bus_events_rejected_total", "counter", "Invalidation events rejected, by reason.");
  for (std::size_t i = 0; i < invalidation::kRejectionCount; ++i) {
    m.sample(b.rejected[i].load(),
             {{"reason", invalidation::to_string(static_cast<invalidation::Rejection>(i))}});
  }
  m.family("bus_drops_total", "counter", "Times the bus subscription was lost.");
  m.sample(b.drops.load());
}

void coalescing_families(Exposition& m, const proxy::Runtime& runtime) {
  auto c = runtime.fetch_locks.stats();
  m.family("origin_fetches_total", "counter",
           "Fetch permits handed out (one origin fetch per key at a time).");
  m.sample(c.fetches);
  m.family("coalesced_requests_total", "counter", "Requests served by another request's fetch.");
  m.sample(c.collapsed);
  m.family("fetches_abandoned_total", "counter",
           "Fetches that ended without a result; their waiters re-elected.");
  m.sample(c.abandoned);
  m.family("fetch_passes_total", "counter",
           "Requests that skipped the queue for a key recently uncacheable.");
  m.sample(c.passes);
  m.family("fleet_signals_total", "counter",
           "Lease losers woken by the holder's release announcement.");
  m.sample(runtime.fleet_fills.woken());
}

void refresh_families(Exposition& m, const proxy::Runtime& runtime) {
  const auto& f = runtime.refreshes;
  m.family("background_refreshes_total", "counter", "Background refreshes, by outcome.");
  for (std::size_t i = 0; i < metrics::kRefreshOutcomeCount; ++i) {
    m.sample(f.outcomes[i].load(),
             {{"outcome", metrics::to_string(static_cast<metrics::RefreshOutcome>(i))}});
  }
  m.family("early_refreshes_total", "counter", "Refreshes begun early by XFetch.");
  m.sample(f.early.load());
  m.family("stale_served_total", "counter", "Stale answers given instead of a wait, by reason.");
  m.sample(f.stale_while_revalidate.load(), {{"reason", "stale-while-revalidate"}});
  m.sample(f.rebuild_stale.load(), {{"reason", "rebuild-rate"}});
  m.family("revalidations_total", "counter",
           "Conditional fetches of stored entries: 304 renewed the entry, 200 replaced it.");
  m.sample(f.revalidated.load(), {{"result", "304"}});
  m.sample(f.revalidation_replaced.load(), {{"result", "200"}});
  m.family("fleet_leases_total", "counter",
           "Fleet fetch leases (one origin fetch per key across cachecars).");
  m.sample(f.leases_won.load(), {{"result", "won"}});
  m.sample(f.leases_lost.load(), {{"result", "lost"}});
  m.family("rebuild_rate_total", "counter",
           "rebuild_rate decisions other than an immediate token.");
  m.sample(f.rebuild_waits.load(), {{"decision", "waited"}});
  m.sample(f.rebuild_rejected.load(), {{"decision", "rejected"}});
  m.family("write_through_total", "counter", "Write-throughs by result.");
  m.sample(f.write_refreshed.load(), {{"result", "refreshed"}});
  m.sample(f.write_unacknowledged.load(), {{"result", "unacknowledged"}});
}

void latency_families(Exposition& m, const proxy::Runtime& runtime) {
  m.family("request_duration_seconds", "histogram",
           "Time from a request read to its answer written, by status class (2xx, 3xx, ...).");
  for (std::size_t i = 0; i < metrics::kStatusClasses; ++i) {
    const std::string status_class = std::to_string(i + 1) + "xx";
    m.histogram(runtime.latencies.client_snapshot(i), "status", status_class);
  }
  m.family("origin_duration_seconds", "histogram",
           "Time from a request sent to the origin to its response head.");
  m.histogram(runtime.latencies.origin_snapshot());
  if (!runtime.redis_tiers.empty()) {
    metrics::LatencySnapshot redis;
    for (const auto* tier : runtime.redis_tiers) redis.add(tier->command_latency());
    m.family("redis_command_duration_seconds", "histogram",
             "Round trip of Redis commands that got a reply.");
    m.histogram(redis);
  }
}

void config_families(Exposition& m, const proxy::Runtime& runtime, const proxy::RouteSet& current) {
  m.family("config_reloads_total", "counter",
           "Config reloads, by result (a failed one changed nothing).");
  m.sample(runtime.reloads_ok.load(), {{"result", "ok"}});
  m.sample(runtime.reloads_failed.load(), {{"result", "failed"}});
  m.family("config_generation", "gauge",
           "Generation of the route table in force (1 at start, +1 per reload).");
  m.sample(current.generation);
}

}  // namespace

std::string metrics_text(const proxy::Runtime& runtime) {
  Exposition m;
  auto current = runtime.routes();
  process_families(m, runtime);
  request_families(m, runtime, *current);
  tier_families(m, runtime);
  bus_families(m, runtime);
  coalescing_families(m, runtime);
  refresh_families(m, runtime);
  latency_families(m, runtime);
  config_families(m, runtime, *current);
  return m.take();
}

}  // namespace cachecar::admin
