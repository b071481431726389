// RequestHandler, second half: the exchange with the origin for a request
// the cache did not answer (see request_handler.hpp).
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>

#include "logging/event_log.hpp"
#include "net/body_reader.hpp"
#include "net/http_util.hpp"
#include "net/relay.hpp"
#include "proxy/entry_builder.hpp"
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

bool is_idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

// RFC 9110 §9.2.1.
bool is_safe(http::verb method) {
  return method == http::verb::get || method == http::verb::head || method == http::verb::options ||
         method == http::verb::trace;
}

bool has_conditionals(const net::Request& request) {
  return request.find(http::field::if_none_match) != request.end() ||
         request.find(http::field::if_modified_since) != request.end() ||
         request.find(http::field::if_match) != request.end() ||
         request.find(http::field::if_unmodified_since) != request.end() ||
         request.find(http::field::if_range) != request.end();
}

std::uint32_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - since)
                                        .count());
}

}  // namespace

asio::awaitable<bool> RequestHandler::forward(net::Request& request, beast::tcp_stream& client,
                                              Plan& plan) {
  if (plan.store) {
    bool keep_alive = true;
    if (!co_await within_rebuild_budget(client, plan, keep_alive)) co_return keep_alive;
  }
  // Noted before the origin is asked: an invalidation recorded after this
  // point keeps this fill out of the cache ("no stale set").
  const std::uint64_t fill_sequence = runtime_.invalidations.begin_fill();
  prepare_origin_request(request, plan);
  // Our own conditional request when the client sent none: a 304 renews
  // the stored entry without the body crossing the wire again.
  const bool conditional = plan.store && plan.revalidate && !has_conditionals(request) &&
                           Filler::make_conditional(request, *plan.revalidate);
  const auto& limits = runtime_.config.limits;
  const std::uint64_t max_entry_bytes = runtime_.memory.max_entry_bytes();
  const auto started = std::chrono::steady_clock::now();
  auto& pool = filler_.pool();

  OriginExchange exchange;
  if (auto ec = co_await exchange_with_origin(request, exchange))
    co_return co_await reply_origin_failure(client, plan, ec);
  auto& connection = exchange.connection;
  auto& parser = exchange.parser;

  auto& response = parser->get();
  if (!is_safe(request.method()) && response.result_int() < 400)
    co_await invalidate_after_unsafe(plan, request, response);
  if (response.result_int() >= 500 && stale_usable(plan)) {
    // The origin answered with an error: the stale entry answers instead
    // (the connection, its body unread, is not reused).
    co_return co_await serve_stale(client, plan, "stale-if-error");
  }
  if (conditional && response.result() == http::status::not_modified) {
    std::string none;
    auto read =
        co_await net::read_body_upto(*connection, *parser, none, 0, limits.origin_idle_timeout);
    if (!read.error && read.complete && parser->keep_alive()) pool.release(std::move(connection));
    co_return co_await serve_revalidated(client, plan, response, fill_sequence, elapsed_ms(started),
                                         304);
  }
  if (request.method() == http::verb::head && plan.store && plan.revalidate) {
    if (describes_stored(plan.revalidate->head, plan.revalidate->body.size(), response)) {
      std::string none;
      auto read =
          co_await net::read_body_upto(*connection, *parser, none, 0, limits.origin_idle_timeout);
      if (!read.error && read.complete && parser->keep_alive()) pool.release(std::move(connection));
      co_return co_await serve_revalidated(client, plan, response, fill_sequence,
                                           elapsed_ms(started), response.result_int());
    }
    // It describes another representation: what is stored is outdated.
    runtime_.memory.remove(plan.key->key);
    if (auto* redis = filler_.redis()) co_await redis->erase(plan.key->key);
    if (plan.permit) plan.permit->uncacheable();
    plan.store = false;  // a head alone is never stored
    plan.detail = "head-mismatch";
  }
  if (conditional && response.result_int() >= 200 && response.result_int() < 300) {
    RefreshCounters::bump(runtime_.refreshes.revalidation_replaced);
  }
  const bool origin_keep_alive = parser->keep_alive();
  const auto now = Clock::now();
  std::string_view detail = plan.detail;
  bool buffer_body = false;
  cache::ResponseFacts facts;
  cache::StorageDecision decision;
  if (plan.store) {
    facts = response_facts(response, *plan.route);
    decision =
        cache::decide_storage(plan.request_facts, facts, *plan.route, now, filler_.jitter_draw());
    if (decision.verdict != cache::StoreVerdict::store) {
      detail = cache::to_string(decision.verdict);
    } else if (auto length = parser->content_length(); length && *length > max_entry_bytes) {
      detail = "too-large";
    } else {
      buffer_body = true;
    }
  }

  std::string body;
  if (buffer_body) {
    auto read = co_await net::read_body_upto(*connection, *parser, body, max_entry_bytes,
                                             limits.origin_idle_timeout);
    if (read.error) co_return co_await reply_origin_failure(client, plan, read.error);
    if (read.complete) {
      auto target = fill_target(plan);
      auto placement = cache::place(plan.key->key, plan.key->fingerprint, facts.vary_names,
                                    BeastHeaders(request));
      store::EntryPtr entry = build_entry(response, std::move(body), placement.fingerprint,
                                          Filler::tags_for(target, response), now, decision,
                                          facts.age, elapsed_ms(started), generation_of(target));
      if (origin_keep_alive) pool.release(std::move(connection));
      // Stored (and handed to the local waiters, then the fleet's) before
      // our own client write.
      auto fill = co_await filler_.store_placed(placement, entry, fill_sequence, plan.permit);
      co_await release_fleet_lease(plan);
      if (!decision.omitted_fields.empty()) {
        // Stored without the fields no-cache="..."/private="..." name; the
        // client the origin answered still gets them.
        decision.omitted_fields.clear();
        entry = build_entry(response, entry->body, entry->fingerprint, entry->tags, now, decision,
                            facts.age, entry->rebuild_ms, entry->generation);
      }
      co_return co_await serve_entry(client, *entry, plan, fill.stored, fill.outcome, now);
    }
    detail = "too-large";  // grew past max_entry_bytes: stream the rest, store nothing
  }
  // Whatever is streamed is stored for nobody: waiters fetch for themselves,
  // and for a while nobody queues behind this key.
  if (plan.permit && plan.store) plan.permit->uncacheable();

  cache::CacheStatusText status(plan.status, 0, false, detail);
  co_return co_await relay_rest(client, exchange, plan, status.view(), body);
}

