// The shared tier: entries in Redis under "<namespace>e:<key>", encoded by
// entry_codec, with a Redis TTL equal to the time left until expiry; each of
// an entry's tags is a Redis set "<namespace>t:<tag>" of the entry keys that
// carry it (expiring with its longest-lived member), written in the same Lua
// call as the entry, so that purge_tags drops every tagged entry at once. Every
// failure reads as a miss or a failed put (fail open): the caller never
// sees a Redis error. One RedisTier per executor, used only from it; its
// counters may be read from any thread.
#pragma once

#include "config/config.hpp"
#include "redis/client.hpp"
#include "store/entry_codec.hpp"
#include "store/store.hpp"

namespace cachecar::store {

// How to reach the Redis of `config` (shared by the tier and the bus).
redis::ConnectOptions connect_options(const config::RedisStoreConfig& config);
// Where a released fleet lease is announced (its key as the message), so
// that lease losers stop waiting at once.
inline std::string fills_channel(const std::string& key_namespace = "cachecar:") {
  return key_namespace + "fills";
}

class RedisTier final : public Store {
 public:
  RedisTier(boost::asio::any_io_executor executor, const config::RedisStoreConfig& config,
            std::uint64_t max_entry_bytes, std::string key_namespace = "cachecar:");

  void start() { client_.start(); }
  bool degraded() const { return client_.breaker_open(); }
  const metrics::LatencyShard& command_latency() const { return client_.latency(); }

  const char* name() const override { return "redis"; }
  boost::asio::awaitable<EntryPtr> get(std::string key) override;
  boost::asio::awaitable<PutResult> put(std::string key, EntryPtr entry) override;
  boost::asio::awaitable<bool> erase(std::string key) override;
  boost::asio::awaitable<std::uint64_t> erase_prefix(std::string prefix) override;
  // Removes every key matching a Redis glob (over the un-namespaced key);
  // the caller escapes literal parts with escape_glob.
  boost::asio::awaitable<std::uint64_t> erase_matching(std::string pattern);
  // Drops every entry carrying one of `tags`, atomically per call; returns how many.
  boost::asio::awaitable<std::uint64_t> purge_tags(std::vector<std::string> tags);
  StoreStats stats() const override;
  // Fleet coalescing: one fetcher per key across every cachecar.
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

  // PUBLISH; the number of subscribers that received it, or -1 on failure.
  boost::asio::awaitable<long long> publish(std::string channel, std::string message);
  // True when Redis answers PING now.
  boost::asio::awaitable<bool> ping();

  static std::string escape_glob(std::string_view literal);

 private:
  redis::Client client_;
  std::uint64_t max_entry_bytes_;
  std::string entry_prefix_;  // "<namespace>e:"
  std::string tag_prefix_;    // "<namespace>t:"
  std::string lease_prefix_;  // "<namespace>lease:"
  std::string fills_channel_;
  BodyCompression compression_;
  StoreCounters counters_;
};

}  // namespace cachecar::store
