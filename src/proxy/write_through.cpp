// RequestHandler, third part: mode write-through (SPEC §3). A write goes to
// the origin; on 2xx the view it changes (the `refreshes` route's entry for
// the same variables and tenant) is dropped across the fleet, the fleet's
// acknowledgements are awaited, and then PUT/PATCH/POST store the new view
// (refetched, or the write's own body) in both tiers. Only then does the
// client get its answer: a read anywhere in the fleet after that sees the
// write. An origin error leaves the cache untouched.
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <map>

#include "cache/canonical_form.hpp"
#include "invalidation/event.hpp"
#include "invalidation/scope.hpp"
#include "logging/event_log.hpp"
#include "net/body_reader.hpp"
#include "net/http_util.hpp"
#include "proxy/entry_builder.hpp"
#include "proxy/request_handler.hpp"
#include "proxy/request_plan.hpp"
#include "proxy/response_facts.hpp"

namespace cachecar::proxy {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using store::Clock;

namespace {

// How long a write waits for the fleet to acknowledge that it dropped its
// old copies. Acks come back in about a millisecond; a cachecar that does
// not answer within this is slow or gone, and the gap rule covers it.
constexpr std::chrono::milliseconds kAckTimeout{250};

using net::sv;

}  // namespace

// The read view a write changes, worked out from the write request.
struct RequestHandler::WrittenView {
  const config::RoutePolicy* read_route = nullptr;
  std::string path;                   // the read route's path for the same variables
  std::string identity;               // the entity id: the variables joined by '/'
  std::optional<std::string> tenant;  // nullopt: every tenant (also when the write lacks it)
  std::optional<FillTarget> target;   // where the new view is stored; nullopt: drop only
};

std::optional<RequestHandler::WrittenView> RequestHandler::written_view(
    const net::Request& request, const Plan& plan, const config::RouteValues& values) const {
  const auto& write_route = *plan.route;
  const auto* read = plan.routes->table.find(write_route.refreshes);
  if (!read) return std::nullopt;  // the loader makes sure it exists
  auto write_names = write_route.path.variable_names();
  auto value_of = [&](std::string_view name) -> std::optional<std::string_view> {
    for (std::size_t i = 0; i < write_names.size() && i < values.size(); ++i) {
      if (write_names[i] == name) return values[i];
    }
    return std::nullopt;
  };
  auto path = read->path.expand(value_of);
  if (!path)
    return std::nullopt;  // this write's values cannot name a read view (a constraint fails)
  return view_of(plan, *read, *path, request);
}

std::optional<RequestHandler::WrittenView> RequestHandler::view_of(
    const Plan& plan, const config::RoutePolicy& read, std::string_view path,
    const net::Request& request) const {
  WrittenView view;
  view.read_route = &read;
  config::RouteValues read_values;
  if (!read.path.match(path, read_values)) return std::nullopt;
  // The read route's canonical path: the identity its GETs are keyed by
  // ({id:int} "007" is "7" there).
  read.path.append_canonical_path(read_values, view.path);
  read.path.match(view.path, read_values);
  for (std::size_t i = 0; i < read_values.size(); ++i) {
    if (i > 0) view.identity += '/';
    view.identity.append(read_values[i]);
  }
  if (!read.tenant_header.empty()) {
    if (auto it = request.find(read.tenant_header); it != request.end())
      view.tenant = std::string(sv(it->value()));
  }
  cache::KeyScratch key;
  BeastHeaders headers(request);
  if (cache::key_canonical_request(read, runtime_.config.environment,
                                   plan.routes->config->forwarding, read_values, {}, headers,
                                   cache::forwarded_authority(headers, plan.trusted_peer),
                                   key) == cache::Refusal::none) {
    view.target = FillTarget{&read,
                             std::move(key.key),
                             std::move(key.fingerprint),
                             {read_values.begin(), read_values.end()},
                             plan.routes};
  }
  return view;
}

asio::awaitable<RequestHandler::FleetDrop> RequestHandler::drop_across_fleet(
    const WrittenView& view, invalidation::EventType type) {
  FleetDrop result;
  const auto& config = runtime_.config;
  const auto& read = *view.read_route;
  auto scope =
      invalidation::entity_scope(config.environment, read.key_entity(), view.identity, view.tenant);
  // Here first: fills in flight in this process see it at once, and this
  // process' memory and the shared tier lose the old view now.
  co_await invalidator_.apply(scope);
  auto* fleet = context_.fleet();
  if (!fleet) co_return result;  // no fleet: nothing else holds a copy

  auto event = invalidation::fleet_event(type, read.key_entity(), config.invalidation.owners);
  event.id = view.identity;
  event.tenant = view.tenant;
  auto expectation = runtime_.acks.expect(executor_);
  event.ack_to = runtime_.acks.channel();
  event.ack_id = expectation->name();
  auto receivers = co_await fleet->publish(
      config.invalidation.channel, invalidation::to_json(event, config.invalidation.secret));
  if (!receivers) {
    // Redis is unavailable: the peers cannot hear it, and their own bus is
    // down too, so their gap rule bounds what they serve.
    result.published = false;
    co_return result;
  }
  result.published = true;
  result.receivers = *receivers;
  auto& waiter = expectation->waiter();
  const auto deadline = std::chrono::steady_clock::now() + kAckTimeout;
  while (static_cast<long long>(waiter.signals) < result.receivers &&
         std::chrono::steady_clock::now() < deadline) {
    waiter.timer.expires_at(deadline);
    co_await waiter.timer.async_wait(net::use_tuple);
  }
  result.acknowledged = static_cast<long long>(waiter.signals);
  co_return result;
}

asio::awaitable<bool> RequestHandler::write_through(net::Request& request,
                                                    beast::tcp_stream& client, Plan& plan,
                                                    const config::RouteValues& values) {
  plan.tx.fetch();
  const bool deletes = request.method() == http::verb::delete_;
  auto view = written_view(request, plan, values);
  // The read request for a refetch, made before the write is sent on.
  net::Request read_request;
  if (view && view->target) read_request = origin_copy(request, view->path, plan);
  prepare_origin_request(request, plan);

  OriginExchange exchange;
  if (auto ec = co_await filler_.exchange(request, exchange))
    co_return co_await reply_origin_failure(client, plan, ec);
  plan.tx.origin_answered(exchange.head_time);
  auto& response = exchange.parser->get();
  const bool success = response.result_int() >= 200 && response.result_int() < 300;
  if (!success || !view) {
    // The origin refused the write (or no view can be named): the cache is untouched.
    plan.tx.not_stored(success ? "no-view" : "");
    co_return co_await relay_rest(client, exchange, plan, {});
  }

  // The write's own body: what `refresh_from: response` stores, and what the
  // client gets once the cache is done (held back until then).
  std::string body;
  auto read = co_await net::read_body_upto(*exchange.connection, *exchange.parser, body,
                                           runtime_.memory.max_entry_bytes(),
                                           runtime_.config.limits.origin_idle_timeout);
  auto drop = co_await drop_across_fleet(*view, deletes ? invalidation::EventType::entity_deleted
                                                        : invalidation::EventType::entity_updated);
  const bool fleet_clear = !drop.published || drop.acknowledged >= drop.receivers;
  if (!fleet_clear) warn_unacknowledged(plan, *view, drop);
  std::string_view detail = "dropped";
  if (!deletes && view->target && fleet_clear && !read.error) {
    const bool whole = read.complete;
    if (co_await store_new_view(plan, *view->target, response, body, whole, read_request)) {
      detail = "refreshed";
      metrics::RefreshCounters::bump(runtime_.refreshes.write_refreshed);
    } else {
      logging::event(spdlog::level::warn, "write-through-not-stored",
                     "the new view could not be stored; it is dropped everywhere",
                     logging::Fields().add("route", plan.route->name).add("path", view->path));
    }
  }
  if (read.error) co_return co_await reply_origin_failure(client, plan, read.error);
  plan.tx.not_stored(detail);
  co_return co_await relay_rest(client, exchange, plan, body);
}

void RequestHandler::warn_unacknowledged(const Plan& plan, const WrittenView& view,
                                         const FleetDrop& drop) {
  metrics::RefreshCounters::bump(runtime_.refreshes.write_unacknowledged);
  logging::event(spdlog::level::warn, "write-through-unacknowledged",
                 "not every cachecar acknowledged the drop in time; the new view is not stored",
                 logging::Fields()
                     .add("route", plan.route->name)
                     .add("path", view.path)
                     .add("acknowledged", drop.acknowledged)
                     .add("receivers", drop.receivers)
                     .add("timeout_ms", kAckTimeout.count()));
}

asio::awaitable<bool> RequestHandler::store_new_view(const Plan& plan, const FillTarget& target,
                                                     const http::response_header<>& response,
                                                     const std::string& body, bool whole,
                                                     net::Request& read_request) {
  if (plan.route->refresh_from != config::RefreshFrom::response || !whole) {
    auto outcome = co_await filler_.refresh(target, std::move(read_request), nullptr,
                                            cache::FetchPermit{}, RefreshKind::write);
    co_return outcome == metrics::RefreshOutcome::stored;
  }
  // The write's answer is the full new representation: store it as the view.
  const auto now = Clock::now();
  auto facts = response_facts(response, *target.route);
  auto decision = cache::decide_storage({}, facts, *target.route, now, context_.jitter_draw());
  if (decision.verdict != cache::StoreVerdict::store) co_return false;
  auto entry = build_entry(response, body, target.fingerprint, Filler::tags_for(target, response),
                           now, decision, facts.age, 0, generation_of(target));
  auto fill =
      co_await filler_.store(target.key, entry, runtime_.invalidations.begin_fill(), nullptr);
  if (fill.redis_failed && plan.route->on_cache_error == config::OnCacheError::invalidate) {
    runtime_.memory.remove(target.key);
    co_return false;
  }
  co_return fill.stored;
}

asio::awaitable<void> RequestHandler::invalidate_after_unsafe(
    const Plan& plan, const net::Request& request, const http::response_header<>& response) {
  // RFC 9111 §4.4: the target URI, and same-origin Location and
  // Content-Location, each as the GET view of the route that caches it.
  std::vector<std::string> paths;
  std::string_view target_path, query;
  net::split_target(sv(request.target()), target_path, query);
  paths.emplace_back(target_path);
  std::string host = request.find(http::field::host) != request.end()
                         ? std::string(sv(request[http::field::host]))
                         : "";
  for (auto name : {http::field::location, http::field::content_location}) {
    auto it = response.find(name);
    if (it == response.end()) continue;
    std::string_view value = sv(it->value());
    std::string_view prefix = "http://";
    if (!host.empty() && value.size() > prefix.size() + host.size() &&
        beast::iequals(value.substr(0, prefix.size()), prefix) &&
        beast::iequals(value.substr(prefix.size(), host.size()), host)) {
      value.remove_prefix(prefix.size() + host.size());  // same origin, absolute form
    }
    if (value.empty() || value.front() != '/' || value.substr(0, 2) == "//")
      continue;  // another origin
    std::string_view path, location_query;
    net::split_target(value, path, location_query);
    paths.emplace_back(path);
  }
  for (const auto& path : paths) {
    config::RouteValues values;
    const auto* route = plan.routes->table.match("GET", path, values);
    if (!route || route->mode == config::RouteMode::bypass ||
        route->mode == config::RouteMode::write_through)
      continue;
    if (auto view = view_of(plan, *route, path, request)) {
      co_await drop_across_fleet(*view, invalidation::EventType::entity_updated);
    }
  }
}

}  // namespace cachecar::proxy