asio::awaitable<beast::error_code> RequestHandler::exchange_with_origin(net::Request& request,
                                                                        OriginExchange& exchange) {
  auto& pool = filler_.pool();
  auto& connection = exchange.connection;
  auto& parser = exchange.parser;
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // (Two statements: GCC 12 miscompiles co_await inside ?: )
    if (attempt == 0) {
      connection = co_await pool.acquire(ec);
    } else {
      connection = co_await pool.connect(ec);
    }
    if (ec) break;
    connection->stream.expires_after(runtime_.config.limits.origin_timeout);
    const auto sent = std::chrono::steady_clock::now();
    auto [write_error, written] =
        co_await http::async_write(connection->stream, request, net::use_tuple);
    ec = write_error;
    if (!ec) {
      ec = co_await net::read_response_head(*connection, parser,
                                            request.method() == http::verb::head,
                                            runtime_.config.limits.origin_timeout);
    }
    if (!ec) {
      runtime_.latencies.origin(worker_, std::chrono::steady_clock::now() - sent);
      break;
    }
    // A kept-alive connection may have been closed by the origin just as we
    // reused it; retrying is safe for idempotent methods only.
    if (!connection->reused || !is_idempotent(request.method()) || ec == beast::error::timeout)
      break;
  }
  co_return ec;
}

asio::awaitable<bool> RequestHandler::relay_rest(beast::tcp_stream& client,
                                                 OriginExchange& exchange, const Plan& plan,
                                                 std::string_view cache_status,
                                                 std::string_view already_read) {
  const auto& limits = runtime_.config.limits;
  const bool origin_keep_alive = exchange.parser->keep_alive();
  net::RelayOptions options;
  std::string disclosed;
  if (runtime_.config.admin.disclose_keys && plan.key) {
    disclosed = cache::with_key(cache_status, plan.key->key);
    cache_status = disclosed;
  }
  options.cache_status = cache_status;
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
  if (result.origin_complete && origin_keep_alive) filler_.pool().release(std::move(connection));
  co_return result.client_ok&& result.client_keep_alive;
}

