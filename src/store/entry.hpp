// One stored response: bytes plus the metadata the cache needs. Stores keep
// and return entries without interpreting HTTP; entries are immutable once
// shared (readers hold a shared_ptr while they write it to a socket).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachecar::store {

using Clock = std::chrono::system_clock;

struct Entry {
  // Status line and header lines, each ending in CRLF, without the blank
  // line that ends the head and without Age, Cache-Status and Connection:
  // serving splices those in.
  std::string head;
  std::string body;
  std::string fingerprint;  // see cache/key_builder.hpp
  std::vector<std::string> tags;
  Clock::time_point stored_at;
  Clock::time_point expires_at;
  std::uint32_t initial_age_seconds = 0;     // Age the origin's response already had
  std::uint32_t stale_if_error_seconds = 0;  // after expiry, usable this long when the origin fails
  // After expiry, served this long while one background refresh runs.
  std::uint32_t stale_while_revalidate_seconds = 0;
  // How long the origin took to produce it: XFetch's delta (early refresh).
  std::uint32_t rebuild_ms = 0;
  // The route-table generation it was filled under (1 at start, +1 per
  // config reload): tells an operator which config made it.
  std::uint32_t generation = 0;
  std::uint16_t status = 200;
  // must-revalidate / proxy-revalidate: never served stale, for any reason.
  bool must_revalidate = false;
  // Set on a Vary marker (cache/vary.hpp): the request headers, lower case
  // and sorted, whose values pick the variant. A marker has no head or body.
  std::vector<std::string> vary;

  bool is_vary_marker() const { return !vary.empty(); }

  Clock::time_point stale_if_error_until() const {
    return expires_at + std::chrono::seconds(stale_if_error_seconds);
  }
  Clock::time_point revalidate_until() const {
    return expires_at + std::chrono::seconds(stale_while_revalidate_seconds);
  }
  // When the shared tier may drop it: the last moment any rule can use it.
  Clock::time_point usable_until() const {
    return std::max(stale_if_error_until(), revalidate_until());
  }

  // Bytes this entry costs a store holding it under `key`: every
  // allocation it owns at its capacity (not its size), plus a fixed
  // allowance for what the store adds per entry (list node, index slot,
  // shared_ptr block, the key's copy) and per tag (its index entry).
  std::size_t charge(std::size_t key_size) const {
    std::size_t bytes =
        sizeof(Entry) + heap_bytes(head) + heap_bytes(body) + heap_bytes(fingerprint);
    bytes += tags.capacity() * sizeof(std::string) + vary.capacity() * sizeof(std::string);
    for (const auto& t : tags) bytes += heap_bytes(t) + t.size() + kPerTagOverheadBytes;
    for (const auto& v : vary) bytes += heap_bytes(v);
    return bytes + key_size + kOverheadBytes;
  }

  // A string's heap block (none while it fits its small-string buffer).
  static std::size_t heap_bytes(const std::string& s) {
    return s.capacity() > kInlineCapacity ? s.capacity() + 1 + kMallocOverheadBytes : 0;
  }

  static constexpr std::size_t kInlineCapacity = 15;  // libstdc++'s small-string buffer
  static constexpr std::size_t kMallocOverheadBytes = 16;
  // Measured against RSS (bench/memory_per_object.sh): the list node, the
  // index slot, the shared_ptr block and allocator rounding...
  static constexpr std::size_t kOverheadBytes = 320;
  // ...and per tag, the tag index's map node, its set, and the set's node.
  static constexpr std::size_t kPerTagOverheadBytes = 192;
};

using EntryPtr = std::shared_ptr<const Entry>;

}  // namespace cachecar::store
