// The JSON documents the admin endpoint returns, built from the runtime.
// Pure functions of their inputs; no I/O.
#pragma once

#include "proxy/runtime.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachecar::admin {

nlohmann::json stats_view(const proxy::Runtime& runtime);
nlohmann::json routes_view(const proxy::Runtime& runtime);

// GET /admin/keys/explain: the key a request would get, and why.
// `headers` are "Name: Value" pairs given as header=Name:Value.
nlohmann::json explain_view(const proxy::Runtime& runtime, std::string_view method, std::string_view target,
                            const std::vector<std::pair<std::string, std::string>>& headers);

// POST /admin/purge with {"key"} | {"prefix"} | {"tag"} | {"entity", "id"[, "tenant"]}.
struct PurgeTarget {
  enum class Kind { key, prefix, tag, entity } kind = Kind::key;
  std::string value;  // the key, prefix, tag or entity
  std::optional<std::string> id;
  std::optional<std::string> tenant;
};
// nullopt with `error` set when the body names no valid target.
std::optional<PurgeTarget> parse_purge(const nlohmann::json& body, std::string& error);
std::uint64_t purge_memory(store::MemoryTier& memory, const PurgeTarget& target);
// The Redis glob (over un-namespaced keys) that covers an entity target.
// It may match a few keys more than the target, never fewer.
std::string entity_glob(std::string_view environment, const PurgeTarget& target);

// Percent-decodes a query component ('+' is a space).
std::string url_decode(std::string_view text);

}  // namespace cachecar::admin
