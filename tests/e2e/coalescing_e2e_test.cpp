// Local coalescing (issue 4): concurrent requests for one missing key cost
// the origin one fetch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <map>
#include <thread>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kConfig = std::string(kTestBase) + R"(
routes:
  - name: product
    match: { method: GET, path: "/products/{id:int}" }
    entity: product
    ttl: 5m
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
  - name: solo
    match: { path: "/t/solo/{*rest}" }
    ttl: 5m
    coalesce: false
)";

std::map<std::string, int> count_statuses(const std::vector<HttpResponse>& responses) {
  std::map<std::string, int> counts;
  for (const auto& r : responses) ++counts[r.header("Cache-Status")];
  return counts;
}

TEST(Coalescing, AThousandConcurrentGetsOfAColdKeyCostOneOriginFetch) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  auto started = std::chrono::steady_clock::now();
  auto responses = concurrent_gets(cachecar.port(), "/products/77?delay_ms=200", 1000);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(origin.count("/products/77"), 1u);
  std::string body;
  int ok = 0;
  for (const auto& r : responses) {
    if (r.status != 200) continue;
    ++ok;
    if (body.empty()) body = r.body;
    EXPECT_EQ(r.body, body);
  }
  EXPECT_EQ(ok, 1000) << responses[0].error;
  auto statuses = count_statuses(responses);
  EXPECT_EQ(statuses["cachecar; fwd=miss; stored"], 1);
  int collapsed = statuses["cachecar; fwd=miss; collapsed"];
  EXPECT_GT(collapsed, 0);
  int hits = 0;
  for (const auto& [status, n] : statuses) hits += status.rfind("cachecar; hit", 0) == 0 ? n : 0;
  EXPECT_EQ(1 + collapsed + hits, 1000) << ::testing::PrintToString(statuses);
  auto stats = json::parse(cachecar.admin("GET", "/admin/stats").body);
  EXPECT_EQ(stats["coalescing"]["collapsed"], collapsed);
  std::printf(
      "1000 concurrent cold GETs (origin delay 200 ms): origin fetches %llu, collapsed %d, hits "
      "%d, "
      "wall %lld ms; %s\n",
      static_cast<unsigned long long>(origin.count("/products/77")), collapsed, hits,
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
      latency_summary(responses).c_str());
}

TEST(Coalescing, WithCoalesceOffEveryRequestFetches) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  auto responses = concurrent_gets(cachecar.port(), "/t/solo/x?delay_ms=200", 20);
  EXPECT_EQ(origin.count("/t/solo/x"), 20u);
  for (const auto& r : responses) EXPECT_EQ(r.status, 200);
}

TEST(Coalescing, AnUncacheableAnswerIsNotWaitedForAgain) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  // First burst: waiters learn the answer cannot be shared and fetch themselves.
  auto first = concurrent_gets(cachecar.port(), "/t/private?cc=private&delay_ms=100", 10);
  for (const auto& r : first) EXPECT_EQ(r.status, 200);
  // Then the key is passed straight through for a while, without queueing.
  auto stats_before = json::parse(cachecar.admin("GET", "/admin/stats").body)["coalescing"];
  cachecar.get("/t/private?cc=private&delay_ms=100");
  auto stats_after = json::parse(cachecar.admin("GET", "/admin/stats").body)["coalescing"];
  EXPECT_EQ(stats_after["passes"].get<int>(), stats_before["passes"].get<int>() + 1);
  EXPECT_EQ(origin.count("/t/private"), 11u);
}

TEST(Coalescing, WaitersOfAFailedFetchElectANewFetcher) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kConfig) + "limits: { origin_timeout: 300ms }\n");
  // The fetch times out (origin slower than origin_timeout); its waiters do
  // not hang: each gets an answer within its own bound.
  auto responses =
      concurrent_gets(cachecar.port(), "/t/slow?delay_ms=1000", 5, std::chrono::seconds(10));
  for (const auto& r : responses) {
    EXPECT_EQ(r.status, 504) << r.error;
  }
  EXPECT_GE(
      json::parse(cachecar.admin("GET", "/admin/stats").body)["coalescing"]["abandoned"].get<int>(),
      1);
}

std::string fleet_config(const RedisServer& redis, const char* lease_poll = "50ms") {
  return kConfig + "limits: { origin_timeout: 1s }\nstore:\n  redis: { url: \"" + redis.url() +
         "\", timeout: 200ms, pool: 2, lease_poll: " + lease_poll + " }\n";
}

