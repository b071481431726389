// Cache-aside end to end: the real binary in front of the demo origin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <set>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kRoutes = std::string(kTestBase) + R"(
routes:
  - name: product
    match: { method: [GET, HEAD], path: "/products/{id:int}" }
    entity: product
    ttl: 5m
  - name: profile
    match: { method: [GET, HEAD], path: "/users/{id}/profile" }
    entity: user-profile
    tenant: { header: X-Tenant-Id }
    ttl: 5m
  - name: short
    match: { path: "/t/short/{*rest}" }
    ttl: 300ms
  - name: jitter
    match: { path: "/t/jitter/{*rest}" }
    ttl: 100s
    ttl_jitter: 50%
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";

class CacheAsideTest : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kRoutes};
};

long long ttl_of(const HttpResponse& r) {
  auto status = r.header("Cache-Status");
  auto at = status.find("ttl=");
  return at == std::string::npos ? -1 : std::stoll(status.substr(at + 4));
}

TEST_F(CacheAsideTest, MissThenHitAndTheOriginSeesOneRequest) {
  auto first = cachecar_.get("/products/7");
  ASSERT_EQ(first.status, 200) << first.error;
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(first.header("Age"), "0");
  auto second = cachecar_.get("/products/7");
  EXPECT_EQ(second.status, 200);
  EXPECT_THAT(second.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_GE(ttl_of(second), 299);
  EXPECT_TRUE(second.has_header("Age"));
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("ETag"), first.header("ETag"));
  EXPECT_EQ(origin_.count("/products/7"), 1u);
}

TEST_F(CacheAsideTest, ExpiredEntryIsRefetched) {
  EXPECT_EQ(cachecar_.get("/t/short/a").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(cachecar_.get("/t/short/a").header("Cache-Status"), StartsWith("cachecar; hit"));
  // Poll until the 300ms lifetime runs out; every request before then is a hit.
  HttpResponse after;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    after = cachecar_.get("/t/short/a");
  } while (after.header("Cache-Status").find("hit") != std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.header("Cache-Status"), "cachecar; fwd=stale; stored");
  EXPECT_EQ(origin_.count("/t/short/a"), 2u);
  EXPECT_THAT(after.body, HasSubstr("count=2"));
}