asio::awaitable<bool> RequestHandler::serve_revalidated(beast::tcp_stream& client, Plan& plan,
                                                        const http::response_header<>& not_modified,
                                                        std::uint64_t fill_sequence,
                                                        std::uint32_t rebuild_ms,
                                                        unsigned origin_status) {
  const auto now = Clock::now();
  auto revalidation = filler_.revalidated(*plan.revalidate, not_modified, fill_target(plan),
                                          plan.request_facts, now, rebuild_ms);
  if (!revalidation.entry) {
    // The stored head no longer parses (it always should): fail as the
    // origin would have, rather than serve something half-known.
    co_return co_await reply_origin_failure(client, plan,
                                            beast::error_code(http::error::bad_value));
  }
  RefreshCounters::bump(runtime_.refreshes.revalidated);
  StoredFill fill;
  if (revalidation.storable) {
    fill = co_await filler_.store(plan.key->key, revalidation.entry, fill_sequence, plan.permit);
  } else if (plan.permit) {
    plan.permit->uncacheable();
  }
  const auto& entry = *revalidation.entry;
  long long ttl = std::chrono::floor<std::chrono::seconds>(entry.expires_at - now).count();
  co_return co_await write_entry(
      client, entry, plan,
      cache::CacheStatusText(plan.status, ttl, fill.stored, fill.outcome, false, origin_status),
      now);
}

asio::awaitable<bool> RequestHandler::within_rebuild_budget(beast::tcp_stream& client, Plan& plan,
                                                            bool& keep_alive) {
  auto* budget = plan.routes->rebuild_budget(*plan.route);
  if (!budget) co_return true;
  const auto now = cache::RebuildBudget::Clock::now();
  if (budget->take(now, {})) co_return true;
  // Over budget. A stale copy answers at once, if the entry allows it.
  if (plan.stale && !plan.stale->must_revalidate) {
    RefreshCounters::bump(runtime_.refreshes.rebuild_stale);
    keep_alive = co_await serve_stale(client, plan, "rebuild-rate");
    co_return false;
  }
  // Otherwise wait for a token, up to origin_timeout.
  const auto& limits = runtime_.config.limits;
  cache::RebuildBudget::Clock::duration retry_after{};
  if (auto wait = budget->take(now, limits.origin_timeout, &retry_after)) {
    RefreshCounters::bump(runtime_.refreshes.rebuild_waits);
    asio::steady_timer timer(executor_, *wait);
    co_await timer.async_wait(net::use_tuple);
    co_return true;
  }
  RefreshCounters::bump(runtime_.refreshes.rebuild_rejected);
  auto seconds = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
  std::string reason = "route " + plan.route->name + " is over its rebuild_rate; retry in " +
                       std::to_string(seconds) + " s";
  cache::CacheStatusText cache_status(plan.status, 0, false, "rebuild-rate");
  auto response = net::json_error(http::status::service_unavailable, reason, plan.version,
                                  plan.keep_alive, cache_status.view());
  response.set(http::field::retry_after, std::to_string(std::max<long long>(1, seconds)));
  client.expires_after(limits.header_timeout);
  answering(plan, response.result_int());
  auto [write_error, written] = co_await http::async_write(client, response, net::use_tuple);
  keep_alive = !write_error && plan.keep_alive;
  co_return false;
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
  plan.status = CacheStatus::hit;
  co_return co_await serve_entry(client, *plan.stale, plan, false, why, Clock::now());
}

asio::awaitable<bool> RequestHandler::reply_origin_failure(beast::tcp_stream& client, Plan& plan,
                                                           beast::error_code ec) {
  const auto& config = runtime_.config;
  OriginFailure failure = ec == beast::error::timeout             ? OriginFailure::timeout
                          : ec == asio::error::connection_refused ? OriginFailure::refused
                                                                  : OriginFailure::broken;
  runtime_.stats.count_origin_failure(worker_, failure);
  http::status status = http::status::bad_gateway;
  std::string reason;
  switch (failure) {
    case OriginFailure::timeout:
      status = http::status::gateway_timeout;
      reason = "origin " + config.origin.to_string() +
               " did not answer within limits.origin_timeout (" +
               config::format_duration(config.limits.origin_timeout) + ")";
      break;
    case OriginFailure::refused:
      reason = "origin " + config.origin.to_string() + " refused the connection";
      break;
    case OriginFailure::broken:
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
  cache::CacheStatusText cache_status(
      plan.status, 0, false,
      failure == OriginFailure::timeout ? "origin-timeout" : "origin-unreachable");
  auto response =
      net::json_error(status, reason, plan.version, plan.keep_alive, cache_status.view());
  client.expires_after(config.limits.header_timeout);
  answering(plan, response.result_int());
  auto [write_error, written] = co_await http::async_write(client, response, net::use_tuple);
  co_return !write_error && plan.keep_alive;
}

}  // namespace cachecar::proxy
