#include "config/config_keys.hpp"

#include <stdexcept>
#include <string>

namespace cachecar::config {

const std::vector<ConfigSection>& config_sections() {
  static const std::vector<ConfigSection> sections = {
      {"",
       {"listen", "origin", "environment", "workers", "shutdown_grace", "drain_delay", "log",
        "limits", "admin", "health", "store", "invalidation", "defaults", "routes",
        "trusted_proxies", "allowed_hosts"}},
      {"log", {"format", "level", "access_sample"}},
      {"limits",
       {"max_header_bytes", "max_body_bytes", "header_timeout", "origin_timeout",
        "origin_idle_timeout"}},
      {"admin", {"listen", "token_env", "disclose_keys"}},
      {"health", {"listen"}},
      {"store", {"memory", "redis"}},
      {"store.memory", {"max_bytes", "max_entry_bytes"}},
      {"store.redis",
       {"url", "timeout", "pool", "compress", "tls_ca_file", "tls_verify", "lease_poll"}},
      {"invalidation", {"channel", "owners", "secret_env", "stream", "max_skew"}},
      {"policy",
       {"mode",
        "entity",
        "tenant",
        "version",
        "ttl",
        "origin_cache_control",
        "ttl_jitter",
        "stale_while_revalidate",
        "stale_if_error",
        "max_stale",
        "query",
        "vary",
        "tags",
        "warm",
        "rebuild_rate",
        "early_refresh",
        "coalesce",
        "refreshes",
        "refresh_from",
        "on_cache_error"}},
      {"policy.tenant", {"header"}},
      // Each route: these two, plus every "policy" key.
      {"routes[]", {"name", "match"}},
      {"routes[].match", {"method", "path"}},
  };
  return sections;
}

const std::vector<std::string_view>& keys_of(std::string_view path) {
  for (const auto& section : config_sections()) {
    if (section.path == path) return section.keys;
  }
  throw std::logic_error("no config section '" + std::string(path) + "'");
}

}  // namespace cachecar::config
