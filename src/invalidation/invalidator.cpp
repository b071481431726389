#include "invalidation/invalidator.hpp"

namespace cachecar::invalidation {

std::uint64_t Invalidator::purge_memory(const Scope& scope) {
  std::uint64_t removed = 0;
  if (scope.key) removed += memory_.remove(*scope.key) ? 1 : 0;
  if (scope.prefix) removed += memory_.remove_prefix(*scope.prefix);
  if (!scope.tags.empty())
    removed += memory_.remove_tagged(scope.tags);  // indexed: an entity id's tags too
  if (scope.entity) {
    // Every id of an entity has no tag of its own: match the key segment.
    Scope entity_only;
    entity_only.entity = scope.entity;
    std::vector<std::string> keys;
    memory_.for_each([&](std::string_view key, const store::EntryPtr&) {
      if (entity_only.covers(key, {})) keys.emplace_back(key);
    });
    for (const auto& key : keys) removed += memory_.remove(key) ? 1 : 0;
  }
  return removed;
}

boost::asio::awaitable<Invalidator::Result> Invalidator::apply(Scope scope) {
  log_.record(scope);
  Result result;
  result.memory = purge_memory(scope);
  if (redis_ != nullptr) {
    if (!scope.tags.empty()) result.redis += co_await redis_->purge_tags(scope.tags);
    if (scope.key) {
      result.redis += (co_await redis_->erase(*scope.key)) ? 1 : 0;
    } else if (auto glob = scope.redis_glob(environment_); !glob.empty()) {
      result.redis += co_await redis_->erase_matching(glob);
    }
  }
  co_return result;
}

}  // namespace cachecar::invalidation
