// What one invalidation covers, in cache-key terms: an exact key, a key
// prefix, every id of an entity, and/or tags (an entity id is reached
// through the implicit tags every entry carries, see implicit_tags).
// Events and admin purges both become a Scope, so there is one definition
// of "matches". Immutable; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "invalidation/event.hpp"

namespace cachecar::invalidation {

struct Scope {
  std::optional<std::string> key;
  std::optional<std::string> prefix;
  std::optional<std::string> entity;  // key-encoded: every entry of that entity
  std::vector<std::string> tags;

  // True when an entry stored under `key` with `entry_tags` is covered.
  bool covers(std::string_view key, const std::vector<std::string>& entry_tags) const;
  // The Redis glob (over un-namespaced keys) for the key/prefix/entity part;
  // it may match a few keys more than `covers`, never fewer. Empty when the
  // scope is tags only.
  std::string redis_glob(std::string_view environment) const;
  std::string describe() const;
};

// An event as a scope; `environment` is this cachecar's key prefix.
Scope scope_of(const Event& event, std::string_view environment);
// Every entry of one entity, or of one of its ids (for one tenant or all).
Scope entity_scope(std::string_view environment, std::string_view entity,
                   const std::optional<std::string>& id, const std::optional<std::string>& tenant);

}  // namespace cachecar::invalidation
