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
class RedisTier final : public Store {
 public:
  RedisTier(boost::asio::any_io_executor executor, const config::RedisStoreConfig& config,
            std::uint64_t max_entry_bytes, std::string key_namespace = "cachecar:");

  void start() { client_.start(); }
  // The connection pool under the tier, for what else speaks to the same
  // Redis from this executor (fleet::FleetLink).
  redis::Client& client() { return client_; }
  const std::string& key_namespace() const { return key_namespace_; }
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
  static std::string escape_glob(std::string_view literal);

 private:
  redis::Client client_;
  std::uint64_t max_entry_bytes_;
  std::string entry_prefix_;  // "<namespace>e:"
  std::string tag_prefix_;    // "<namespace>t:"
  std::string key_namespace_;
  BodyCompression compression_;
  StoreCounters counters_;
};

}  // namespace cachecar::store
