// RequestHandler, second half: the exchange with the origin for a request
// the cache did not answer (see request_handler.hpp).
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>

#include "logging/event_log.hpp"
#include "net/body_reader.hpp"
#include "net/http_util.hpp"
#include "net/relay.hpp"
#include "proxy/entry_builder.hpp"
#include "proxy/entry_times.hpp"
#include "proxy/request_handler.hpp"
#include "proxy/request_plan.hpp"
#include "proxy/response_facts.hpp"

namespace cachecar::proxy {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using cache::CacheStatus;
using store::Clock;

namespace {

using net::sv;

bool has_conditionals(const net::Request& request) {
  return request.find(http::field::if_none_match) != request.end() ||
         request.find(http::field::if_modified_since) != request.end() ||
         request.find(http::field::if_match) != request.end() ||
         request.find(http::field::if_unmodified_since) != request.end() ||
         request.find(http::field::if_range) != request.end();
}

}  // namespace

asio::awaitable<bool> RequestHandler::forward(net::Request& request, beast::tcp_stream& client,
                                              Plan& plan) {
  plan.tx.fetch();
  if (plan.store) {
    if (auto answered = co_await within_rebuild_budget(client, plan)) co_return *answered;
  }
  OriginFetch fetch = begin_fetch(request, plan);
  if (auto ec = co_await filler_.exchange(request, fetch.exchange))
    co_return co_await reply_origin_failure(client, plan, ec);
  plan.tx.origin_answered(fetch.exchange.head_time);
  auto& response = fetch.exchange.parser->get();
  if (!net::is_safe(request.method()) && response.result_int() < 400)
    co_await invalidate_after_unsafe(plan, request, response);
  if (response.result_int() >= 500 && stale_usable(plan)) {
    // The origin answered with an error: the stale entry answers instead
    // (the connection, its body unread, is not reused).
    co_return co_await serve_stale(client, plan, "stale-if-error");
  }
  if (renews_stored(request, plan, fetch))
    co_return co_await serve_revalidated(client, plan, fetch);
  if (request.method() == http::verb::head && plan.store && plan.revalidate) {
    // It describes another representation: what is stored is outdated.
    co_await forget_stored(plan);
    fetch.not_stored = "head-mismatch";
  }
  if (fetch.conditional && response.result_int() >= 200 && response.result_int() < 300) {
    metrics::RefreshCounters::bump(runtime_.refreshes.revalidation_replaced);
  }
  co_return co_await answer_from_origin(request, client, plan, fetch);
}

RequestHandler::OriginFetch RequestHandler::begin_fetch(net::Request& request, const Plan& plan) {
  // Noted before the origin is asked: an invalidation recorded after this
  // point keeps this fill out of the cache ("no stale set").
  const std::uint64_t fill_sequence = runtime_.invalidations.begin_fill();
  prepare_origin_request(request, plan);
  // Our own conditional request when the client sent none: a 304 renews
  // the stored entry without the body crossing the wire again.
  const bool conditional = plan.store && plan.revalidate && !has_conditionals(request) &&
                           Filler::make_conditional(request, *plan.revalidate);
  // Built in place (the parser cannot move).
  return OriginFetch{{}, fill_sequence, conditional, std::chrono::steady_clock::now(), {}};
}

bool RequestHandler::renews_stored(const net::Request& request, const Plan& plan,
                                   const OriginFetch& fetch) const {
  const auto& response = fetch.exchange.parser->get();
  if (fetch.conditional && response.result() == http::status::not_modified) return true;
  // A HEAD for a stored entry: its answer renews the entry when it
  // describes the same representation.
  return request.method() == http::verb::head && plan.store && plan.revalidate &&
         describes_stored(plan.revalidate->head, plan.revalidate->body.size(), response);
}

asio::awaitable<void> RequestHandler::forget_stored(Plan& plan) {
  runtime_.memory.remove(plan.key->key);
  if (auto* redis = filler_.redis()) co_await redis->erase(plan.key->key);
  if (plan.permit) plan.permit->uncacheable();
  plan.store = false;  // a head alone is never stored
}

asio::awaitable<bool> RequestHandler::answer_from_origin(net::Request& request,
                                                         beast::tcp_stream& client, Plan& plan,
                                                         OriginFetch& fetch) {
  const auto now = Clock::now();
  FillDecision fill;
  fill.why_not = fetch.not_stored;
  if (plan.store) fill = filler_.decide(plan.request_facts, fetch.exchange, *plan.route, now);
  std::string body;
  if (fill.store) {
    auto read = co_await net::read_body_upto(*fetch.exchange.connection, *fetch.exchange.parser,
                                             body, runtime_.memory.max_entry_bytes(),
                                             runtime_.config.limits.origin_idle_timeout);
    if (read.error) co_return co_await reply_origin_failure(client, plan, read.error);
    if (read.complete) {
      filler_.reuse(fetch.exchange, true);
      co_return co_await store_and_serve(request, client, plan, fetch, std::move(body), fill, now);
    }
    fill.why_not = "too-large";  // grew past max_entry_bytes: stream the rest, store nothing
  }
  // Whatever is streamed is stored for nobody: waiters fetch for themselves,
  // and for a while nobody queues behind this key.
  if (plan.permit && plan.store) plan.permit->uncacheable();
  plan.tx.not_stored(fill.why_not);
  co_return co_await relay_rest(client, fetch.exchange, plan, body);
}

asio::awaitable<bool> RequestHandler::store_and_serve(const net::Request& request,
                                                      beast::tcp_stream& client, Plan& plan,
                                                      const OriginFetch& fetch, std::string body,
                                                      FillDecision& fill, Clock::time_point now) {
  const auto& response = fetch.exchange.parser->get();
  const auto& facts = fill.facts;
  auto& decision = fill.storage;
  auto target = fill_target(plan);
  auto placement =
      cache::place(plan.key->key, plan.key->fingerprint, facts.vary_names, BeastHeaders(request));
  store::EntryPtr entry = build_entry(response, std::move(body), placement.fingerprint,
                                      Filler::tags_for(target, response), now, decision, facts.age,
                                      elapsed_ms(fetch.started), generation_of(target));
  // Stored (and handed to the local waiters, then the fleet's) before our
  // own client write.
  auto stored = co_await filler_.store_placed(placement, entry, fetch.fill_sequence, plan.permit);
  co_await release_fleet_lease(plan);
  if (!decision.omitted_fields.empty()) {
    // Stored without the fields no-cache="..."/private="..." name; the
    // client the origin answered still gets them.
    decision.omitted_fields.clear();
    entry = build_entry(response, entry->body, entry->fingerprint, entry->tags, now, decision,
                        facts.age, entry->rebuild_ms, entry->generation);
  }
  plan.tx.filled(stored.stored, stored.outcome);
  co_return co_await serve_entry(client, *entry, plan, now);
}

asio::awaitable<bool> RequestHandler::relay_rest(beast::tcp_stream& client,
                                                 OriginExchange& exchange, Plan& plan,
                                                 std::string_view already_read) {
  const auto& limits = runtime_.config.limits;
  const bool origin_keep_alive = exchange.parser->keep_alive();
  net::RelayOptions options;
  const auto status = plan.tx.header();
  std::string disclosed;
  std::string_view cache_status = status.view();
  if (runtime_.config.admin.disclose_keys && plan.key) {
    disclosed = cache::with_key(cache_status, plan.key->key);
    cache_status = disclosed;
  }
  options.added_field = cache::kCacheStatusField;
  options.added_value = cache_status;
  options.already_read = already_read;
  options.head_only = plan.head_only;
  options.client_keep_alive = plan.keep_alive;
  options.client_version = plan.version;
  options.origin_idle_timeout = limits.origin_idle_timeout;
  options.client_timeout = limits.header_timeout;
  auto& connection = exchange.connection;
  // Targeted at cachecar (RFC 9213): obeyed here, not passed on.
  exchange.parser->get().erase("Cachecar-Cache-Control");
  exchange.parser->get().erase("CDN-Cache-Control");
  answering(plan, exchange.parser->get().result_int());
  auto result = co_await net::relay_response(connection->stream, connection->buffer,
                                             *exchange.parser, client, options);
  if (result.origin_complete && origin_keep_alive) context_.origin().release(std::move(connection));
  co_return result.client_ok&& result.client_keep_alive;
}

asio::awaitable<bool> RequestHandler::serve_revalidated(beast::tcp_stream& client, Plan& plan,
                                                        OriginFetch& fetch) {
  auto& exchange = fetch.exchange;
  const auto& not_modified = exchange.parser->get();
  const std::uint32_t rebuild_ms = elapsed_ms(fetch.started);
  std::string none;  // a 304, or the answer to a HEAD: no body to read
  auto read = co_await net::read_body_upto(*exchange.connection, *exchange.parser, none, 0,
                                           runtime_.config.limits.origin_idle_timeout);
  filler_.reuse(exchange, !read.error && read.complete);
  const auto now = Clock::now();
  auto revalidation = filler_.revalidated(*plan.revalidate, not_modified, fill_target(plan),
                                          plan.request_facts, now, rebuild_ms);
  if (!revalidation.entry) {
    // The stored head no longer parses (it always should): fail as the
    // origin would have, rather than serve something half-known.
    co_return co_await reply_origin_failure(client, plan,
                                            beast::error_code(http::error::bad_value));
  }
  metrics::RefreshCounters::bump(runtime_.refreshes.revalidated);
  StoredFill fill;
  if (revalidation.storable) {
    fill =
        co_await filler_.store(plan.key->key, revalidation.entry, fetch.fill_sequence, plan.permit);
  } else if (plan.permit) {
    plan.permit->uncacheable();
  }
  const auto& entry = *revalidation.entry;
  plan.tx.filled(fill.stored, fill.outcome);
  co_return co_await write_entry(
      client, entry, plan, plan.tx.header(seconds_left(entry, now), not_modified.result_int()),
      now);
}

asio::awaitable<std::optional<bool>> RequestHandler::within_rebuild_budget(
    beast::tcp_stream& client, Plan& plan) {
  auto* budget = plan.routes->rebuild_budget(*plan.route);
  if (!budget) co_return std::nullopt;
  const auto now = cache::RebuildBudget::Clock::now();
  if (budget->take(now, {})) co_return std::nullopt;
  // Over budget. A stale copy answers at once, if the entry allows it.
  if (plan.stale && !plan.stale->must_revalidate) {
    metrics::RefreshCounters::bump(runtime_.refreshes.rebuild_stale);
    co_return co_await serve_stale(client, plan, "rebuild-rate");
  }
  // Otherwise wait for a token, up to origin_timeout.
  const auto& limits = runtime_.config.limits;
  cache::RebuildBudget::Clock::duration retry_after{};
  if (auto wait = budget->take(now, limits.origin_timeout, &retry_after)) {
    metrics::RefreshCounters::bump(runtime_.refreshes.rebuild_waits);
    asio::steady_timer timer(executor_, *wait);
    co_await timer.async_wait(net::use_tuple);
    co_return std::nullopt;
  }
  metrics::RefreshCounters::bump(runtime_.refreshes.rebuild_rejected);
  auto seconds = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
  std::string reason = "route " + plan.route->name + " is over its rebuild_rate; retry in " +
                       std::to_string(seconds) + " s";
  plan.tx.explain("rebuild-rate");
  co_return co_await reply_error(client, plan, http::status::service_unavailable, reason,
                                 std::max<long long>(1, seconds));
}

void RequestHandler::prepare_origin_request(net::Request& request, const Plan& plan) const {
  shape_for_origin(request, plan);
  net::strip_hop_by_hop(request);
  // A HEAD that may fill the cache is fetched as GET, so that the stored
  // entry can answer GETs too; the client still gets only the head.
  // A HEAD for a stored entry goes on as a HEAD: its answer updates the
  // entry's fields without the body crossing the wire (RFC 9111 §4.3.5).
  if (plan.store && plan.head_only && !plan.revalidate) request.method(http::verb::get);
  request.version(net::kHttp11);
  request.keep_alive(true);
  request.prepare_payload();
}

bool RequestHandler::stale_usable(const Plan& plan) const {
  return plan.stale && Clock::now() < plan.stale->stale_if_error_until();
}

asio::awaitable<bool> RequestHandler::serve_stale(beast::tcp_stream& client, Plan& plan,
                                                  std::string_view why) {
  plan.tx.serve_stale(why);
  co_return co_await serve_entry(client, *plan.stale, plan, Clock::now());
}

asio::awaitable<bool> RequestHandler::reply_origin_failure(beast::tcp_stream& client, Plan& plan,
                                                           beast::error_code ec) {
  const auto& config = runtime_.config;
  metrics::OriginFailure failure = ec == beast::error::timeout ? metrics::OriginFailure::timeout
                                   : ec == asio::error::connection_refused
                                       ? metrics::OriginFailure::refused
                                       : metrics::OriginFailure::broken;
  runtime_.stats.count_origin_failure(worker_, failure);
  http::status status = http::status::bad_gateway;
  std::string reason;
  switch (failure) {
    case metrics::OriginFailure::timeout:
      status = http::status::gateway_timeout;
      reason = "origin " + config.origin.to_string() +
               " did not answer within limits.origin_timeout (" +
               config::format_duration(config.limits.origin_timeout) + ")";
      break;
    case metrics::OriginFailure::refused:
      reason = "origin " + config.origin.to_string() + " refused the connection";
      break;
    case metrics::OriginFailure::broken:
      reason = "origin " + config.origin.to_string() + " failed: " + ec.message();
      break;
  }
  logging::Fields fields;
  fields.add("route", plan.route ? std::string_view(plan.route->name) : std::string_view("-"))
      .add("reason", to_string(failure));
  if (plan.key) fields.add("key", plan.key->key);
  if (stale_usable(plan)) {
    fields.add("served", "stale-if-error");
    logging::event(spdlog::level::warn, "origin-failure",
                   reason + "; serving the stale entry (stale-if-error)", fields);
    co_return co_await serve_stale(client, plan, "stale-if-error");
  }
  logging::event(spdlog::level::warn, "origin-failure", reason, fields);
  plan.tx.explain(failure == metrics::OriginFailure::timeout ? "origin-timeout"
                                                             : "origin-unreachable");
  co_return co_await reply_error(client, plan, status, reason);
}

}  // namespace cachecar::proxy
