// The invalidation bus end to end: events PUBLISHed on a real redis-server
// reach two cachecar processes; bad events change nothing; a fill racing an
// invalidation is not stored; a lost subscription is covered by the gap rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Steady = std::chrono::steady_clock;

std::string bus_config(const RedisServer& redis, const char* max_stale = "5s",
                       const char* stream = nullptr) {
  return std::string(kTestBase) + "store:\n  redis: { url: \"" + redis.url() +
         "\", timeout: 200ms, pool: 2 }\n" +
         "invalidation:\n  owners: { product: catalog-service, user-profile: profile-service }\n" +
         (stream ? std::string("  stream: ") + stream + "\n" : std::string()) +
         "routes:\n"
         "  - name: product\n"
         "    match: { method: [GET, HEAD], path: \"/products/{id:int}\" }\n"
         "    entity: product\n"
         "    ttl: 5m\n"
         "    max_stale: " +
         max_stale +
         "\n"
         "  - name: profile\n"
         "    match: { method: GET, path: \"/users/{id}/profile\" }\n"
         "    entity: user-profile\n"
         "    tenant: { header: X-Tenant-Id }\n"
         "    ttl: 5m\n"
         "    tags: [\"profile-of:{id}\"]\n";
}

json stats(Cachecar& c) { return json::parse(c.admin("GET", "/admin/stats").body); }

bool in_memory(Cachecar& c, const std::string& path, const std::string& header = {}) {
  std::string target =
      "/admin/keys/explain?path=" + path + (header.empty() ? "" : "&header=" + header);
  return json::parse(c.admin("GET", target).body)["in_memory"] == true;
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(eventually([&] {
      return stats(a_)["bus"]["subscribed"] == true && stats(b_)["bus"]["subscribed"] == true;
    }));
  }
  std::string publish(const std::string& event) {
    return redis_.command({"PUBLISH", "cachecar:invalidate", event});
  }

  RedisServer redis_;
  Origin origin_;
  Cachecar a_{origin_.port(), bus_config(redis_)};
  Cachecar b_{origin_.port(), bus_config(redis_)};
};

