// The JSON documents the admin endpoint returns, built from the runtime.
// Pure functions of their inputs; no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "invalidation/scope.hpp"
#include "proxy/runtime.hpp"

namespace cachecar::admin {

nlohmann::json stats_view(const proxy::Runtime& runtime);
nlohmann::json routes_view(const proxy::Runtime& runtime);
// GET /admin/config: the effective config (file, defaults and environment
// overrides applied); secrets only say whether they are set.
nlohmann::json config_view(const proxy::Runtime& runtime);

// GET /admin/keys/explain: the key a request would get, and why.
// `headers` are "Name: Value" pairs given as header=Name:Value.
nlohmann::json explain_view(const proxy::Runtime& runtime, std::string_view method,
                            std::string_view target,
                            const std::vector<std::pair<std::string, std::string>>& headers);

// POST /admin/purge with {"key"} | {"prefix"} | {"tag"} | {"entity"[, "id"][, "tenant"]}:
// the scope to invalidate, or nullopt with `error` set.
std::optional<invalidation::Scope> parse_purge(const nlohmann::json& body,
                                               std::string_view environment, std::string& error);

// GET /admin/entries/{key}: what the memory tier and Redis hold under `key`
// (either may be null); nullopt when neither holds anything.
std::optional<nlohmann::json> entry_view(const std::string& key, const store::EntryPtr& in_memory,
                                         const store::EntryPtr& in_redis,
                                         store::Clock::time_point now);

// Percent-decodes a query component ('+' is a space unless `plus_is_space`
// is false, as in a path).
std::string url_decode(std::string_view text, bool plus_is_space = true);

}  // namespace cachecar::admin
