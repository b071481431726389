// The shared Redis tier end to end: two cachecar processes share one real
// redis-server; Redis failing never fails a client request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string config_for(const RedisServer& redis, const std::string& ca_file = {}) {
  std::string tls = ca_file.empty() ? "" : ", tls_ca_file: \"" + ca_file + "\"";
  return std::string(kTestBase) + "store:\n  redis: { url: \"" + redis.url() +
         "\", timeout: 100ms, pool: 2" + tls + " }\n" +
         "invalidation:\n  owners: { product: catalog-service }\n" +
         R"(routes:
  - name: product
    match: { method: [GET, HEAD], path: "/products/{id:int}" }
    entity: product
    ttl: 5m
  - name: profile
    match: { method: GET, path: "/users/{id}/profile" }
    entity: user-profile
    tenant: { header: X-Tenant-Id }
    ttl: 5m
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";
}

class SharedRedisTest : public ::testing::Test {
 protected:
  RedisServer redis_;
  Origin origin_;
  Cachecar a_{origin_.port(), config_for(redis_)};
  Cachecar b_{origin_.port(), config_for(redis_)};
};

TEST_F(SharedRedisTest, AFillThroughOneIsARedisHitThroughTheOther) {
  EXPECT_EQ(a_.get("/products/11").header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto from_redis = b_.get("/products/11");
  EXPECT_THAT(from_redis.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_THAT(from_redis.header("Cache-Status"), HasSubstr("detail=redis"));
  // Promoted: the next one is served from B's own memory.
  auto from_memory = b_.get("/products/11");
  EXPECT_THAT(from_memory.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_THAT(from_memory.header("Cache-Status"), ::testing::Not(HasSubstr("redis")));
  EXPECT_EQ(from_redis.body, from_memory.body);
  EXPECT_EQ(origin_.count("/products/11"), 1u);
  auto stats = json::parse(b_.admin("GET", "/admin/stats").body);
  EXPECT_EQ(stats["tiers"]["redis"]["hits"], 1);
}

TEST(SharedRedisExpiry, AnEntryExpiredInMemoryIsRenewedFromAPeersFreshCopy) {
  RedisServer redis;
  Origin origin;
  std::string config = config_for(redis);
  config.replace(config.find("  - name: knobs"), 0,
                 "  - name: brief\n    match: { path: \"/t/brief/{*rest}\" }\n    ttl: 300ms\n    "
                 "ttl_jitter: 0%\n");
  Cachecar a(origin.port(), config);
  Cachecar b(origin.port(), config);
  b.get("/t/brief/x");  // B holds it in memory; it will expire there
  // Wait until B's copy has expired, then let A fetch a fresh one (it goes to Redis too).
  HttpResponse refill;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    refill = a.get("/t/brief/x");
  } while (refill.header("Cache-Status").find("stored") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_THAT(refill.header("Cache-Status"), HasSubstr("stored"));
  auto renewed = b.get("/t/brief/x");
  EXPECT_THAT(renewed.header("Cache-Status"), HasSubstr("detail=redis"));
  EXPECT_EQ(origin.count("/t/brief/x"), 2u) << "B renewed from Redis, not from the origin";
}

TEST_F(SharedRedisTest, RedisRoundTripsAreInTheLatencyHistogram) {
  auto count = [&] { return b_.metric("cachecar_redis_command_duration_seconds_count"); };
  const auto before = count();
  ASSERT_NE(before, ~0ull);
  a_.get("/products/61");
  ASSERT_THAT(b_.get("/products/61").header("Cache-Status"), HasSubstr("detail=redis"));
  EXPECT_GE(count(), before + 1) << "B's GET from Redis is a timed round trip";
}

TEST_F(SharedRedisTest, LargeBodiesTravelThroughRedisIntact) {
  auto filled = a_.get("/t/large?size=200000");
  ASSERT_EQ(filled.header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto shared = b_.get("/t/large?size=200000");
  EXPECT_THAT(shared.header("Cache-Status"), HasSubstr("detail=redis"));
  EXPECT_EQ(shared.body, filled.body);
}

TEST_F(SharedRedisTest, TenantsStayIsolatedInTheSharedTier) {
  a_.get("/users/3/profile", {{"X-Tenant-Id", "acme"}});
  auto other = b_.get("/users/3/profile", {{"X-Tenant-Id", "globex"}});
  EXPECT_EQ(other.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(json::parse(other.body)["tenant"], "globex");
}

TEST_F(SharedRedisTest, PurgeReachesTheSharedTier) {
  for (const char* target : {"/products/12", "/products/13", "/products/14"}) a_.get(target);
  // An entry purged only from memory would come straight back from Redis.
  auto by_key =
      json::parse(a_.admin("POST", "/admin/purge", R"({"key": "prod:-:product:12:-:v1"})").body);
  EXPECT_EQ(by_key["purged"], 1);
  EXPECT_EQ(by_key["purged_redis"], 1);
  auto by_entity =
      json::parse(a_.admin("POST", "/admin/purge", R"({"entity": "product", "id": "13"})").body);
  EXPECT_EQ(by_entity["purged"], 1);
  EXPECT_EQ(by_entity["purged_redis"], 1);
  EXPECT_EQ(b_.get("/products/12").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(b_.get("/products/13").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(b_.get("/products/14").header("Cache-Status"), HasSubstr("detail=redis"));
}

TEST_F(SharedRedisTest, ReadinessShowsRedis) {
  EXPECT_EQ(json::parse(a_.admin("GET", "/readyz").body)["redis"], "ok");
}

// Sends `count` requests on fresh keys and returns how many failed.
int failed_requests(Cachecar& cachecar, const std::string& prefix, int count) {
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    auto r = cachecar.get("/t/" + prefix + std::to_string(i % 10));
    if (r.status != 200) ++failed;
  }
  return failed;
}

TEST(RedisFailOpen, KilledRedisCostsNoClientRequestAndIsUsedAgainOnReturn) {
  RedisServer redis;
  Origin origin;
  Cachecar a(origin.port(), config_for(redis));
  Cachecar b(origin.port(), config_for(redis));
  EXPECT_EQ(failed_requests(a, "before", 20), 0);
  redis.kill();
  EXPECT_EQ(failed_requests(a, "down", 50), 0);
  EXPECT_EQ(failed_requests(b, "down", 50), 0);
  auto ready = json::parse(a.admin("GET", "/readyz").body);
  EXPECT_EQ(ready["ready"], true);
  EXPECT_EQ(ready["redis"], "degraded");
  redis.restart();
  // Within 2 s a fill through A is a Redis hit through B again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool shared = false;
  for (int i = 0; !shared && std::chrono::steady_clock::now() < deadline; ++i) {
    std::string target = "/t/back" + std::to_string(i);
    a.get(target);
    shared = b.get(target).header("Cache-Status").find("detail=redis") != std::string::npos;
    if (!shared) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(shared) << "Redis was not used again within 2 s of its return";
}

TEST(RedisFailOpen, PausedRedisCostsNoClientRequestAndBoundedDelay) {
  RedisServer redis;
  Origin origin;
  Cachecar cachecar(origin.port(), config_for(redis));
  EXPECT_EQ(failed_requests(cachecar, "warm", 10), 0);
  redis.pause();
  auto started = std::chrono::steady_clock::now();
  int failed = failed_requests(cachecar, "paused", 100);
  auto took = std::chrono::steady_clock::now() - started;
  redis.resume();
  EXPECT_EQ(failed, 0);
  // 100 requests, each with up to three Redis calls of a 100 ms timeout:
  // without the breaker this takes 10 s to 30 s. With it, a few timeouts a
  // second; 6 s leaves room for a loaded machine and still tells them apart.
  EXPECT_LT(took, std::chrono::seconds(6));
  // Resumed: within 2 s fills reach Redis again.
  auto stores = [&] {
    return json::parse(cachecar.admin("GET", "/admin/stats").body)["tiers"]["redis"]["stores"];
  };
  auto before = stores().get<int>();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int i = 0;
  while (stores().get<int>() == before && std::chrono::steady_clock::now() < deadline) {
    cachecar.get("/t/resumed" + std::to_string(i++));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(stores().get<int>(), before) << "Redis was not used again within 2 s of resuming";
}

TEST(RedisTls, TheSharedTierAndTheBusWorkOverTls) {
  RedisServer redis(RedisServer::Transport::tls);
  Origin origin;
  Cachecar a(origin.port(), config_for(redis, redis.ca_file()));
  Cachecar b(origin.port(), config_for(redis, redis.ca_file()));
  EXPECT_EQ(a.get("/products/21").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(b.get("/products/21").header("Cache-Status"), HasSubstr("detail=redis"));
  EXPECT_EQ(json::parse(a.admin("GET", "/readyz").body)["redis"], "ok");
  // The bus over TLS: an event published through A's admin reaches B.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (json::parse(b.admin("GET", "/admin/stats").body)["bus"]["subscribed"] != true &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto published = a.admin(
      "POST", "/admin/invalidate",
      R"({"type":"entity-updated","entity":"product","id":"21","source":"catalog-service"})");
  EXPECT_EQ(json::parse(published.body)["published"], 2) << published.body;
  while (json::parse(b.admin("GET", "/admin/stats").body)["bus"]["applied"] != 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(b.get("/products/21").header("Cache-Status"), "cachecar; fwd=miss; stored");
}

TEST(RedisTls, AnUntrustedServerIsNotUsedAndNothingFails) {
  RedisServer redis(RedisServer::Transport::tls);
  Origin origin;
  Cachecar a(origin.port(), config_for(redis, redis.other_ca_file()));
  Cachecar b(origin.port(), config_for(redis, redis.other_ca_file()));
  EXPECT_EQ(failed_requests(a, "untrusted", 20), 0);
  a.get("/products/22");
  EXPECT_EQ(b.get("/products/22").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(json::parse(a.admin("GET", "/readyz").body)["redis"], "degraded");
}

TEST(RedisUnixSocket, TheSharedTierWorksOverAUnixSocket) {
  RedisServer redis(RedisServer::Transport::unix_socket);
  Origin origin;
  Cachecar a(origin.port(), config_for(redis));
  Cachecar b(origin.port(), config_for(redis));
  a.get("/products/23");
  EXPECT_THAT(b.get("/products/23").header("Cache-Status"), HasSubstr("detail=redis"));
}

}  // namespace
}  // namespace cachecar::testing
