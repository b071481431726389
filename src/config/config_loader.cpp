#include "config/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/config_keys.hpp"
#include "config/route_loader.hpp"
#include "config/yaml_reader.hpp"

namespace cachecar::config {
namespace {

void load_log(YamlReader& r, const YAML::Node& node, LogConfig& log) {
  if (!r.expect_map(node, "log")) return;
  r.reject_unknown_keys(node, keys_of("log"), "log");
  if (node["format"]) {
    if (auto v = r.choice<LogFormat>(node["format"], "log.format",
                                     {{"json", LogFormat::json}, {"text", LogFormat::text}}))
      log.format = *v;
  }
  if (node["level"]) {
    using L = std::string;
    if (auto v = r.choice<L>(node["level"], "log.level",
                             {{"trace", "trace"},
                              {"debug", "debug"},
                              {"info", "info"},
                              {"warn", "warn"},
                              {"error", "error"},
                              {"critical", "critical"},
                              {"off", "off"}}))
      log.level = *v;
  }
  if (node["access_sample"]) {
    if (auto v = r.number(node["access_sample"], "log.access_sample", 0.0, 1.0))
      log.access_sample = *v;
  }
}

void load_limits(YamlReader& r, const YAML::Node& node, Limits& limits) {
  if (!r.expect_map(node, "limits")) return;
  r.reject_unknown_keys(node, keys_of("limits"), "limits");
  auto positive_size = [&](const char* key, std::uint64_t& out) {
    if (!node[key]) return;
    std::string name = std::string("limits.") + key;
    if (auto v = r.size(node[key], name)) {
      if (*v == 0)
        r.error(node[key], name + ": must be above 0");
      else
        out = *v;
    }
  };
  auto positive_duration = [&](const char* key, Duration& out) {
    if (!node[key]) return;
    std::string name = std::string("limits.") + key;
    if (auto v = r.duration(node[key], name)) {
      if (v->count() <= 0)
        r.error(node[key], name + ": must be above 0");
      else
        out = *v;
    }
  };
  positive_size("max_header_bytes", limits.max_header_bytes);
  positive_size("max_body_bytes", limits.max_body_bytes);
  positive_duration("header_timeout", limits.header_timeout);
  positive_duration("origin_timeout", limits.origin_timeout);
  positive_duration("origin_idle_timeout", limits.origin_idle_timeout);
}

// A listen address at `node`, or nullopt with the error reported there.
std::optional<HostPort> read_host_port(YamlReader& r, const YAML::Node& node,
                                       const std::string& key) {
  auto text = r.string(node, key);
  if (!text) return std::nullopt;
  std::string reason;
  auto address = parse_host_port(*text, reason);
  if (!address) r.error(node, key + ": " + reason);
  return address;
}

void load_admin(YamlReader& r, const YAML::Node& node, AdminConfig& admin) {
  if (!r.expect_map(node, "admin")) return;
  r.reject_unknown_keys(node, keys_of("admin"), "admin");
  if (node["listen"]) {
    if (auto address = read_host_port(r, node["listen"], "admin.listen")) admin.listen = *address;
  }
  if (node["disclose_keys"]) {
    if (auto v = r.boolean(node["disclose_keys"], "admin.disclose_keys")) admin.disclose_keys = *v;
  }
  if (node["token_env"]) {
    if (auto v = r.string(node["token_env"], "admin.token_env")) admin.token_env = *v;
  }
}

void load_health(YamlReader& r, const YAML::Node& node, HealthConfig& health) {
  if (!r.expect_map(node, "health")) return;
  r.reject_unknown_keys(node, keys_of("health"), "health");
  if (node["listen"]) health.listen = read_host_port(r, node["listen"], "health.listen");
}

void load_memory(YamlReader& r, const YAML::Node& memory, MemoryStoreConfig& out) {
  if (!r.expect_map(memory, "store.memory")) return;
  r.reject_unknown_keys(memory, keys_of("store.memory"), "store.memory");
  if (memory["max_bytes"]) {
    if (auto v = r.size(memory["max_bytes"], "store.memory.max_bytes")) out.max_bytes = *v;
  }
  if (memory["max_entry_bytes"]) {
    if (auto v = r.size(memory["max_entry_bytes"], "store.memory.max_entry_bytes"))
      out.max_entry_bytes = *v;
  }
  if (out.max_entry_bytes > out.max_bytes) {
    r.error(memory, "store.memory.max_entry_bytes (" + format_size(out.max_entry_bytes) +
                        ") is larger than store.memory.max_bytes (" + format_size(out.max_bytes) +
                        ")");
  }
}

// A duration above zero into `out`, or an error at the node.
void positive_duration(YamlReader& r, const YAML::Node& node, const std::string& where,
                       Duration& out) {
  if (auto v = r.duration(node, where)) {
    if (v->count() <= 0)
      r.error(node, where + ": must be above 0");
    else
      out = *v;
  }
}

void load_redis_url(YamlReader& r, const YAML::Node& redis, RedisStoreConfig& out) {
  if (!redis["url"]) {
    r.error(redis, "store.redis.url is required when store.redis is set");
  } else if (auto text = r.string(redis["url"], "store.redis.url")) {
    std::string reason;
    if (auto url = parse_redis_url(*text, reason))
      out.url = *url;
    else
      r.error(redis["url"], "store.redis.url: " + reason);
  }
}

void load_redis_tls(YamlReader& r, const YAML::Node& redis, RedisStoreConfig& out) {
  if (redis["tls_ca_file"]) {
    if (auto v = r.string(redis["tls_ca_file"], "store.redis.tls_ca_file")) out.tls_ca_file = *v;
  }
  if (redis["tls_verify"]) {
    if (auto v = r.boolean(redis["tls_verify"], "store.redis.tls_verify")) out.tls_verify = *v;
  }
  if ((redis["tls_ca_file"] || redis["tls_verify"]) && !out.url.tls) {
    r.error(redis["tls_ca_file"] ? redis["tls_ca_file"] : redis["tls_verify"],
            "store.redis: tls_ca_file and tls_verify apply to rediss:// urls only");
  }
}

void load_store(YamlReader& r, const YAML::Node& node, Config& config) {
  if (!r.expect_map(node, "store")) return;
  r.reject_unknown_keys(node, keys_of("store"), "store");
  if (const auto memory = node["memory"]) load_memory(r, memory, config.memory);
  const auto redis = node["redis"];
  if (!redis || redis.IsNull()) return;
  if (!r.expect_map(redis, "store.redis")) return;
  r.reject_unknown_keys(redis, keys_of("store.redis"), "store.redis");
  RedisStoreConfig out;
  load_redis_url(r, redis, out);
  if (redis["timeout"]) positive_duration(r, redis["timeout"], "store.redis.timeout", out.timeout);
  if (redis["pool"]) {
    if (auto v = r.integer(redis["pool"], "store.redis.pool", 1, 256))
      out.pool = static_cast<int>(*v);
  }
  if (redis["lease_poll"])
    positive_duration(r, redis["lease_poll"], "store.redis.lease_poll", out.lease_poll);
  if (redis["compress"]) {
    if (auto v = r.choice<Compression>(
            redis["compress"], "store.redis.compress",
            {{"zstd", Compression::zstd}, {"lz4", Compression::lz4}, {"none", Compression::none}}))
      out.compress = *v;
  }
  load_redis_tls(r, redis, out);
  config.redis = out;
}

void load_invalidation(YamlReader& r, const YAML::Node& node, InvalidationConfig& inv) {
  if (!r.expect_map(node, "invalidation")) return;
  r.reject_unknown_keys(node, keys_of("invalidation"), "invalidation");
  if (node["channel"]) {
    if (auto v = r.string(node["channel"], "invalidation.channel")) inv.channel = *v;
  }
  if (node["owners"] && r.expect_map(node["owners"], "invalidation.owners")) {
    for (const auto& item : node["owners"]) {
      const std::string entity = item.first.Scalar();
      if (auto owner = r.string(item.second, "invalidation.owners." + entity))
        inv.owners[entity] = *owner;
    }
  }
  if (node["secret_env"]) {
    if (auto v = r.string(node["secret_env"], "invalidation.secret_env")) inv.secret_env = *v;
  }
  if (node["stream"]) {
    if (auto v = r.string(node["stream"], "invalidation.stream")) inv.stream = *v;
  }
  if (node["max_skew"]) {
    if (auto v = r.duration(node["max_skew"], "invalidation.max_skew")) inv.max_skew = *v;
  }
}

void load_forwarding(YamlReader& r, const YAML::Node& root, ForwardingConfig& forwarding) {
  if (const YAML::Node node = root["trusted_proxies"]) {
    if (auto blocks = r.string_list(node, "trusted_proxies", false)) {
      for (std::size_t i = 0; i < blocks->size(); ++i) {
        std::string reason;
        if (auto cidr = parse_cidr((*blocks)[i], reason))
          forwarding.trusted_proxies.push_back(*cidr);
        else
          r.error(node[i], "trusted_proxies: " + reason);
      }
    }
  }
  if (const YAML::Node node = root["allowed_hosts"]) {
    if (auto hosts = r.string_list(node, "allowed_hosts", false)) {
      auto& allowed = forwarding.allowed_hosts.emplace();
      for (std::size_t i = 0; i < hosts->size(); ++i) {
        std::string host = (*hosts)[i];
        std::transform(host.begin(), host.end(), host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string_view name =
            host.rfind("*.", 0) == 0 ? std::string_view(host).substr(2) : std::string_view(host);
        const bool ipv6_literal =
            host.size() > 2 && host.front() == '[' && host.back() == ']' &&
            host.find_first_not_of("0123456789abcdef:.", 1) == host.size() - 1;
        const bool valid =
            host == "*" || ipv6_literal ||
            (!name.empty() && name.find_first_of("*/:@ \t[]") == std::string_view::npos);
        if (!valid) {
          r.error(node[i], "allowed_hosts: '" + (*hosts)[i] +
                               "' is not a host name (no port or path; '*.example.com', '*' and "
                               "'[::1]' are allowed)");
        }
        host.erase(host.find_last_not_of('.') + 1);  // "example.com." names "example.com"
        allowed.push_back(std::move(host));
      }
    }
  }
}

void load_top_level(YamlReader& r, const YAML::Node& root, Config& config) {
  r.reject_unknown_keys(root, keys_of(""), "");
  if (root["listen"]) {
    if (auto address = read_host_port(r, root["listen"], "listen")) config.listen = *address;
  }
  if (root["origin"]) {
    if (auto text = r.string(root["origin"], "origin")) {
      std::string reason;
      if (auto url = parse_origin_url(*text, reason))
        config.origin = *url;
      else
        r.error(root["origin"], "origin: " + reason);
    }
  }
  if (root["environment"]) {
    if (auto v = r.string(root["environment"], "environment")) {
      if (v->empty())
        r.error(root["environment"], "environment: must not be empty");
      else
        config.environment = *v;
    }
  }
  if (root["workers"]) {
    if (auto v = r.integer(root["workers"], "workers", 0, 256))
      config.workers = static_cast<int>(*v);
  }
  if (root["shutdown_grace"]) {
    if (auto v = r.duration(root["shutdown_grace"], "shutdown_grace")) config.shutdown_grace = *v;
  }
  if (root["drain_delay"]) {
    if (auto v = r.duration(root["drain_delay"], "drain_delay")) config.drain_delay = *v;
  }
  if (root["log"]) load_log(r, root["log"], config.log);
  if (root["limits"]) load_limits(r, root["limits"], config.limits);
  if (root["admin"]) load_admin(r, root["admin"], config.admin);
  if (root["health"]) load_health(r, root["health"], config.health);
  load_forwarding(r, root, config.forwarding);
  if (root["store"]) load_store(r, root["store"], config);
  if (root["invalidation"]) load_invalidation(r, root["invalidation"], config.invalidation);

  YAML::Node defaults = root["defaults"];
  if (defaults && !defaults.IsNull() && !r.expect_map(defaults, "defaults"))
    defaults = YAML::Node();
  if (root["routes"] && !root["routes"].IsNull())
    config.routes = load_routes(r, root["routes"], defaults);
}

// SPEC §2: environment variables override the file.
void apply_environment(Config& config, const EnvLookup& env, std::vector<Diagnostic>& errors) {
  auto fail = [&](const std::string& name, const std::string& reason) {
    errors.push_back({0, 0, name + ": " + reason});
  };
  std::string reason;
  if (auto v = env("CACHECAR_LISTEN")) {
    if (auto hp = parse_host_port(*v, reason))
      config.listen = *hp;
    else
      fail("CACHECAR_LISTEN", reason);
  }
  if (auto v = env("CACHECAR_ORIGIN")) {
    if (auto url = parse_origin_url(*v, reason))
      config.origin = *url;
    else
      fail("CACHECAR_ORIGIN", reason);
  }
  if (auto v = env("CACHECAR_REDIS_URL")) {
    if (auto url = parse_redis_url(*v, reason)) {
      if (!config.redis) config.redis.emplace();
      config.redis->url = *url;
    } else {
      fail("CACHECAR_REDIS_URL", reason);
    }
  }
  if (auto v = env("CACHECAR_ADMIN_LISTEN")) {
    if (auto hp = parse_host_port(*v, reason))
      config.admin.listen = *hp;
    else
      fail("CACHECAR_ADMIN_LISTEN", reason);
  }
  if (auto v = env("CACHECAR_HEALTH_LISTEN")) {
    if (*v == "off")
      config.health.listen.reset();
    else if (auto hp = parse_host_port(*v, reason))
      config.health.listen = *hp;
    else
      fail("CACHECAR_HEALTH_LISTEN", reason + " (or 'off')");
  }
  if (auto v = env("CACHECAR_LOG_LEVEL")) config.log.level = *v;
  if (auto v = env(config.admin.token_env)) config.admin.token = *v;
  if (!config.invalidation.secret_env.empty()) {
    if (auto v = env(config.invalidation.secret_env)) config.invalidation.secret = *v;
  }
}

// The node an address came from, for the error's line:col; undefined when
// it came from the environment or a default.
YAML::Node node_at(const YAML::Node& root, const char* section, const char* key) {
  if (!root.IsMap()) return YAML::Node();
  if (section == nullptr) return root[key] ? root[key] : YAML::Node();
  const YAML::Node parent = root[section];
  return parent && parent.IsMap() && parent[key] ? parent[key] : YAML::Node();
}

bool wildcard_host(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "[::]";
}

// Two listeners on one port collide when either takes every address or
// both name the same one (a wildcard bind and a specific one on the same
// port fail with "address in use" at start; say so at load instead).
void check_listeners_apart(const Config& config, const YAML::Node& root, YamlReader& r,
                           std::vector<Diagnostic>& errors) {
  struct Listener {
    const char* name;
    const HostPort* address;
    YAML::Node node;
  };
  std::vector<Listener> listeners = {
      {"listen", &config.listen, node_at(root, nullptr, "listen")},
      {"admin.listen", &config.admin.listen, node_at(root, "admin", "listen")}};
  if (config.health.listen) {
    listeners.push_back(
        {"health.listen", &*config.health.listen, node_at(root, "health", "listen")});
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const HostPort& a = *listeners[i].address;
      const HostPort& b = *listeners[j].address;
      if (a.port != b.port) continue;
      if (a.host != b.host && !wildcard_host(a.host) && !wildcard_host(b.host)) continue;
      std::string message = std::string(listeners[i].name) + ": " + a.to_string() +
                            " takes the port of " + listeners[j].name + " (" + b.to_string() +
                            "); give each listener its own port";
      if (listeners[i].node)
        r.error(listeners[i].node, message);
      else
        errors.push_back({0, 0, message});
    }
  }
}

// Secrets come from the environment at run time; `--check` runs where they
// are not set. What the file will need is listed either way, and missing
// ones are errors only when the server is about to run.
void check_secrets(const Config& config, const YAML::Node& root, LoadPurpose purpose, YamlReader& r,
                   LoadResult& result) {
  const bool admin_exposed = !is_loopback_host(config.admin.listen.host);
  if (admin_exposed) {
    result.runtime_needs.push_back(config.admin.token_env + " (the admin token: admin.listen " +
                                   config.admin.listen.to_string() + " is not a loopback address)");
  } else {
    result.runtime_needs.push_back(
        config.admin.token_env +
        " (optional: the admin token; without it admin calls are open to this host)");
  }
  if (!config.invalidation.secret_env.empty()) {
    result.runtime_needs.push_back(
        config.invalidation.secret_env +
        " (invalidation.secret_env: events are accepted unsigned without it)");
  }
  if (purpose == LoadPurpose::check) return;
  // Without a token the admin endpoint (purge, invalidate, warm) is open to
  // whoever reaches it: then only this host may.
  if (config.admin.token.empty() && admin_exposed) {
    const YAML::Node listen = node_at(root, "admin", "listen");
    std::string message = "admin.listen: " + config.admin.listen.host +
                          " is not a loopback address and " + config.admin.token_env +
                          " is not set; set the token (admin.token_env) or listen on "
                          "127.0.0.1";
    if (listen)
      r.error(listen, message);
    else
      result.errors.push_back({0, 0, message});
  }
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

LoadResult load_config_text(std::string_view yaml, const std::string& source_path,
                            const EnvLookup& env, LoadPurpose purpose) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    result.errors.push_back({e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
    return result;
  }
  Config config;
  config.source_path = source_path;
  YamlReader reader(result.errors);
  if (root.IsNull()) {
    // An empty file is the embedded defaults with no routes: a plain proxy.
  } else if (!root.IsMap()) {
    reader.error(root, "the top level must be a mapping of keys to values");
  } else {
    try {
      load_top_level(reader, root, config);
    } catch (const YAML::Exception& e) {
      result.errors.push_back({e.mark.line + 1, e.mark.column + 1, e.msg});
    }
  }
  apply_environment(config, env, result.errors);
  check_listeners_apart(config, root, reader, result.errors);
  check_secrets(config, root, purpose, reader, result);
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env, LoadPurpose purpose) {
  std::ifstream file(path);
  if (!file) {
    LoadResult result;
    result.errors.push_back({0, 0, "cannot read the config file"});
    return result;
  }
  std::stringstream text;
  text << file.rdbuf();
  return load_config_text(text.str(), path, env, purpose);
}

}  // namespace cachecar::config
