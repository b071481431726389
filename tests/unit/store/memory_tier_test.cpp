#include "store/memory_tier.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cachecar::store {
namespace {

EntryPtr entry_of(std::size_t body_bytes, char fill = 'x') {
  auto e = std::make_shared<Entry>();
  e->head = "HTTP/1.1 200 OK\r\n";
  e->body.assign(body_bytes, fill);
  return e;
}

std::size_t charge_of(std::string_view key, std::size_t body_bytes) {
  return entry_of(body_bytes)->charge(key.size());
}

TEST(MemoryTier, EvictsLeastRecentlyUsedFirst) {
  // One shard so the order is global; room for exactly three entries.
  const std::size_t one = charge_of("k1", 100);
  MemoryTier tier(one * 3, one, 1);
  tier.insert("k1", entry_of(100));
  tier.insert("k2", entry_of(100));
  tier.insert("k3", entry_of(100));
  ASSERT_TRUE(tier.find("k1"));  // k1 becomes most recent; k2 is now the oldest
  tier.insert("k4", entry_of(100));
  EXPECT_TRUE(tier.find("k1"));
  EXPECT_FALSE(tier.find("k2"));
  EXPECT_TRUE(tier.find("k3"));
  EXPECT_TRUE(tier.find("k4"));
  EXPECT_EQ(tier.stats().evictions, 1u);
}

TEST(MemoryTier, PeekChangesNeitherOrderNorCounters) {
  const std::size_t one = charge_of("k1", 100);
  MemoryTier tier(one * 2, one, 1);
  tier.insert("k1", entry_of(100));
  tier.insert("k2", entry_of(100));
  ASSERT_TRUE(tier.peek("k1"));  // unlike find, k1 stays the oldest
  EXPECT_FALSE(tier.peek("absent"));
  tier.insert("k3", entry_of(100));
  EXPECT_FALSE(tier.peek("k1"));
  EXPECT_EQ(tier.stats().hits, 0u);
  EXPECT_EQ(tier.stats().misses, 0u);
}

TEST(MemoryTier, NeverHoldsMoreThanMaxBytes) {
  const std::uint64_t max_bytes = 64 * 1024;
  MemoryTier tier(max_bytes, 8 * 1024, 4);
  for (int i = 0; i < 1000; ++i)
    tier.insert("key-" + std::to_string(i), entry_of(100 + (i * 37) % 3000));
  auto stats = tier.stats();
  EXPECT_LE(stats.bytes, max_bytes);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.stores, 1000u);
}

TEST(MemoryTier, CountsHeadersKeyAndOverheadNotJustTheBody) {
  MemoryTier tier(1024 * 1024, 1024 * 1024, 1);
  auto e = entry_of(10);
  tier.insert("abc", e);
  EXPECT_EQ(tier.stats().bytes, e->charge(3));
  EXPECT_GE(tier.stats().bytes, sizeof(Entry) + e->head.capacity() + 3 + Entry::kOverheadBytes);
}

// Issue 10, finding 1: a body read in 64 KiB steps kept its capacity while
// the charge counted its size (65 KB of RSS per "1 KiB" entry).
TEST(MemoryTier, ChargesWhatAnEntryHoldsNotWhatItUses) {
  auto roomy = std::make_shared<Entry>();
  roomy->body.reserve(64 * 1024);
  roomy->body.assign(1024, 'x');
  auto tight = std::make_shared<Entry>();
  tight->body.assign(1024, 'x');
  EXPECT_GE(roomy->charge(3), 64u * 1024);
  EXPECT_LT(tight->charge(3), 2u * 1024);
  roomy->tags = {"a-tag-longer-than-the-small-string-buffer"};
  EXPECT_GE(roomy->charge(3), 64u * 1024 + 2 * roomy->tags[0].size());
}

TEST(MemoryTier, RejectsEntriesOverMaxEntryBytes) {
  MemoryTier tier(1024 * 1024, 1000, 1);
  EXPECT_EQ(tier.insert("big", entry_of(2000)), PutResult::too_large);
  EXPECT_FALSE(tier.find("big"));
  EXPECT_EQ(tier.stats().rejected_too_large, 1u);
}

TEST(MemoryTier, ReplacingAKeyReleasesItsOldBytes) {
  MemoryTier tier(1024 * 1024, 1024 * 1024, 1);
  tier.insert("k", entry_of(500));
  tier.insert("k", entry_of(100));
  EXPECT_EQ(tier.stats().entries, 1u);
  EXPECT_EQ(tier.stats().bytes, charge_of("k", 100));
  EXPECT_EQ(tier.find("k")->body.size(), 100u);
}