TEST(FleetCoalescing, ThreeProcessesThreeHundredColdGetsOneOriginFetch) {
  RedisServer redis;
  Origin origin;
  // Lease losers poll only every 5 s: each that is served the fleet's fill
  // well before that was woken by the holder's release announcement.
  Cachecar a(origin.port(), fleet_config(redis, "5s"));
  Cachecar b(origin.port(), fleet_config(redis, "5s"));
  Cachecar c(origin.port(), fleet_config(redis, "5s"));
  const std::string target = "/products/66?delay_ms=200";
  std::vector<std::future<std::vector<HttpResponse>>> bursts;
  for (auto* cachecar : {&a, &b, &c}) {
    bursts.push_back(std::async(std::launch::async, [port = cachecar->port(), &target] {
      return concurrent_gets(port, target, 100);
    }));
  }
  std::map<std::string, int> statuses;
  std::string body;
  std::vector<HttpResponse> all;
  for (auto& burst : bursts) {
    for (auto& r : burst.get()) all.push_back(std::move(r));
  }
  {
    for (const auto& r : all) {
      EXPECT_EQ(r.status, 200) << r.error;
      if (body.empty()) body = r.body;
      EXPECT_EQ(r.body, body);
      ++statuses[r.header("Cache-Status")];
    }
  }
  EXPECT_EQ(origin.count("/products/66"), 1u) << ::testing::PrintToString(statuses);
  EXPECT_EQ(statuses["cachecar; fwd=miss; stored"], 1) << ::testing::PrintToString(statuses);
  // Every process that lost the lease and took the fleet's fill was woken by
  // the holder's release announcement (its own poll was 5 s away).
  int signals = 0;
  for (auto* cachecar : {&a, &b, &c}) {
    signals += nlohmann::json::parse(
                   cachecar->admin("GET", "/admin/stats").body)["coalescing"]["fleet_signals"]
                   .get<int>();
  }
  EXPECT_GE(statuses["cachecar; fwd=miss; collapsed; detail=fleet"], 1);
  EXPECT_EQ(signals, statuses["cachecar; fwd=miss; collapsed; detail=fleet"])
      << ::testing::PrintToString(statuses);
  for (const auto& r : all)
    EXPECT_LT(r.elapsed, std::chrono::seconds(4)) << "woken by a poll, not the announcement";
  // One process won the lease; the other two lost it (each once per
  // election it took part in).
  std::uint64_t won = 0, lost = 0;
  for (auto* cachecar : {&a, &b, &c}) {
    won += cachecar->metric(R"(cachecar_fleet_leases_total{result="won"})");
    lost += cachecar->metric(R"(cachecar_fleet_leases_total{result="lost"})");
  }
  EXPECT_EQ(won, 1u);
  EXPECT_GE(lost, 2u);
  std::printf(
      "3 processes x 100 concurrent cold GETs (origin delay 200 ms): origin fetches %llu; %s; %s\n",
      static_cast<unsigned long long>(origin.count("/products/66")), latency_summary(all).c_str(),
      ::testing::PrintToString(statuses).c_str());
}

TEST(FleetCoalescing, ALeaseHolderKilledMidFetchCostsTheFleetAtMostTheLease) {
  RedisServer redis;
  Origin origin;
  Cachecar a(origin.port(), fleet_config(redis));
  Cachecar b(origin.port(), fleet_config(redis));
  Cachecar c(origin.port(), fleet_config(redis));
  const std::string target = "/products/67?delay_ms=800";
  auto holder = std::async(std::launch::async, [&] { return a.get(target); });
  // A holds the fleet lease once its fetch is at the origin; then it dies.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (origin.stats()["in_flight"].get<int>() < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(origin.stats()["in_flight"].get<int>(), 1);
  a.process().send_signal(SIGKILL);
  a.process().wait_exit(std::chrono::seconds(5));
  auto started = std::chrono::steady_clock::now();
  auto from_b =
      std::async(std::launch::async, [&] { return concurrent_gets(b.port(), target, 50); });
  auto from_c =
      std::async(std::launch::async, [&] { return concurrent_gets(c.port(), target, 50); });
  int ok = 0;
  for (auto* burst : {&from_b, &from_c}) {
    for (const auto& r : burst->get()) ok += r.status == 200 ? 1 : 0;
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  EXPECT_EQ(ok, 100);
  EXPECT_LE(origin.count("/products/67"), 2u) << "B:\n" << b.log() << "C:\n" << c.log();
  std::printf(
      "lease holder killed mid-fetch: 100 requests on 2 peers done in %lld ms "
      "(lease 1250 ms + origin 800 ms), origin fetches %llu\n",
      static_cast<long long>(took.count()),
      static_cast<unsigned long long>(origin.count("/products/67")));
  holder.wait();
}

}  // namespace
}  // namespace cachecar::testing
