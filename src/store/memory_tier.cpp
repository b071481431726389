#include "store/memory_tier.hpp"

#include <xxhash.h>

namespace cachecar::store {

MemoryTier::MemoryTier(std::uint64_t max_bytes, std::uint64_t max_entry_bytes,
                       std::size_t shard_count)
    : max_entry_bytes_(max_entry_bytes),
      shard_capacity_(max_bytes / (shard_count ? shard_count : 1)) {
  if (shard_count == 0) shard_count = 1;
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>());
}

MemoryTier::Shard& MemoryTier::shard_for(std::string_view key) const {
  return *shards_[XXH3_64bits(key.data(), key.size()) % shards_.size()];
}

EntryPtr MemoryTier::find(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    StoreCounters::bump(counters_.misses);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  StoreCounters::bump(counters_.hits);
  return it->second->entry;
}

EntryPtr MemoryTier::peek(std::string_view key) const {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  return it == shard.index.end() ? nullptr : it->second->entry;
}

void MemoryTier::unlink(Shard& shard, std::list<Node>::iterator it) {
  for (const auto& tag : it->entry->tags) {
    auto set = shard.by_tag.find(tag);
    if (set == shard.by_tag.end()) continue;
    set->second.erase(std::string_view(it->key));
    if (set->second.empty()) shard.by_tag.erase(set);
  }
  shard.bytes -= it->charge;
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

void MemoryTier::evict_until_fits(Shard& shard, std::size_t incoming) {
  while (!shard.lru.empty() && shard.bytes + incoming > shard_capacity_) {
    unlink(shard, std::prev(shard.lru.end()));
    StoreCounters::bump(counters_.evictions);
  }
}

PutResult MemoryTier::insert(std::string_view key, EntryPtr entry) {
  std::size_t charge = entry->charge(key.size());
  if (charge > max_entry_bytes_ || charge > shard_capacity_) {
    StoreCounters::bump(counters_.rejected_too_large);
    return PutResult::too_large;
  }
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.index.find(key); it != shard.index.end()) unlink(shard, it->second);
  evict_until_fits(shard, charge);
  shard.lru.push_front(Node{std::string(key), std::move(entry), charge});
  const Node& node = shard.lru.front();
  shard.index.emplace(std::string_view(node.key), shard.lru.begin());
  // The views stay valid while the node lives: unlink removes them first.
  for (const auto& tag : node.entry->tags) shard.by_tag[tag].insert(std::string_view(node.key));
  shard.bytes += charge;
  StoreCounters::bump(counters_.stores);
  return PutResult::stored;
}

bool MemoryTier::remove(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  unlink(shard, it->second);
  return true;
}

std::uint64_t MemoryTier::remove_prefix(std::string_view prefix) {
  std::uint64_t removed = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    for (auto it = shard->lru.begin(); it != shard->lru.end();) {
      auto next = std::next(it);
      if (std::string_view(it->key).substr(0, prefix.size()) == prefix) {
        unlink(*shard, it);
        ++removed;
      }
      it = next;
    }
  }
  return removed;
}

std::uint64_t MemoryTier::remove_tagged(const std::vector<std::string>& tags) {
  std::uint64_t removed = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    for (const auto& tag : tags) {
      auto set = shard->by_tag.find(tag);
      if (set == shard->by_tag.end()) continue;
      // Copy the keys out: unlinking edits this very set.
      std::vector<std::string> keys(set->second.begin(), set->second.end());
      for (const auto& key : keys) {
        auto it = shard->index.find(key);
        if (it == shard->index.end()) continue;
        unlink(*shard, it->second);
        ++removed;
      }
    }
  }
  return removed;
}

boost::asio::awaitable<EntryPtr> MemoryTier::get(std::string key) { co_return find(key); }

boost::asio::awaitable<PutResult> MemoryTier::put(std::string key, EntryPtr entry) {
  co_return insert(key, std::move(entry));
}

boost::asio::awaitable<bool> MemoryTier::erase(std::string key) { co_return remove(key); }

boost::asio::awaitable<std::uint64_t> MemoryTier::erase_prefix(std::string prefix) {
  co_return remove_prefix(prefix);
}

StoreStats MemoryTier::stats() const {
  StoreStats s = counters_.snapshot();
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    s.entries += shard->index.size();
    s.bytes += shard->bytes;
  }
  return s;
}

}  // namespace cachecar::store