TEST(MemoryTier, ConcurrentUseFromFourThreadsStaysConsistent) {
  const std::uint64_t max_bytes = 256 * 1024;
  MemoryTier tier(max_bytes, 16 * 1024, 8);
  std::vector<std::thread> threads;
  std::atomic<int> wrong_bodies{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % 500);
        char fill = static_cast<char>('a' + (key.size() + key.back()) % 26);
        switch (i % 4) {
          case 0:
            tier.insert(key, entry_of(200 + i % 900, fill));
            break;
          case 3:
            tier.remove(key);
            break;
          default:
            if (auto e = tier.find(key)) {
              // Every body of a key has that key's fill byte: no torn or swapped entries.
              if (e->body.find_first_not_of(fill) != std::string::npos) ++wrong_bodies;
            }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  auto stats = tier.stats();
  EXPECT_EQ(wrong_bodies.load(), 0);
  EXPECT_LE(stats.bytes, max_bytes);
  std::uint64_t counted = 0, bytes = 0;
  tier.for_each([&](std::string_view key, const EntryPtr& e) {
    ++counted;
    bytes += e->charge(key.size());
  });
  EXPECT_EQ(counted, stats.entries);
  EXPECT_EQ(bytes, stats.bytes);
}

EntryPtr tagged(std::vector<std::string> tags) {
  auto e = std::make_shared<Entry>();
  e->body = "x";
  e->tags = std::move(tags);
  return e;
}

TEST(MemoryTier, RemovesByTagThroughItsIndex) {
  MemoryTier tier(1024 * 1024, 1024 * 1024, 4);
  tier.insert("a", tagged({"#p:42", "category:3"}));
  tier.insert("b", tagged({"#p:42"}));
  tier.insert("c", tagged({"#p:43", "category:3"}));
  tier.insert("d", tagged({}));
  EXPECT_EQ(tier.remove_tagged({"#p:42"}), 2u);
  EXPECT_FALSE(tier.find("a"));
  EXPECT_FALSE(tier.find("b"));
  EXPECT_TRUE(tier.find("c"));
  EXPECT_EQ(tier.remove_tagged({"category:3", "nothing"}), 1u);
  EXPECT_EQ(tier.remove_tagged({"#p:42"}), 0u);
  EXPECT_TRUE(tier.find("d"));
}

TEST(MemoryTier, ATagOutlivesTheFirstEntryThatCarriedIt) {
  MemoryTier tier(1024 * 1024, 1024 * 1024, 1);
  tier.insert("first", tagged({"shared"}));
  tier.insert("second", tagged({"shared"}));
  tier.remove("first");  // the tag's first carrier is gone; the index must not depend on it
  tier.insert("third", tagged({"other"}));
  EXPECT_EQ(tier.remove_tagged({"shared"}), 1u);
  EXPECT_FALSE(tier.find("second"));
  EXPECT_TRUE(tier.find("third"));
}

TEST(MemoryTier, TagIndexForgetsReplacedAndEvictedEntries) {
  const std::size_t one = tagged({"t"})->charge(1);
  MemoryTier tier(one * 2, one, 1);
  tier.insert("a", tagged({"t"}));
  tier.insert("a", tagged({"u"}));  // replaced: no longer tagged t
  tier.insert("b", tagged({"t"}));
  tier.insert("c", tagged({"t"}));  // evicts a (the oldest)
  EXPECT_EQ(tier.remove_tagged({"u"}), 0u);
  EXPECT_EQ(tier.remove_tagged({"t"}), 2u);
  EXPECT_EQ(tier.stats().entries, 0u);
}

TEST(MemoryTier, RemovesByPrefix) {
  MemoryTier tier(1024 * 1024, 1024 * 1024);
  tier.insert("prod:-:product:1:-:v1", entry_of(1));
  tier.insert("prod:-:product:1:abc:v1", entry_of(1));
  tier.insert("prod:-:product:12:-:v1", entry_of(1));
  EXPECT_EQ(tier.remove_prefix("prod:-:product:1:"), 2u);
  EXPECT_TRUE(tier.find("prod:-:product:12:-:v1"));
}

}  // namespace
}  // namespace cachecar::store
