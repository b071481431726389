// The configuration as plain, validated values (SPEC §3). Built once by the
// loader; a running server only ever reads it through an immutable snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/addresses.hpp"
#include "config/route_template.hpp"
#include "config/units.hpp"

namespace cachecar::config {

enum class RouteMode { cache_aside, stale_while_revalidate, write_through, bypass };
enum class OriginCacheControl { respect, ignore };
enum class EarlyRefresh { off, probabilistic };
enum class RefreshFrom { refetch, response };
enum class OnCacheError { invalidate, ignore };
enum class LogFormat { json, text };
enum class Compression { zstd, lz4, none };

const char* to_string(RouteMode mode);

struct RoutePolicy {
  std::string name;
  std::vector<std::string> methods;  // upper case; empty = every method
  RouteTemplate path;
  RouteMode mode = RouteMode::cache_aside;
  std::string entity;         // empty: the route name is the key's entity segment
  std::string tenant_header;  // empty: the route is not tenant-scoped
  int version = 1;
  std::optional<Duration> ttl;
  OriginCacheControl origin_cache_control = OriginCacheControl::respect;
  double ttl_jitter = 0;  // fraction of the lifetime, 0..1
  Duration stale_while_revalidate{0};
  Duration stale_if_error{0};
  std::optional<Duration> max_stale;
  std::optional<std::vector<std::string>> query;  // nullopt: the whole query string
  std::vector<std::string> vary;                  // request header names
  std::vector<std::string> tags;
  std::vector<std::string> warm;
  std::optional<double> rebuild_rate;  // per second
  EarlyRefresh early_refresh = EarlyRefresh::off;
  bool coalesce = true;
  std::string refreshes;
  RefreshFrom refresh_from = RefreshFrom::refetch;
  OnCacheError on_cache_error = OnCacheError::invalidate;

  bool allows_method(std::string_view method) const;
  const std::string& key_entity() const { return entity.empty() ? name : entity; }
};

struct LogConfig {
  LogFormat format = LogFormat::json;
  std::string level = "info";
  double access_sample = 0;
};

struct Limits {
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 8 * 1024 * 1024;
  Duration header_timeout{10'000};
  Duration origin_timeout{5'000};  // request sent -> response head
  // Longest silence inside a response body (streams and slow bodies are
  // not cut off while bytes keep coming).
  Duration origin_idle_timeout{60'000};
};

struct AdminConfig {
  HostPort listen{"127.0.0.1", 9901};
  std::string token_env = "CACHECAR_ADMIN_TOKEN";
  std::string token;           // resolved from token_env at load time; empty = no token
  bool disclose_keys = false;  // Cache-Status carries key="..." (RFC 9211): for debugging only
};

// The probe listener: GET /healthz, /readyz and /metrics only, read-only and
// never behind the token, for kubelet and Prometheus, which connect to the
// pod IP. nullopt: no probe listener (the admin listener serves them too).
struct HealthConfig {
  std::optional<HostPort> listen;
};

struct MemoryStoreConfig {
  std::uint64_t max_bytes = 256ull * 1024 * 1024;
  std::uint64_t max_entry_bytes = 1024 * 1024;
};

struct RedisStoreConfig {
  RedisUrl url;
  Duration timeout{50};
  int pool = 4;
  Compression compress = Compression::zstd;
  std::string tls_ca_file;  // rediss:// only; empty: the system's trust store
  bool tls_verify = true;
  // How often a fleet-lease loser looks for the holder's fill when no
  // release announcement has woken it (the bus down, the holder dead).
  Duration lease_poll{50};
};

struct InvalidationConfig {
  std::string channel = "cachecar:invalidate";
  std::map<std::string, std::string> owners;  // entity -> owning source
  std::string secret_env;
  std::string secret;  // resolved from secret_env at load; empty: signatures not required
  std::string stream;
  Duration max_skew{5 * 60'000};
};

// Whose word cachecar takes for where a request came from and what it was
// called (docs/http-semantics.md, "What the origin receives").
struct ForwardingConfig {
  // Peers whose X-Forwarded-For/-Proto/-Host are believed; every other
  // peer's are replaced by what cachecar saw.
  std::vector<Cidr> trusted_proxies;
  // Host names (lower case, no port; "*.example.com" and "*" allowed) that
  // serve one and the same content: requests naming another host are never
  // cached. nullopt: every host is its own, and the host enters the key.
  std::optional<std::vector<std::string>> allowed_hosts;

  bool trusts(const boost::asio::ip::address& peer) const {
    for (const auto& block : trusted_proxies) {
      if (block.contains(peer)) return true;
    }
    return false;
  }
  // `host` without its port, in any case.
  bool allows_host(std::string_view host) const;
};

struct Config {
  std::string source_path;  // the file it came from, or "<embedded default>"
  HostPort listen{"0.0.0.0", 8080};
  OriginUrl origin{"127.0.0.1", 5000};
  std::string environment = "prod";
  int workers = 0;
  Duration shutdown_grace{10'000};
  Duration drain_delay{5'000};
  LogConfig log;
  Limits limits;
  ForwardingConfig forwarding;
  AdminConfig admin;
  HealthConfig health;
  MemoryStoreConfig memory;
  std::optional<RedisStoreConfig> redis;
  InvalidationConfig invalidation;
  std::vector<RoutePolicy> routes;
};

}  // namespace cachecar::config