TEST_F(CacheAsideTest, JitterSpreadsExpiryWithinItsBound) {
  std::set<long long> ttls;
  for (int i = 0; i < 30; ++i) {
    std::string target = "/t/jitter/k" + std::to_string(i);
    ASSERT_EQ(cachecar_.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
    long long ttl = ttl_of(cachecar_.get(target));
    EXPECT_GE(ttl, 49) << target;
    EXPECT_LE(ttl, 100) << target;
    ttls.insert(ttl);
  }
  EXPECT_GE(ttls.size(), 5u) << "30 entries stored together should not expire together";
}

TEST_F(CacheAsideTest, WithoutJitterEveryEntryGetsTheRouteTtl) {
  for (int i = 0; i < 5; ++i) {
    std::string target = "/products/" + std::to_string(20 + i);
    cachecar_.get(target);
    EXPECT_GE(ttl_of(cachecar_.get(target)), 299);
  }
}

struct UncacheableCase {
  const char* query;
  const char* detail;
  int status = 200;
};

class UncacheableTest : public CacheAsideTest,
                        public ::testing::WithParamInterface<UncacheableCase> {};

TEST_P(UncacheableTest, IsForwardedEveryTimeAndNeverStored) {
  std::string target = std::string("/t/u") + GetParam().query;
  for (int i = 0; i < 2; ++i) {
    auto r = cachecar_.get(target);
    EXPECT_EQ(r.status, GetParam().status);
    EXPECT_EQ(r.header("Cache-Status"),
              std::string("cachecar; fwd=miss; detail=") + GetParam().detail);
  }
  EXPECT_EQ(origin_.count_target(target), 2u);
}

INSTANTIATE_TEST_SUITE_P(Responses, UncacheableTest,
                         ::testing::Values(UncacheableCase{"?cc=no-store", "no-store"},
                                           UncacheableCase{"?cc=private", "private"},
                                           UncacheableCase{"?cc=private,max-age=60", "private"},
                                           UncacheableCase{"?set_cookie=1", "set-cookie"},
                                           UncacheableCase{"?vary=*", "vary"},
                                           UncacheableCase{"?vary=Accept-Encoding,*", "vary"},
                                           UncacheableCase{"?status=500", "status", 500}));

TEST_F(CacheAsideTest, RequestNoStoreIsHonoured) {
  auto r = cachecar_.get("/products/30", {{"Cache-Control", "no-store"}});
  EXPECT_EQ(r.header("Cache-Status"), "cachecar; fwd=request; detail=no-store");
  EXPECT_EQ(cachecar_.get("/products/30").header("Cache-Status"), "cachecar; fwd=miss; stored");
}

TEST_F(CacheAsideTest, TenantsAreIsolated) {
  auto acme = cachecar_.get("/users/5/profile", {{"X-Tenant-Id", "acme"}});
  auto globex = cachecar_.get("/users/5/profile", {{"X-Tenant-Id", "globex"}});
  EXPECT_EQ(acme.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(globex.header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto acme_hit = cachecar_.get("/users/5/profile", {{"X-Tenant-Id", "acme"}});
  auto globex_hit = cachecar_.get("/users/5/profile", {{"X-Tenant-Id", "globex"}});
  EXPECT_THAT(acme_hit.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_THAT(globex_hit.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(nlohmann::json::parse(acme_hit.body)["tenant"], "acme");
  EXPECT_EQ(nlohmann::json::parse(globex_hit.body)["tenant"], "globex");
  EXPECT_EQ(origin_.count("/users/5/profile"), 2u);
}

TEST_F(CacheAsideTest, TenantRouteNeverServesOrStoresWithoutTheTenant) {
  cachecar_.get("/users/6/profile", {{"X-Tenant-Id", "acme"}});  // an entry exists for acme
  for (int i = 0; i < 2; ++i) {
    auto anonymous = cachecar_.get("/users/6/profile");
    EXPECT_EQ(anonymous.header("Cache-Status"), "cachecar; fwd=bypass; detail=no-tenant");
    EXPECT_EQ(nlohmann::json::parse(anonymous.body)["tenant"], "");
  }
  EXPECT_EQ(origin_.count("/users/6/profile"), 3u);
}

TEST_F(CacheAsideTest, HeadIsAnsweredFromTheGetEntry) {
  auto get = cachecar_.get("/products/8");
  HttpClient client(cachecar_.port());
  auto head = client.request("HEAD", "/products/8");
  EXPECT_EQ(head.status, 200);
  EXPECT_THAT(head.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
  EXPECT_TRUE(head.body.empty());
  // The connection is still in step after a bodiless answer.
  EXPECT_EQ(client.get("/products/8").body, get.body);
  EXPECT_EQ(origin_.count("/products/8"), 1u);
}

TEST_F(CacheAsideTest, HeadMissFillsTheEntryForLaterGets) {
  HttpClient client(cachecar_.port());
  auto head = client.request("HEAD", "/products/9");
  EXPECT_EQ(head.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_TRUE(head.body.empty());
  auto get = client.get("/products/9");
  EXPECT_THAT(get.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(get.header("Content-Length"), head.header("Content-Length"));
  EXPECT_THAT(get.body, HasSubstr("\"id\":9"));
  EXPECT_EQ(origin_.count("/products/9"), 1u);
}

TEST_F(CacheAsideTest, UnsafeMethodsAreForwardedNotServedFromCache) {
  cachecar_.get("/t/m");
  auto post = http_request(cachecar_.port(), "POST", "/t/m", {}, "x");
  EXPECT_EQ(post.header("Cache-Status"), "cachecar; fwd=method");
  EXPECT_EQ(origin_.count("/t/m"), 2u);
}

TEST(ShutdownTest, SigtermDuringASlowRequestCompletesIt) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + "shutdown_grace: 10s\n");
  auto slow = std::async(std::launch::async, [&] { return cachecar.get("/t/slow?delay_ms=1000"); });
  // Wait until the request is at the origin, then ask cachecar to stop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (origin.stats()["in_flight"].get<int>() < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(origin.stats()["in_flight"].get<int>(), 1);
  cachecar.process().send_signal(SIGTERM);
  auto response = slow.get();
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_THAT(response.body, HasSubstr("target=/t/slow?delay_ms=1000"));
  EXPECT_EQ(cachecar.process().wait_exit(std::chrono::seconds(10)), 0) << cachecar.log();
  // It stopped accepting: a new connection is refused.
  EXPECT_EQ(cachecar.get("/t/after").status, 0);
}

TEST(ShutdownTest, SigintExitsZeroWhenIdle) {
  Origin origin;
  Cachecar cachecar(origin.port(), kTestBase);
  cachecar.process().send_signal(SIGINT);
  EXPECT_EQ(cachecar.process().wait_exit(std::chrono::seconds(10)), 0) << cachecar.log();
}

}  // namespace
}  // namespace cachecar::testing
