#include "proxy/warmer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>

#include "cache/canonical_form.hpp"
#include "cache/key_builder.hpp"
#include "net/http_util.hpp"
#include "proxy/response_facts.hpp"

namespace cachecar::proxy {

namespace asio = net::asio;
namespace http = net::http;
using store::Clock;

namespace {
constexpr std::chrono::seconds kFirstRetry{1};
constexpr std::chrono::seconds kMaxRetry{30};
constexpr double kRefreshAt = 0.9;  // of the entry's lifetime

Clock::time_point refresh_time(const store::Entry& entry) {
  auto lifetime = entry.expires_at - entry.stored_at;
  return entry.stored_at + std::chrono::duration_cast<Clock::duration>(lifetime * kRefreshAt);
}
}  // namespace

Warmer::Warmer(Runtime& runtime, asio::any_io_executor executor)
    : runtime_(runtime),
      executor_(executor),
      context_(runtime, runtime.control_slot(), executor),
      filler_(context_) {}

void Warmer::start() {
  auto routes = runtime_.routes();
  for (const auto& route : routes->routes()) starting_ += route.warm.size();
  if (starting_ == 0) return;
  runtime_.startup.add("warm");
  for (const auto& route : routes->routes()) {
    for (const auto& target : route.warm) {
      if (kept_.insert(target).second) {
        asio::co_spawn(executor_, keep_fresh(target), asio::detached);
      } else {
        first_attempt_over();  // listed twice: one keeper
      }
    }
  }
}

void Warmer::reloaded() {
  for (const auto& route : runtime_.routes()->routes()) {
    for (const auto& target : route.warm) {
      if (kept_.insert(target).second)
        asio::co_spawn(executor_, keep_fresh(target, false), asio::detached);
    }
  }
}

bool Warmer::still_listed(const std::string& target) const {
  for (const auto& route : runtime_.routes()->routes()) {
    if (std::find(route.warm.begin(), route.warm.end(), target) != route.warm.end()) return true;
  }
  return false;
}

void Warmer::first_attempt_over() {
  if (starting_ > 0 && --starting_ == 0) runtime_.startup.done("warm");
}

std::optional<Warmer::Job> Warmer::job_for(
    const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string& why) const {
  std::string_view path, query;
  net::split_target(target, path, query);
  if (path.empty() || path.front() != '/' || !net::valid_request_target(target)) {
    why = "not a path: '" + net::json_escape(target) + "'";
    return std::nullopt;
  }
  for (const auto& [name, value] : headers) {
    if (!net::valid_field_name(name) || !net::valid_field_value(value)) {
      why = "header '" + net::json_escape(name) + "' is not a valid field name and value";
      return std::nullopt;
    }
  }
  Job job;
  config::RouteValues values;
  job.fill.routes = runtime_.routes();
  job.fill.route = job.fill.routes->table.match("GET", path, values);
  const auto* route = job.fill.route;
  if (!route || route->mode == config::RouteMode::bypass ||
      route->mode == config::RouteMode::write_through) {
    why = "no caching route takes GET " + std::string(path);
    return std::nullopt;
  }
  job.request = net::Request{http::verb::get, target, net::kHttp11};
  job.request.set(http::field::host, warm_host());
  for (const auto& [name, value] : headers) job.request.set(name, value);
  // Keyed and sent exactly as a client's request for the same path.
  BeastHeaders source(job.request);
  cache::KeyScratch key;
  const auto refusal = cache::key_canonical_request(
      *route, runtime_.config.environment, job.fill.routes->config->forwarding, values, query,
      source, cache::forwarded_authority(source, false), key);
  if (refusal == cache::Refusal::missing_tenant) {
    why = "route " + route->name + " is tenant-scoped and the warm request has no " +
          route->tenant_header + " header";
    return std::nullopt;
  }
  if (refusal != cache::Refusal::none) {
    why = std::string("the request cannot be cached: ") + cache::to_string(refusal);
    return std::nullopt;
  }
  job.request.target(key.target);
  job.fill.values.assign(values.begin(), values.end());
  job.fill.key = std::move(key.key);
  job.fill.fingerprint = std::move(key.fingerprint);
  return job;
}

std::string Warmer::warm_host() const {
  // The name clients use, when the config says which: then the warmed
  // entries are the ones they hit. Otherwise the origin's address.
  const auto& allowed = runtime_.routes()->config->forwarding.allowed_hosts;
  if (allowed) {
    for (const auto& host : *allowed) {
      if (host.find('*') == std::string::npos) return host;
    }
  }
  return runtime_.config.origin.host + ":" + std::to_string(runtime_.config.origin.port);
}

asio::awaitable<Warmer::Result> Warmer::warm(
    std::string target, std::vector<std::pair<std::string, std::string>> headers) {
  std::string why;
  auto job = job_for(target, headers, why);
  if (!job) co_return Result{why, false};
  co_return co_await fetch(std::move(*job));
}

asio::awaitable<Warmer::Result> Warmer::fetch(Job job) {
  auto ticket = runtime_.fetch_locks.acquire(job.fill.key);
  if (ticket.flight) {
    // A request is fetching it right now: its fill is as good as ours.
    auto [outcome, entry] = co_await ticket.flight->wait(runtime_.config.limits.origin_timeout);
    if (outcome == cache::FlightOutcome::filled) co_return Result{"stored", true};
    co_return Result{std::string("the concurrent fetch ended ") + cache::to_string(outcome), false};
  }
  metrics::RefreshCounters::bump(runtime_.refreshes.background);
  auto outcome = co_await filler_.refresh(job.fill, job.request, nullptr, std::move(ticket.permit));
  co_return Result{to_string(outcome), outcome == metrics::RefreshOutcome::stored};
}

asio::awaitable<store::EntryPtr> Warmer::cached(const Job& job) {
  auto entry = runtime_.memory.find(job.fill.key);
  if (auto* redis = filler_.redis(); redis && (!entry || Clock::now() >= refresh_time(*entry))) {
    // A peer may have refreshed it: take its copy rather than fetch again.
    if (auto shared = co_await redis->get(job.fill.key);
        shared && (!entry || shared->expires_at > entry->expires_at) &&
        !runtime_.invalidations.invalidated_after(shared->stored_at, job.fill.key, shared->tags)) {
      runtime_.memory.insert(job.fill.key, shared);
      entry = std::move(shared);
    }
  }
  if (entry && entry->fingerprint != job.fill.fingerprint) entry.reset();
  co_return entry;
}

asio::awaitable<void> Warmer::keep_fresh(std::string target, bool at_start) {
  std::string why;
  auto job = job_for(target, {}, why);
  if (!job) {
    // A tenant-scoped route's warm paths end here (see route_loader.cpp).
    spdlog::warn("warm {}: {}; not warmed", target, why);
    kept_.erase(target);
    if (at_start) first_attempt_over();
    co_return;
  }
  auto retry = std::chrono::milliseconds(kFirstRetry);
  bool first = at_start;
  asio::steady_timer timer(executor_);
  for (;;) {
    if (job->fill.routes->generation != runtime_.routes_generation()) {
      // A reload: the path may be gone from every warm list, or its route changed.
      if (!still_listed(target) || !(job = job_for(target, {}, why))) {
        kept_.erase(target);
        co_return;
      }
    }
    auto entry = co_await cached(*job);
    if (!entry || Clock::now() >= refresh_time(*entry)) {
      auto result = co_await fetch(*job);
      if (!result.stored) {
        spdlog::warn("warm {}: {}; trying again in {} ms", target, result.outcome, retry.count());
      }
      entry = co_await cached(*job);
    }
    if (first) {
      first = false;
      first_attempt_over();
    }
    Clock::duration wait = retry;
    if (entry && Clock::now() < refresh_time(*entry)) {
      retry = kFirstRetry;
      wait = refresh_time(*entry) - Clock::now();
    } else {
      retry = std::min<std::chrono::milliseconds>(retry * 2, kMaxRetry);
    }
    timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    co_await timer.async_wait(net::use_tuple);
  }
}

}  // namespace cachecar::proxy
