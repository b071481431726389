#include "invalidation/scope.hpp"

#include <algorithm>

#include "cache/key_builder.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::invalidation {

namespace {

// The third ':'-separated segment of a key (SPEC §4: the entity).
std::string_view entity_segment(std::string_view key) {
  for (int skip = 0; skip < 2; ++skip) {
    auto colon = key.find(':');
    if (colon == std::string_view::npos) return {};
    key.remove_prefix(colon + 1);
  }
  return key.substr(0, key.find(':'));
}

}  // namespace

bool Scope::covers(std::string_view k, const std::vector<std::string>& entry_tags) const {
  if (key && *key == k) return true;
  if (prefix && k.substr(0, prefix->size()) == *prefix) return true;
  if (entity && entity_segment(k) == *entity) return true;
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& tag) {
    return std::find(entry_tags.begin(), entry_tags.end(), tag) != entry_tags.end();
  });
}

std::string Scope::redis_glob(std::string_view environment) const {
  using store::RedisTier;
  if (key) return RedisTier::escape_glob(*key);
  if (prefix) return RedisTier::escape_glob(*prefix) + "*";
  if (!entity) return {};
  return RedisTier::escape_glob(cache::encode_key_segment(environment)) +
         ":*:" + RedisTier::escape_glob(*entity) + ":*";
}

std::string Scope::describe() const {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (key) add("key " + *key);
  if (prefix) add("prefix " + *prefix);
  if (entity) add("entity " + *entity);
  for (const auto& tag : tags) add("tag " + tag);
  return out;
}

Scope entity_scope(std::string_view environment, std::string_view entity,
                   const std::optional<std::string>& id, const std::optional<std::string>& tenant) {
  Scope scope;
  if (id) {
    scope.tags = cache::identity_tags(environment, entity, *id, tenant);
  } else {
    // Every id: matched on the entity segment, for every tenant (a wider
    // purge than asked when a tenant is given; never a narrower one).
    scope.entity = cache::encode_key_segment(entity);
  }
  return scope;
}

Scope scope_of(const Event& event, std::string_view environment) {
  Scope scope;
  if (event.type != EventType::tag_purged)
    scope = entity_scope(environment, event.entity, event.id, event.tenant);
  scope.tags.insert(scope.tags.end(), event.tags.begin(), event.tags.end());
  return scope;
}

}  // namespace cachecar::invalidation
