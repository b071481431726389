#include "config/config_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace cachecar::config {
namespace {

using ::testing::HasSubstr;

LoadResult load(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return load_config_text(yaml, "test.yaml",
                          [env](const std::string& name) -> std::optional<std::string> {
                            auto it = env.find(name);
                            if (it == env.end()) return std::nullopt;
                            return it->second;
                          });
}

std::vector<std::string> errors_of(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(format_diagnostic("test.yaml", d));
  return out;
}

TEST(ConfigLoader, EmptyFileIsThePlainProxyDefault) {
  auto r = load("");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->listen.port, 8080);
  EXPECT_EQ(r.config->origin.port, 5000);
  EXPECT_EQ(r.config->memory.max_bytes, 256u * 1024 * 1024);
  EXPECT_FALSE(r.config->redis);
  EXPECT_TRUE(r.config->routes.empty());
}

TEST(ConfigLoader, ShippedConfigsAreValid) {
  for (const char* file : {"config/cachecar.yaml", "config/examples/full.yaml"}) {
    auto r = load_config_file(std::string(CACHECAR_SOURCE_DIR) + "/" + file,
                              [](const std::string&) { return std::nullopt; });
    EXPECT_TRUE(r.config) << file << ": " << ::testing::PrintToString(errors_of(r));
  }
  auto embedded = load(std::string(embedded_default_config()));
  EXPECT_TRUE(embedded.config);
}

TEST(ConfigLoader, ReadsTypedValuesAndDefaults) {
  auto r = load(R"(
listen: 127.0.0.1:18080
environment: staging
limits: { max_header_bytes: 4KiB, origin_timeout: 250ms }
store:
  memory: { max_bytes: 1MiB, max_entry_bytes: 64KiB }
  redis: { url: "redis://u:secret@127.0.0.1:6380/2", timeout: 20ms }
defaults: { ttl_jitter: 10%, ttl: 1m }
routes:
  - name: product
    match: { method: GET, path: "/products/{id:int}" }
    entity: product
    tenant: { header: X-Tenant-Id }
    version: 3
    query: [currency, b]
  - name: product-write
    match: { method: [PUT, DELETE], path: "/products/{id}" }
    mode: write-through
    refreshes: product
)");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  const Config& c = *r.config;
  EXPECT_EQ(c.listen.port, 18080);
  EXPECT_EQ(c.environment, "staging");
  EXPECT_EQ(c.limits.max_header_bytes, 4096u);
  EXPECT_EQ(c.limits.origin_timeout.count(), 250);
  EXPECT_EQ(c.memory.max_entry_bytes, 64u * 1024);
  ASSERT_TRUE(c.redis);
  EXPECT_EQ(c.redis->url.port, 6380);
  EXPECT_EQ(c.redis->url.database, 2);
  EXPECT_EQ(c.redis->url.redacted(), "redis://u:***@127.0.0.1:6380/2");
  ASSERT_EQ(c.routes.size(), 2u);
  const RoutePolicy& p = c.routes[0];
  EXPECT_EQ(p.tenant_header, "X-Tenant-Id");
  EXPECT_EQ(p.version, 3);
  EXPECT_DOUBLE_EQ(p.ttl_jitter, 0.10);  // from defaults
  ASSERT_TRUE(p.ttl);
  EXPECT_EQ(p.ttl->count(), 60'000);  // from defaults
  ASSERT_TRUE(p.query);
  EXPECT_EQ(*p.query, (std::vector<std::string>{"b", "currency"}));  // sorted
  EXPECT_EQ(c.routes[1].mode, RouteMode::write_through);
  EXPECT_EQ(c.routes[1].methods, (std::vector<std::string>{"PUT", "DELETE"}));
}

TEST(ConfigLoader, ForwardingTrustAndHosts) {
  auto r = load(
      "trusted_proxies: [10.0.0.0/8, \"fd00::/8\", 192.168.1.7]\nallowed_hosts: [Catalog, "
      "\"*.shop.example\", \"[::1]\"]\n"
      "admin: { listen: \"[::1]:9901\" }\n");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  const auto& f = r.config->forwarding;
  auto address = [](const char* text) { return boost::asio::ip::make_address(text); };
  EXPECT_TRUE(f.trusts(address("10.1.2.3")));
  EXPECT_TRUE(f.trusts(address("::ffff:10.1.2.3")));
  EXPECT_TRUE(f.trusts(address("fd12::1")));
  EXPECT_TRUE(f.trusts(address("192.168.1.7")));
  EXPECT_FALSE(f.trusts(address("192.168.1.8")));
  EXPECT_FALSE(f.trusts(address("127.0.0.1")));
  EXPECT_TRUE(f.allows_host("catalog"));
  EXPECT_TRUE(f.allows_host("eu.shop.example"));
  EXPECT_FALSE(f.allows_host("shop.example"));
  EXPECT_FALSE(f.allows_host("evil.example"));
  EXPECT_TRUE(f.allows_host("[::1]"));
  auto open = load("listen: 127.0.0.1:1\n");
  ASSERT_TRUE(open.config);
  EXPECT_FALSE(open.config->forwarding.allowed_hosts);
  EXPECT_FALSE(open.config->forwarding.trusts(address("127.0.0.1")));
}

struct BadConfigCase {
  const char* name;
  const char* yaml;
  const char* expected;  // one diagnostic, "LINE:COL: text"
};

class BadConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigTest, ReportsLineColumnAndKey) {
  auto r = load(GetParam().yaml);
  EXPECT_FALSE(r.config);
  EXPECT_THAT(errors_of(r),
              ::testing::Contains(HasSubstr(std::string("test.yaml:") + GetParam().expected)))
      << ::testing::PrintToString(errors_of(r));
}

