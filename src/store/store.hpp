// The interface every cache tier implements (memory now, Redis next). Stores
// are dumb: they keep entries by key and never decide freshness or Vary.
// Every operation is awaitable so that a networked tier fits; the memory
// tier completes them inline. Callers may use any thread; each store
// documents its own thread-safety.
#pragma once

#include "store/entry.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

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
