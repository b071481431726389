// The interface every cache tier implements (memory now, Redis next). Stores
// are dumb: they keep entries by key and never decide freshness or Vary.
// Every operation is awaitable so that a networked tier fits; the memory
// tier completes them inline. Callers may use any thread; each store
// documents its own thread-safety.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "store/entry.hpp"

namespace cachecar::store {

enum class PutResult { stored, too_large, failed };

struct StoreStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t stores = 0;
  std::uint64_t evictions = 0;
  std::uint64_t rejected_too_large = 0;
  std::uint64_t errors = 0;

  StoreStats& operator+=(const StoreStats& other) {
    entries += other.entries;
    bytes += other.bytes;
    hits += other.hits;
    misses += other.misses;
    stores += other.stores;
    evictions += other.evictions;
    rejected_too_large += other.rejected_too_large;
    errors += other.errors;
    return *this;
  }
};

// The event counters every store keeps; bumped from any thread.
struct StoreCounters {
  std::atomic<std::uint64_t> hits{0}, misses{0}, stores{0}, evictions{0}, rejected_too_large{0},
      errors{0};

  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  StoreStats snapshot() const {
    StoreStats s;
    s.hits = hits.load(std::memory_order_relaxed);
    s.misses = misses.load(std::memory_order_relaxed);
    s.stores = stores.load(std::memory_order_relaxed);
    s.evictions = evictions.load(std::memory_order_relaxed);
    s.rejected_too_large = rejected_too_large.load(std::memory_order_relaxed);
    s.errors = errors.load(std::memory_order_relaxed);
    return s;
  }
};

class Store {
 public:
  virtual ~Store() = default;
  virtual const char* name() const = 0;
  // nullptr when absent.
  virtual boost::asio::awaitable<EntryPtr> get(std::string key) = 0;
  virtual boost::asio::awaitable<PutResult> put(std::string key, EntryPtr entry) = 0;
  // True when something was removed.
  virtual boost::asio::awaitable<bool> erase(std::string key) = 0;
  // Removes every key starting with `prefix`; returns how many.
  virtual boost::asio::awaitable<std::uint64_t> erase_prefix(std::string prefix) = 0;
  virtual StoreStats stats() const = 0;
};

}  // namespace cachecar::store