INSTANTIATE_TEST_SUITE_P(
    Validation, BadConfigTest,
    ::testing::Values(
        BadConfigCase{"syntax", "listen: [1, 2\n", "2:1: YAML syntax"},
        BadConfigCase{"unknown_top_key", "listen: 127.0.0.1:1\nlisten_on: x\n",
                      "2:1: unknown key 'listen_on'"},
        BadConfigCase{"bad_listen", "listen: nowhere\n", "1:9: listen: expected host:port"},
        BadConfigCase{"bad_origin", "origin: https://api:443\n",
                      "1:9: origin: origin must be an http:// URL"},
        BadConfigCase{"bad_duration", "shutdown_grace: 10\n",
                      "1:17: shutdown_grace: duration '10' needs a unit"},
        BadConfigCase{"bad_size", "limits: { max_body_bytes: 8MB }\n",
                      "1:27: limits.max_body_bytes: size '8MB'"},
        BadConfigCase{"unknown_nested", "limits: { max_bodies: 1 }\n",
                      "1:11: unknown key 'limits.max_bodies'"},
        BadConfigCase{"bad_log_format", "log: { format: xml }\n",
                      "1:16: log.format: 'xml' is not one of json | text"},
        BadConfigCase{"workers_range", "workers: -1\n",
                      "1:10: workers: expected a whole number from 0"},
        BadConfigCase{"entry_over_max",
                      "store:\n  memory: { max_bytes: 1KiB, max_entry_bytes: 1MiB }\n",
                      "2:11: store.memory.max_entry_bytes (1MiB) is larger"},
        BadConfigCase{"redis_url", "store:\n  redis: { url: http://x }\n",
                      "2:17: store.redis.url: redis url must"},
        BadConfigCase{"redis_without_url", "store:\n  redis: { pool: 2 }\n",
                      "2:10: store.redis.url is required"},
        BadConfigCase{"lease_poll_zero", "store:\n  redis: { url: redis://h:1, lease_poll: 0s }\n",
                      "2:42: store.redis.lease_poll: must be above 0"},
        BadConfigCase{"tls_keys_without_tls",
                      "store:\n  redis: { url: redis://h:1, tls_verify: false }\n",
                      "2:42: store.redis: tls_ca_file and tls_verify apply to rediss:// urls only"},
        BadConfigCase{"unix_relative", "store:\n  redis: { url: unix://redis.sock }\n",
                      "2:17: store.redis.url: unix socket url needs an absolute path"},
        BadConfigCase{"route_unknown_key",
                      "routes:\n  - name: a\n    match: { path: /a }\n    tll: 5m\n",
                      "4:5: unknown key 'routes[0].tll'"},
        BadConfigCase{"route_missing_match", "routes:\n  - name: a\n",
                      "2:5: routes[0].match is required"},
        BadConfigCase{"route_bad_template",
                      "routes:\n  - name: a\n    match: { path: \"/a/{id:float}\" }\n",
                      "3:20: routes[0].match.path: unknown route constraint 'float'"},
        BadConfigCase{"route_bad_method",
                      "routes:\n  - name: a\n    match: { method: FETCH, path: /a }\n",
                      "3:22: routes[0].match.method: 'FETCH' is not an HTTP method"},
        BadConfigCase{"route_bad_mode",
                      "routes:\n  - name: a\n    match: { path: /a }\n    mode: cache-all\n",
                      "4:11: routes[0].mode: 'cache-all' is not one of"},
        BadConfigCase{"route_bad_ttl",
                      "routes:\n  - name: a\n    match: { path: /a }\n    ttl: forever\n",
                      "4:10: routes[0].ttl: expected a duration"},
        BadConfigCase{"ttl0_with_swr",
                      "routes:\n  - name: a\n    match: { path: /a }\n    ttl: 0s\n    "
                      "stale_while_revalidate: 30s\n",
                      "4:10: routes[0].ttl: 0 with stale_while_revalidate"},
        BadConfigCase{
            "swr_mode_without_window",
            "routes:\n  - name: a\n    match: { path: /a }\n    mode: stale-while-revalidate\n",
            "2:5: routes[0]: mode stale-while-revalidate needs 'stale_while_revalidate: DURATION'"},
        BadConfigCase{"warm_bypass_route",
                      "routes:\n  - name: a\n    match: { path: \"/a/{id}\" }\n    mode: bypass\n  "
                      "  warm: [/a/1]\n",
                      "5:11: routes[0].warm: a bypass route caches nothing to warm"},
        BadConfigCase{"open_admin_without_token", "admin: { listen: 0.0.0.0:9901 }\n",
                      "1:18: admin.listen: 0.0.0.0 is not a loopback address and "
                      "CACHECAR_ADMIN_TOKEN is not set"},
        // Issue 10, finding 12: a name that starts "127." is no loopback address.
        BadConfigCase{"loopback_lookalike_name", "admin: { listen: 127.example.com:9901 }\n",
                      "1:18: admin.listen: 127.example.com is not a loopback address"},
        BadConfigCase{"bad_trusted_proxy", "trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n",
                      "1:31: trusted_proxies: prefix length 33 is longer than 32"},
        BadConfigCase{"trusted_proxy_name", "trusted_proxies: [ingress.local]\n",
                      "1:19: trusted_proxies: 'ingress.local' is not an IP address"},
        BadConfigCase{"allowed_host_with_port", "allowed_hosts: [catalog, \"catalog:8080\"]\n",
                      "1:26: allowed_hosts: 'catalog:8080' is not a host name"},
        BadConfigCase{"bad_jitter",
                      "routes:\n  - name: a\n    match: { path: /a }\n    ttl_jitter: 150%\n",
                      "4:17: routes[0].ttl_jitter: percentage '150%' is over 100%"},
        BadConfigCase{"bad_default",
                      "defaults: { ttl: soon }\nroutes:\n  - name: a\n    match: { path: /a }\n",
                      "1:18: routes[0].ttl: expected a duration"},
        BadConfigCase{"unknown_default", "defaults: { colour: red }\nroutes: []\n",
                      "1:13: unknown key 'defaults.colour'"},
        BadConfigCase{
            "duplicate_name",
            "routes:\n  - name: a\n    match: { path: /a }\n  - name: a\n    match: { path: /b }\n",
            "4:11: routes[1].name: 'a' is already used"},
        BadConfigCase{
            "overlap_identical",
            "routes:\n  - name: a\n    match: { path: \"/p/{id}\" }\n  - name: b\n    match: { "
            "path: \"/p/{x}\" }\n",
            "5:20: route 'b' (/p/{x}) overlaps route 'a' (/p/{id}) and neither is more specific"},
        BadConfigCase{"overlap_ambiguous",
                      "routes:\n  - name: a\n    match: { path: \"/a/{x}\" }\n  - name: b\n    "
                      "match: { path: \"/{y}/b\" }\n",
                      "5:20: route 'b' (/{y}/b) overlaps route 'a'"},
        BadConfigCase{
            "write_through_without_refreshes",
            "routes:\n  - name: w\n    match: { method: PUT, path: /a }\n    mode: write-through\n",
            "2:5: routes[0]: mode write-through needs 'refreshes"},
        BadConfigCase{
            "refreshes_unknown",
            "routes:\n  - name: w\n    match: { method: PUT, path: /a }\n    mode: write-through\n"
            "    refreshes: nope\n",
            "5:16: route 'w' refreshes 'nope', which is not a route"},
        BadConfigCase{"variable_not_in_path",
                      "routes:\n  - name: r\n    match: { method: GET, path: \"/p/{id}\" }\n"
                      "  - name: w\n    match: { method: PUT, path: /p }\n    mode: "
                      "write-through\n    refreshes: r\n",
                      "5:33: template variable {id} of route 'r' is not in the path of 'w'"},
        BadConfigCase{
            "warm_outside_route",
            "routes:\n  - name: r\n    match: { path: \"/p/{id:int}\" }\n    warm: [/p/abc]\n",
            "4:11: routes[0].warm: '/p/abc' does not match"},
        BadConfigCase{"tenant_shape",
                      "routes:\n  - name: r\n    match: { path: /p }\n    tenant: X-Tenant\n",
                      "4:13: routes[0].tenant: expected a mapping"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigLoader, RedisUrlsForTlsAndUnixSockets) {
  auto tls = load(
      "store:\n  redis: { url: \"rediss://u:p@cache.internal:6380/1\", tls_ca_file: /etc/ca.pem "
      "}\n");
  ASSERT_TRUE(tls.config) << ::testing::PrintToString(errors_of(tls));
  EXPECT_TRUE(tls.config->redis->url.tls);
  EXPECT_EQ(tls.config->redis->tls_ca_file, "/etc/ca.pem");
  EXPECT_TRUE(tls.config->redis->tls_verify);
  auto unix_socket = load("store:\n  redis: { url: \"unix:///run/redis/redis.sock?db=3\" }\n");
  ASSERT_TRUE(unix_socket.config) << ::testing::PrintToString(errors_of(unix_socket));
  EXPECT_EQ(unix_socket.config->redis->url.unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(unix_socket.config->redis->url.database, 3);
}

TEST(ConfigLoader, ReportsEveryProblemInOneRun) {
  auto r = load("listen: nowhere\nworkers: many\nlog: { format: xml }\n");
  EXPECT_EQ(r.errors.size(), 3u) << ::testing::PrintToString(errors_of(r));
}

TEST(ConfigLoader, EnvironmentOverridesTheFile) {
  auto r = load("listen: 127.0.0.1:1\nadmin: { token_env: MY_TOKEN }\n",
                {{"CACHECAR_LISTEN", "127.0.0.1:2"},
                 {"CACHECAR_ORIGIN", "http://127.0.0.1:3"},
                 {"CACHECAR_REDIS_URL", "redis://127.0.0.1:4/0"},
                 {"CACHECAR_LOG_LEVEL", "debug"},
                 {"MY_TOKEN", "s3cret"}});
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->listen.port, 2);
  EXPECT_EQ(r.config->origin.port, 3);
  ASSERT_TRUE(r.config->redis);
  EXPECT_EQ(r.config->redis->url.port, 4);
  EXPECT_EQ(r.config->log.level, "debug");
  EXPECT_EQ(r.config->admin.token, "s3cret");
}

TEST(ConfigLoader, ProbeListenerIsOffUnlessSet) {
  auto unset = load("");
  ASSERT_TRUE(unset.config);
  EXPECT_FALSE(unset.config->health.listen);
  auto set = load("health: { listen: 0.0.0.0:9902 }\n");
  ASSERT_TRUE(set.config) << ::testing::PrintToString(errors_of(set));
  EXPECT_EQ(set.config->health.listen->to_string(), "0.0.0.0:9902");
  auto bad = load("health: { listen: nowhere, port: 1 }\n");
  EXPECT_THAT(errors_of(bad),
              ::testing::Contains(HasSubstr("1:19: health.listen: expected host:port")));
  EXPECT_THAT(errors_of(bad), ::testing::Contains(HasSubstr("unknown key 'health.port'")));
}

TEST(ConfigLoader, ListenerAddressesComeFromTheEnvironmentToo) {
  auto r = load("health: { listen: 0.0.0.0:9902 }\n", {{"CACHECAR_ADMIN_LISTEN", "127.0.0.1:7001"},
                                                       {"CACHECAR_HEALTH_LISTEN", "0.0.0.0:7002"}});
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->admin.listen.to_string(), "127.0.0.1:7001");
  EXPECT_EQ(r.config->health.listen->to_string(), "0.0.0.0:7002");
  auto off = load("health: { listen: 0.0.0.0:9902 }\n", {{"CACHECAR_HEALTH_LISTEN", "off"}});
  ASSERT_TRUE(off.config);
  EXPECT_FALSE(off.config->health.listen);
  auto exposed = load("", {{"CACHECAR_ADMIN_LISTEN", "0.0.0.0:9901"}});
  EXPECT_THAT(errors_of(exposed),
              ::testing::Contains(HasSubstr("admin.listen: 0.0.0.0 is not a loopback address")));
  auto bad = load("", {{"CACHECAR_HEALTH_LISTEN", "everywhere"}});
  EXPECT_THAT(errors_of(bad),
              ::testing::Contains(HasSubstr("CACHECAR_HEALTH_LISTEN: expected host:port")));
}

TEST(ConfigLoader, ListenersThatWouldShareAPortAreRejected) {
  EXPECT_THAT(errors_of(load("listen: 0.0.0.0:9000\nadmin: { listen: 127.0.0.1:9000 }\n")),
              ::testing::Contains(
                  HasSubstr("2:18: admin.listen: 127.0.0.1:9000 takes the port of listen")));
  EXPECT_THAT(errors_of(load("health: { listen: 127.0.0.1:9901 }\n")),
              ::testing::Contains(
                  HasSubstr("health.listen: 127.0.0.1:9901 takes the port of admin.listen")));
  // Different addresses of loopback may share a port number.
  EXPECT_TRUE(load("listen: 127.0.0.2:9901\n").config);
}

TEST(ConfigLoader, ACheckNeedsNoSecretsButListsThem) {
  const std::string yaml =
      "admin: { listen: 0.0.0.0:9901 }\ninvalidation: { secret_env: BUS_SECRET }\n";
  auto run = load(yaml);
  EXPECT_FALSE(run.config);
  auto check = load_config_text(
      yaml, "test.yaml", [](const std::string&) { return std::nullopt; }, LoadPurpose::check);
  ASSERT_TRUE(check.config) << ::testing::PrintToString(errors_of(check));
  EXPECT_THAT(check.runtime_needs,
              ::testing::ElementsAre(HasSubstr("CACHECAR_ADMIN_TOKEN (the admin token"),
                                     HasSubstr("BUS_SECRET (invalidation.secret_env")));
}

TEST(ConfigLoader, BadEnvironmentOverrideIsAnError) {
  auto r = load("", {{"CACHECAR_LISTEN", "nowhere"}});
  EXPECT_FALSE(r.config);
  EXPECT_THAT(errors_of(r), ::testing::Contains(HasSubstr("CACHECAR_LISTEN: expected host:port")));
}

}  // namespace
}  // namespace cachecar::config
