// What one cachecar says to the rest of its fleet through Redis (DESIGN
// "Fleet coalescing", "Correctness rules"): the fetch lease that makes one
// origin fetch serve every process, the announcement of its release, and
// PUBLISH for invalidation events and their acknowledgements. Over the
// caller's Redis client (a worker's, or the control thread's), used only
// from that client's executor. Fails open like the shared tier: a Redis
// that does not answer reads as "unavailable", never as an error to handle.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "redis/client.hpp"

namespace cachecar::fleet {

// Where a released fleet lease is announced (its key as the message), so
// that lease losers stop waiting at once.
inline std::string fills_channel(const std::string& key_namespace = "cachecar:") {
  return key_namespace + "fills";
}

class FleetLink {
 public:
  FleetLink(redis::Client& client, std::string key_namespace = "cachecar:");

  // One fetcher per key across every cachecar.
  enum class Lease { won, lost, unavailable };
  boost::asio::awaitable<Lease> try_lease(std::string key, std::string token,
                                          std::chrono::milliseconds ttl);
  // Ends the lease if `token` still holds it. A `pass_for` above zero: the
  // answer could not be stored, so the lease becomes a "pass" mark for that
  // long, telling waiters to fetch for themselves instead of electing
  // fetchers one after another. Either way the key is published on
  // fills_channel().
  boost::asio::awaitable<void> release_lease(std::string key, std::string token,
                                             std::chrono::milliseconds pass_for);
  enum class LeaseState { none, held, pass, unknown };
  boost::asio::awaitable<LeaseState> lease_state(std::string key);

  // PUBLISH: how many subscribers received it; nullopt when Redis did not
  // take it.
  boost::asio::awaitable<std::optional<long long>> publish(std::string channel,
                                                           std::string message);
  // True when Redis answers PING now.
  boost::asio::awaitable<bool> ping();

 private:
  redis::Client& client_;
  std::string lease_prefix_;  // "<namespace>lease:"
  std::string fills_channel_;
};

}  // namespace cachecar::fleet
