// The in-process tier: a byte-bounded LRU split into shards, each with its
// own mutex, so that workers rarely contend. Each shard indexes its entries
// by tag, so dropping every entry of a tag (an entity id's implicit tag
// included) costs the entries of that tag, not a scan. Thread-safe: any thread may
// call any method. The byte bound is per shard (max_bytes / shards), so the
// whole tier never holds more than max_bytes by `Entry::charge`.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/store.hpp"

namespace cachecar::store {

class MemoryTier final : public Store {
 public:
  MemoryTier(std::uint64_t max_bytes, std::uint64_t max_entry_bytes, std::size_t shard_count = 16);

  // Synchronous forms, used on the hit path without a coroutine frame.
  EntryPtr find(std::string_view key);
  // Like find, but leaves LRU order and hit/miss counters alone (inspection).
  EntryPtr peek(std::string_view key) const;
  PutResult insert(std::string_view key, EntryPtr entry);
  bool remove(std::string_view key);
  std::uint64_t remove_prefix(std::string_view prefix);
  // Removes every entry carrying one of `tags`; returns how many.
  std::uint64_t remove_tagged(const std::vector<std::string>& tags);
  // Calls `fn(key, entry)` for each entry under its shard's lock (admin use).
  template <typename Fn>
  void for_each(Fn&& fn) const;

  std::uint64_t max_entry_bytes() const { return max_entry_bytes_; }

  const char* name() const override { return "memory"; }
  boost::asio::awaitable<EntryPtr> get(std::string key) override;
  boost::asio::awaitable<PutResult> put(std::string key, EntryPtr entry) override;
  boost::asio::awaitable<bool> erase(std::string key) override;
  boost::asio::awaitable<std::uint64_t> erase_prefix(std::string prefix) override;
  StoreStats stats() const override;

 private:
  struct Node {
    std::string key;
    EntryPtr entry;
    std::size_t charge;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Node> lru;  // front = most recently used
    std::unordered_map<std::string_view, std::list<Node>::iterator> index;  // views Node::key
    // tag -> keys of this shard's entries carrying it. The tag is owned (it
    // outlives any one entry); the keys view Node::key and leave with the node.
    std::unordered_map<std::string, std::unordered_set<std::string_view>> by_tag;
    std::uint64_t bytes = 0;
  };

  Shard& shard_for(std::string_view key) const;
  void evict_until_fits(Shard& shard, std::size_t incoming);
  void unlink(Shard& shard, std::list<Node>::iterator it);

  std::uint64_t max_entry_bytes_;
  std::uint64_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  StoreCounters counters_;
};

template <typename Fn>
void MemoryTier::for_each(Fn&& fn) const {
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    for (const Node& node : shard->lru) fn(std::string_view(node.key), node.entry);
  }
}

}  // namespace cachecar::store