TEST_F(BusTest, AnEntityEventDropsEveryProjectionOnEveryProcessAndInRedis) {
  for (const char* target : {"/products/42", "/products/42?currency=EUR", "/products/43"}) {
    a_.get(target);
    b_.get(target);
  }
  ASSERT_TRUE(in_memory(a_, "/products/42") && in_memory(b_, "/products/42"));
  auto published_at = Steady::now();
  EXPECT_EQ(
      publish(
          R"({"type":"entity-updated","entity":"product","id":"42","source":"catalog-service"})"),
      ":2\r\n");
  ASSERT_TRUE(
      eventually([&] { return !in_memory(a_, "/products/42") && !in_memory(b_, "/products/42"); }));
  auto applied_after =
      std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - published_at);
  std::printf("publish -> dropped on both processes: %lld us\n",
              static_cast<long long>(applied_after.count()));
  EXPECT_FALSE(in_memory(a_, "/products/42%3Fcurrency%3DEUR"));
  EXPECT_TRUE(in_memory(a_, "/products/43"));
  EXPECT_EQ(redis_.command({"EXISTS", "cachecar:e:prod:-:product:42:-:v1"}), ":0\r\n");
  EXPECT_EQ(b_.get("/products/42").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(b_.get("/products/43").header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(stats(a_)["bus"]["applied"], 1);
}

TEST_F(BusTest, AnEventWithoutTenantReachesEveryTenant) {
  a_.get("/users/9/profile", {{"X-Tenant-Id", "acme"}});
  a_.get("/users/9/profile", {{"X-Tenant-Id", "globex"}});
  a_.get("/users/8/profile", {{"X-Tenant-Id", "acme"}});
  publish(
      R"({"type":"entity-deleted","entity":"user-profile","id":"9","source":"profile-service"})");
  ASSERT_TRUE(eventually([&] { return !in_memory(a_, "/users/9/profile", "X-Tenant-Id:acme"); }));
  EXPECT_FALSE(in_memory(a_, "/users/9/profile", "X-Tenant-Id:globex"));
  EXPECT_TRUE(in_memory(a_, "/users/8/profile", "X-Tenant-Id:acme"));
}

TEST_F(BusTest, ATenantsEventLeavesOtherTenantsAlone) {
  a_.get("/users/7/profile", {{"X-Tenant-Id", "acme"}});
  a_.get("/users/7/profile", {{"X-Tenant-Id", "globex"}});
  publish(
      R"({"type":"entity-updated","entity":"user-profile","id":"7","tenant":"acme","source":"profile-service"})");
  ASSERT_TRUE(eventually([&] { return !in_memory(a_, "/users/7/profile", "X-Tenant-Id:acme"); }));
  EXPECT_TRUE(in_memory(a_, "/users/7/profile", "X-Tenant-Id:globex"));
}

TEST_F(BusTest, TagPurgedDropsTaggedEntriesInBothTiers) {
  a_.get("/users/5/profile", {{"X-Tenant-Id", "acme"}});
  a_.get("/users/6/profile", {{"X-Tenant-Id", "acme"}});
  publish(R"({"type":"tag-purged","tags":["profile-of:5"],"source":"profile-service"})");
  ASSERT_TRUE(eventually([&] { return !in_memory(a_, "/users/5/profile", "X-Tenant-Id:acme"); }));
  EXPECT_TRUE(in_memory(a_, "/users/6/profile", "X-Tenant-Id:acme"));
  // B never had it in memory: from Redis it must be gone too.
  EXPECT_EQ(b_.get("/users/5/profile", {{"X-Tenant-Id", "acme"}}).header("Cache-Status"),
            "cachecar; fwd=miss; stored");
  EXPECT_THAT(b_.get("/users/6/profile", {{"X-Tenant-Id", "acme"}}).header("Cache-Status"),
              HasSubstr("detail=redis"));
}

TEST_F(BusTest, BadEventsChangeNothingAndAreCounted) {
  a_.get("/products/30");
  publish(R"({"type":"entity-updated","entity":"product","id":"30","source":"profile-service"})");
  publish("this is not json");
  publish(R"({"type":"entity-exploded","entity":"product","id":"30","source":"catalog-service"})");
  ASSERT_TRUE(eventually([&] { return stats(a_)["bus"]["received"] == 3; }));
  auto bus = stats(a_)["bus"];
  EXPECT_EQ(bus["rejected"]["not-owner"], 1);
  EXPECT_EQ(bus["rejected"]["malformed"], 1);
  EXPECT_EQ(bus["rejected"]["unknown-type"], 1);
  EXPECT_EQ(bus["applied"], 0);
  EXPECT_TRUE(in_memory(a_, "/products/30"));
}

TEST_F(BusTest, AFillThatRacesAnInvalidationIsNotStored) {
  auto slow = std::async(std::launch::async, [&] { return a_.get("/products/50?delay_ms=800"); });
  ASSERT_TRUE(eventually([&] { return origin_.stats()["in_flight"].get<int>() == 1; }));
  publish(R"({"type":"entity-updated","entity":"product","id":"50","source":"catalog-service"})");
  ASSERT_TRUE(eventually([&] { return stats(a_)["bus"]["applied"] == 1; }));
  auto response = slow.get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Cache-Status"), "cachecar; fwd=miss; detail=invalidated");
  EXPECT_EQ(a_.get("/products/50?delay_ms=800").header("Cache-Status"),
            "cachecar; fwd=miss; stored");
  EXPECT_EQ(origin_.count("/products/50"), 2u);
}

TEST_F(BusTest, AdminInvalidatePublishesToTheWholeFleet) {
  b_.get("/products/60");
  auto r = a_.admin(
      "POST", "/admin/invalidate",
      R"({"type":"entity-updated","entity":"product","id":"60","source":"catalog-service"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["published"], 2);
  ASSERT_TRUE(eventually([&] { return !in_memory(b_, "/products/60"); }));
  auto bad = a_.admin("POST", "/admin/invalidate",
                      R"({"type":"entity-updated","entity":"product","source":"x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("not-owner"));
}

TEST_F(BusTest, ALostSubscriptionMeansEntriesFromBeforeAreRefetched) {
  a_.get("/products/70");
  // Change the product at the origin, and announce it only while A cannot hear.
  http_request(origin_.port(), "PUT", "/products/70", {}, R"({"name":"renamed"})");
  bool missed = false;
  for (int attempt = 0; attempt < 50 && !missed; ++attempt) {
    redis_.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    missed =
        publish(
            R"({"type":"entity-updated","entity":"product","id":"70","source":"catalog-service"})") ==
        ":0\r\n";
  }
  ASSERT_TRUE(missed) << "could not publish while the subscriptions were down";
  ASSERT_TRUE(eventually([&] { return stats(a_)["bus"]["subscriptions"].get<int>() >= 2; }));
  auto after = a_.get("/products/70");
  EXPECT_EQ(after.header("Cache-Status"), "cachecar; fwd=stale; stored");
  EXPECT_EQ(json::parse(after.body)["name"], "renamed");
  EXPECT_THAT(a_.get("/products/70").header("Cache-Status"), StartsWith("cachecar; hit"));
}

TEST_F(BusTest, AnAdminPurgeOfAnEntityOrATagReachesEveryPeer) {
  a_.get("/products/33");
  b_.get("/products/33");
  a_.get("/users/6/profile", {{"X-Tenant-Id", "acme"}});
  b_.get("/users/6/profile", {{"X-Tenant-Id", "acme"}});
  ASSERT_TRUE(in_memory(b_, "/products/33"));
  auto purged =
      json::parse(a_.admin("POST", "/admin/purge", R"({"entity": "product", "id": "33"})").body);
  EXPECT_EQ(purged["published"], 2) << purged.dump();
  EXPECT_TRUE(eventually([&] { return !in_memory(b_, "/products/33"); }))
      << "the peer dropped its copy";
  EXPECT_FALSE(in_memory(a_, "/products/33"));

  ASSERT_TRUE(in_memory(b_, "/users/6/profile", "X-Tenant-Id:acme"));
  auto by_tag = json::parse(a_.admin("POST", "/admin/purge", R"({"tag": "profile-of:6"})").body);
  EXPECT_EQ(by_tag["published"], 2) << by_tag.dump();
  EXPECT_TRUE(eventually([&] { return !in_memory(b_, "/users/6/profile", "X-Tenant-Id:acme"); }));
  // A key purge stays with this process and the shared tier.
  a_.get("/products/34");
  auto by_key = json::parse(a_.admin("POST", "/admin/purge", R"({"key": "x"})").body);
  EXPECT_FALSE(by_key.contains("published"));
}

TEST(BusGap, WhileTheBusIsDownNothingIsServedPastMaxStale) {
  RedisServer redis;
  Origin origin;
  Cachecar cachecar(origin.port(), bus_config(redis, "300ms"));
  ASSERT_TRUE(eventually([&] { return stats(cachecar)["bus"]["subscribed"] == true; }));
  cachecar.get("/products/80");
  redis.kill();
  ASSERT_TRUE(eventually([&] { return stats(cachecar)["bus"]["subscribed"] == false; }));
  // Still a hit right after the drop (within max_stale)...
  auto right_after = cachecar.get("/products/80");
  EXPECT_THAT(right_after.header("Cache-Status"), StartsWith("cachecar; hit"));
  // ...and never again once max_stale has passed, while the bus stays down.
  ASSERT_TRUE(eventually([&] {
    return cachecar.get("/products/80").header("Cache-Status").find("hit") == std::string::npos;
  }));
  EXPECT_EQ(cachecar.get("/products/80").status, 200);
  EXPECT_EQ(stats(cachecar)["bus"]["subscribed"], false);
}

TEST(BusGap, StaleWindowsAndClientMaxStaleDoNotReachPastMaxStale) {
  RedisServer redis;
  Origin origin;
  std::string config = bus_config(redis, "300ms");
  // A short lifetime and generous stale windows on the product route: none
  // of them may stretch what a bus gap allows.
  auto ttl = config.find("    ttl: 5m\n");
  config.replace(ttl, 12,
                 "    ttl: 100ms\n    stale_if_error: 1h\n    stale_while_revalidate: 1h\n");
  Cachecar cachecar(origin.port(), config);
  ASSERT_TRUE(eventually([&] { return stats(cachecar)["bus"]["subscribed"] == true; }));
  ASSERT_EQ(cachecar.get("/products/82").header("Cache-Status"), "cachecar; fwd=miss; stored");
  redis.kill();
  ASSERT_TRUE(eventually([&] { return stats(cachecar)["bus"]["subscribed"] == false; }));
  origin.process().send_signal(SIGKILL);
  // Past max_stale the entry is in doubt: not a hit, not stale-while-
  // revalidate, not stale-if-error with the origin gone, not the client's
  // max-stale. The origin being down, the answer is an error.
  ASSERT_TRUE(eventually([&] {
    return cachecar.get("/products/82").header("Cache-Status").find("hit") == std::string::npos;
  }));
  auto refused = cachecar.get("/products/82", {{"Cache-Control", "max-stale"}});
  EXPECT_EQ(refused.status, 502);
  EXPECT_THAT(refused.header("Cache-Status"), StartsWith("cachecar; fwd=stale"));
  EXPECT_EQ(cachecar.get("/products/82").status, 502);
}

TEST(BusStream, EventsFromTheStreamAreAppliedAndReplayedAfterAReconnect) {
  RedisServer redis;
  Origin origin;
  Cachecar cachecar(origin.port(), bus_config(redis, "5s", "cachecar:invalidations"));
  cachecar.get("/products/90");
  cachecar.get("/products/91");
  // The reader starts after the stream's current end; wait until it knows it.
  ASSERT_TRUE(eventually([&] { return stats(cachecar)["bus"]["stream_ready"] == true; }));
  // Stream mode subscribes too, and says so (the alert on a lost bus reads this).
  EXPECT_TRUE(eventually([&] { return cachecar.metric("cachecar_bus_subscribed") == 1; }));
  EXPECT_EQ(stats(cachecar)["bus"]["subscribed"], true);
  redis.command(
      {"XADD", "cachecar:invalidations", "*", "event",
       R"({"type":"entity-updated","entity":"product","id":"90","source":"catalog-service"})"});
  ASSERT_TRUE(eventually([&] { return !in_memory(cachecar, "/products/90"); }));
  // Drop the reader's connection and add an event before it is back.
  redis.command({"CLIENT", "KILL", "TYPE", "normal"});
  redis.command(
      {"XADD", "cachecar:invalidations", "*", "event",
       R"({"type":"entity-updated","entity":"product","id":"91","source":"catalog-service"})"});
  EXPECT_TRUE(eventually([&] { return !in_memory(cachecar, "/products/91"); }));
  EXPECT_GE(stats(cachecar)["bus"]["stream_events"].get<int>(), 2);
}

}  // namespace
}  // namespace cachecar::testing
