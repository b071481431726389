// The per-request flow of one worker (DESIGN "The request's path"):
//   route -> key -> memory lookup -> fresh hit: one gather write
//                                 -> otherwise: origin fetch -> store when
//                                    cacheable -> serve; or stream through.
// Each decision is recorded as one CacheStatus, which becomes the
// Cache-Status header and the stats. One handler per worker; it runs only
// on that worker's thread, and many requests interleave on it, so nothing
// request-specific lives in members except the per-worker pools.
#pragma once

#include "cache/cacheability.hpp"
#include "cache/cache_status.hpp"
#include "cache/key_builder.hpp"
#include "net/listener.hpp"
#include "net/origin_pool.hpp"
#include "proxy/runtime.hpp"

#include <memory>
#include <random>
#include <vector>

namespace cachecar::proxy {

class RequestHandler final : public net::RequestSink {
 public:
  RequestHandler(Runtime& runtime, std::size_t worker, net::asio::any_io_executor executor);

  net::asio::awaitable<bool> handle(net::Request& request, net::beast::tcp_stream& client,
                                    const net::tcp::endpoint& peer) override;

  const net::OriginPool& origin_pool() const { return pool_; }
  // This worker's shared tier, or nullptr without store.redis.
  const store::RedisTier* redis_tier() const { return redis_.get(); }

 private:
  struct Plan;
  class ScratchLease;

  // With Redis: take the fleet lease for the plan's key (then `lease_token`
  // is set and this request fetches), or wait for the holder's fill in Redis
  // and return it. nullptr: fetch without the fleet (fail open, pass, timeout).
  net::asio::awaitable<store::EntryPtr> await_fleet(const Plan& plan, std::string& lease_token);
  std::chrono::milliseconds fleet_lease_ttl() const;
  // Serves what another request's fetch stored ("...; collapsed").
  net::asio::awaitable<bool> serve_collapsed(net::beast::tcp_stream& client, const store::Entry& entry, Plan& plan,
                                             std::string_view detail);
  net::asio::awaitable<bool> serve_entry(net::beast::tcp_stream& client, const store::Entry& entry, const Plan& plan,
                                         bool stored, std::string_view detail, store::Clock::time_point now);
  net::asio::awaitable<bool> forward(net::Request& request, net::beast::tcp_stream& client,
                                     const net::tcp::endpoint& peer, Plan& plan);
  // A 502/504 with a reason, or the stale entry inside its stale-if-error window.
  net::asio::awaitable<bool> reply_origin_failure(net::beast::tcp_stream& client, Plan& plan,
                                                  net::beast::error_code ec);
  bool stale_usable(const Plan& plan) const;
  net::asio::awaitable<bool> serve_stale(net::beast::tcp_stream& client, Plan& plan);
  void prepare_origin_request(net::Request& request, const net::tcp::endpoint& peer, const Plan& plan) const;
  double jitter_draw();

  Runtime& runtime_;
  std::size_t worker_;
  net::OriginPool pool_;
  std::unique_ptr<store::RedisTier> redis_;
  std::minstd_rand random_;
  // Key buffers reused across requests of this worker, so keys stop
  // allocating once the buffers have grown.
  std::vector<std::unique_ptr<cache::KeyScratch>> free_scratch_;
};

}  // namespace cachecar::proxy
