// The per-request flow of one worker (DESIGN "The request's path"):
//   route -> key -> memory, then Redis -> fresh hit: one gather write (and,
//                                         with early_refresh, perhaps a
//                                         background refresh)
//                  -> stale inside stale-while-revalidate: served at once,
//                     one background refresh
//                  -> otherwise: one fetch per key (local permit, fleet
//                     lease), conditional when the stale entry has
//                     validators, within the route's rebuild budget ->
//                     store when cacheable -> serve; or stream through.
// request_handler.cpp holds the lookup and coalescing, origin_forward.cpp
// the exchange with the origin.
// Each decision moves the request's cache::Transaction (Plan::tx), from
// which the Cache-Status header, the stats (counted once, in answering())
// and the access line are all read. One handler per worker; it runs only
// on that worker's thread, and many requests interleave on it, so nothing
// request-specific lives in members except the per-worker pools.
#pragma once

#include <memory>
#include <random>
#include <vector>

#include "cache/cache_status.hpp"
#include "cache/cacheability.hpp"
#include "cache/key_builder.hpp"
#include "invalidation/invalidator.hpp"
#include "net/listener.hpp"
#include "net/origin_pool.hpp"
#include "net/relay.hpp"
#include "proxy/filler.hpp"
#include "proxy/runtime.hpp"

namespace cachecar::proxy {

class RequestHandler final : public net::RequestSink {
 public:
  RequestHandler(Runtime& runtime, std::size_t worker, net::asio::any_io_executor executor);

  net::asio::awaitable<bool> handle(net::Request& request, net::beast::tcp_stream& client,
                                    const net::tcp::endpoint& peer) override;

  void mark_refusal(net::http::response<net::http::string_body>& response) const override;

  // This worker's shared tier, or nullptr without store.redis.
  const store::RedisTier* redis_tier() { return filler_.redis(); }

 private:
  struct Plan;
  class ScratchLease;

  // The steps of handle(), in order (docs/development.md).
  enum class Path { cache, forward, write_through };
  // Matches the route and records what the request is: which path it takes.
  Path route_request(const net::Request& request, const net::tcp::endpoint& peer,
                     config::RouteValues& values, std::string_view& query, Plan& plan);
  // Keyed = forwarded (ADR 10): the key of the request in canonical form
  // into `scratch`, the request's target rewritten to that form (`values`
  // then view scratch.target) and its cache directives read. False when the
  // request is not cached (the plan's transaction says why).
  bool key_request(net::Request& request, std::string_view query, config::RouteValues& values,
                   cache::KeyScratch& scratch, Plan& plan);
  // What the tiers hold under the plan's key.
  struct Found {
    store::EntryPtr entry;
    bool from_redis = false;
    bool varied = false;  // the key is a variant's (the base key held a Vary marker)
  };
  bool needs_shared_tier(const store::EntryPtr& in_memory);
  // Moves the key to this request's variant and looks in memory again.
  void to_variant(const net::Request& request, cache::KeyScratch& scratch, Found& found);
  // Whether what was found answers the request (fresh, or stale but
  // acceptable); starts a background refresh when one is due. When not,
  // the plan records what the fetch may fall back on.
  bool found_answers(const net::Request& request, const Found& found, Plan& plan,
                     store::Clock::time_point now);
  // One origin fetch per key: lead the fetch, or wait for the leader's fill.
  net::asio::awaitable<bool> fetch_once_per_key(net::Request& request,
                                                net::beast::tcp_stream& client, Plan& plan);
  store::EntryPtr usable_in_memory(const Plan& plan) const;
  // The leader: takes the fleet lease (or is served the fleet's fill), then fetches.
  net::asio::awaitable<bool> fetch_for_waiters(net::Request& request,
                                               net::beast::tcp_stream& client, Plan& plan,
                                               cache::FetchPermit& permit);

  // What every request sent to the origin carries (foreground, background
  // refresh, write-through refetch): the forwarded fields cachecar writes,
  // and, on a caching route, no field that rewrites the target or method.
  // Applied on the way to the origin only: a hit never pays for it.
  void shape_for_origin(net::Request& request, const Plan& plan) const;
  // A GET of `target` with the client's end-to-end fields, shaped for the origin.
  net::Request origin_copy(const net::Request& request, std::string_view target,
                           const Plan& plan) const;
  // With Redis: take the fleet lease for the plan's key (then
  // plan.lease_token is set and this request fetches), or wait for the
  // holder's fill in Redis and return it. nullptr: fetch without the fleet
  // (fail open, pass, timeout).
  net::asio::awaitable<store::EntryPtr> await_fleet(Plan& plan);
  // Starts one background refresh of the plan's key unless a fetch of it
  // is already running in this process.
  void refresh_in_background(const net::Request& request, const Plan& plan,
                             store::EntryPtr current);
  // Ends the plan's fleet lease, if it holds one; the release announces the
  // key to the fleet's waiting processes.
  net::asio::awaitable<void> release_fleet_lease(Plan& plan);
  // Replaces `found` with Redis's entry under `key` when that is fresher
  // and no invalidation has overtaken it.
  net::asio::awaitable<void> look_in_redis(const std::string& key, Found& found);
  bool early_refresh_due(const Plan& plan, const store::Entry& entry, store::Clock::time_point now);
  // Serves what another request's fetch stored ("...; collapsed").
  net::asio::awaitable<bool> serve_collapsed(net::beast::tcp_stream& client,
                                             const store::Entry& entry, Plan& plan,
                                             std::string_view detail);
  // A hit: 304 when the client's validators match the entry, else the entry.
  net::asio::awaitable<bool> serve_hit(const net::Request& request, net::beast::tcp_stream& client,
                                       const store::Entry& entry, Plan& plan,
                                       store::Clock::time_point now);
  net::asio::awaitable<bool> serve_not_modified(net::beast::tcp_stream& client,
                                                const store::Entry& entry, Plan& plan,
                                                store::Clock::time_point now);
  net::asio::awaitable<bool> reply_not_cached(net::beast::tcp_stream& client, Plan& plan);
  // An error answer of cachecar's own: JSON, with the transaction's Cache-Status.
  net::asio::awaitable<bool> reply_error(net::beast::tcp_stream& client, Plan& plan,
                                         net::http::status status, std::string_view reason,
                                         long long retry_after_seconds = 0);
  net::asio::awaitable<bool> serve_entry(net::beast::tcp_stream& client, const store::Entry& entry,
                                         Plan& plan, store::Clock::time_point now);
  // One gather write: [stored head][Age, Cache-Status][body].
  net::asio::awaitable<bool> write_entry(net::beast::tcp_stream& client, const store::Entry& entry,
                                         Plan& plan, cache::CacheStatusText status,
                                         store::Clock::time_point now);
  // Sends the request to the origin, and answers from what comes back:
  // stored and served, renewed (304), streamed through, or failed.
  net::asio::awaitable<bool> forward(net::Request& request, net::beast::tcp_stream& client,
                                     Plan& plan);
  struct OriginFetch;
  OriginFetch begin_fetch(net::Request& request, const Plan& plan);
  // True when the origin's answer renews the stored entry (a 304 to our
  // conditional request, or a HEAD answer describing what is stored).
  bool renews_stored(const net::Request& request, const Plan& plan, const OriginFetch& fetch) const;
  // Removes the plan's entry from both tiers; nothing is stored this time.
  net::asio::awaitable<void> forget_stored(Plan& plan);
  net::asio::awaitable<bool> answer_from_origin(net::Request& request,
                                                net::beast::tcp_stream& client, Plan& plan,
                                                OriginFetch& fetch);
  net::asio::awaitable<bool> store_and_serve(const net::Request& request,
                                             net::beast::tcp_stream& client, Plan& plan,
                                             const OriginFetch& fetch, std::string body,
                                             FillDecision& fill, store::Clock::time_point now);
  // A 502/504 with a reason, or the stale entry inside its stale-if-error window.
  net::asio::awaitable<bool> reply_origin_failure(net::beast::tcp_stream& client, Plan& plan,
                                                  net::beast::error_code ec);
  bool stale_usable(const Plan& plan) const;
  net::asio::awaitable<bool> serve_stale(net::beast::tcp_stream& client, Plan& plan,
                                         std::string_view why);
  // rebuild_rate: nullopt to go ahead (perhaps after a wait for a token);
  // else the request was answered (stale, or 503 with Retry-After), and
  // the value says whether the connection stays open.
  net::asio::awaitable<std::optional<bool>> within_rebuild_budget(net::beast::tcp_stream& client,
                                                                  Plan& plan);
  // A 304 to our conditional request, or a HEAD response that describes
  // the stored entry (its status says which): the entry, its fields
  // updated, answers.
  net::asio::awaitable<bool> serve_revalidated(net::beast::tcp_stream& client, Plan& plan,
                                               OriginFetch& fetch);
  void prepare_origin_request(net::Request& request, const Plan& plan) const;
  // One fetch of forward(): the exchange and what was noted before it.
  struct OriginFetch {
    OriginExchange exchange;
    std::uint64_t fill_sequence = 0;  // the invalidation log's position when it began
    bool conditional = false;         // we added validators of the stored entry
    std::chrono::steady_clock::time_point started;
    std::string_view not_stored;  // set when the answer must not be stored, and why
  };
  // Streams the rest of the exchange's response to the client.
  net::asio::awaitable<bool> relay_rest(net::beast::tcp_stream& client, OriginExchange& exchange,
                                        Plan& plan, std::string_view already_read);
  // mode: write-through (write_through.cpp).
  struct WrittenView;
  struct FleetDrop {
    bool published = false;      // false: no Redis, or it is unavailable
    long long receivers = 0;     // subscribers PUBLISH reached
    long long acknowledged = 0;  // of which acknowledged in time
  };
  std::optional<WrittenView> written_view(const net::Request& request, const Plan& plan,
                                          const config::RouteValues& values) const;
  // The view `read` caches at `path` for this request's tenant and headers.
  std::optional<WrittenView> view_of(const Plan& plan, const config::RoutePolicy& read,
                                     std::string_view path, const net::Request& request) const;
  // RFC 9111 §4.4, after a non-error answer to an unsafe method.
  net::asio::awaitable<void> invalidate_after_unsafe(const Plan& plan, const net::Request& request,
                                                     const net::http::response_header<>& response);
  // Drops the view here and in the shared tier, publishes the event and
  // waits (bounded) until every cachecar that heard it has applied it.
  net::asio::awaitable<FleetDrop> drop_across_fleet(const WrittenView& view,
                                                    invalidation::EventType type);
  net::asio::awaitable<bool> write_through(net::Request& request, net::beast::tcp_stream& client,
                                           Plan& plan, const config::RouteValues& values);
  void warn_unacknowledged(const Plan& plan, const WrittenView& view, const FleetDrop& drop);
  // Stores the view a successful write made: its own answer (refresh_from:
  // response, read whole) or a refetch. False when nothing was stored.
  net::asio::awaitable<bool> store_new_view(const Plan& plan, const FillTarget& target,
                                            const net::http::response_header<>& response,
                                            const std::string& body, bool whole,
                                            net::Request& read_request);
  FillTarget fill_target(const Plan& plan) const;

  // The route table new requests use: this worker's copy, replaced when
  // the runtime's generation moves (a reload).
  const RouteSetPtr& current_routes();
  // Where each answer is written, just before: its HTTP status is final,
  // and the request is counted under plan.status, the value its
  // Cache-Status and access line carry (so the three cannot disagree).
  void answering(Plan& plan, unsigned http_status);
  // At the end of every request: the latency histogram, and the access
  // line when log.access_sample picks it.
  class RequestEnd;
  void finished(const net::Request& request, const net::tcp::endpoint& peer, const Plan& plan,
                std::chrono::steady_clock::duration elapsed);
  std::minstd_rand access_random_{std::random_device{}()};

  Runtime& runtime_;
  RouteSetPtr routes_;
  std::size_t worker_;
  net::asio::any_io_executor executor_;
  WorkerContext context_;  // this worker's origin pool and Redis tier
  Filler filler_;
  invalidation::Invalidator invalidator_;  // this worker's: its own Redis tier
  // Key buffers reused across requests of this worker, so keys stop
  // allocating once the buffers have grown.
  std::vector<std::unique_ptr<cache::KeyScratch>> free_scratch_;
};

}  // namespace cachecar::proxy
