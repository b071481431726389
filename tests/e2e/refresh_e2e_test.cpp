// The stampede controls that refresh instead of waiting (issue 4):
// stale-while-revalidate, conditional revalidation, early refresh (XFetch),
// warming and rebuild_rate, against the real binary and a counting origin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

// Asks for `target` until the answer is no longer a fresh hit (the entry
// has expired); returns that answer and how long it took.
std::pair<HttpResponse, Clock::duration> first_answer_after_expiry(Cachecar& cachecar,
                                                                   const std::string& target) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto started = Clock::now();
    auto r = cachecar.get(target);
    auto took = Clock::now() - started;
    const auto& status = r.header("Cache-Status");
    bool fresh_hit =
        status.rfind("cachecar; hit; ttl=", 0) == 0 && status.find("ttl=-") == std::string::npos;
    if (!fresh_hit || Clock::now() > deadline) return {r, took};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

json stats(Cachecar& cachecar) { return json::parse(cachecar.admin("GET", "/admin/stats").body); }

// The origin holds every /t/slow answer for 1.5 s: a response that did not
// wait for it comes back far sooner.
constexpr int kOriginDelayMs = 1500;
const std::string kSwrConfig = std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: swr
    match: { path: "/t/slow/{*rest}" }
    mode: stale-while-revalidate
    ttl: 1s
    stale_while_revalidate: 1m
)";

TEST(StaleWhileRevalidate, AStaleEntryIsServedAtOnceAndRefreshedOnceInTheBackground) {
  Origin origin;
  Cachecar cachecar(origin.port(), kSwrConfig);
  const std::string target = "/t/slow/a?delay_ms=" + std::to_string(kOriginDelayMs);
  auto first = cachecar.get(target);
  ASSERT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");

  auto [stale, took] = first_answer_after_expiry(cachecar, target);
  EXPECT_EQ(stale.status, 200);
  EXPECT_THAT(stale.header("Cache-Status"), StartsWith("cachecar; hit; ttl=-"));
  EXPECT_THAT(stale.header("Cache-Status"), HasSubstr("detail=stale-while-revalidate"));
  EXPECT_EQ(stale.body, first.body);
  EXPECT_LT(took, std::chrono::milliseconds(kOriginDelayMs / 2))
      << "the stale answer waited for the origin";
  // A burst while the refresh runs: all stale, all at once, no more fetches.
  auto burst = concurrent_gets(cachecar.port(), target, 50);
  for (const auto& r : burst) {
    EXPECT_THAT(r.header("Cache-Status"), HasSubstr("detail=stale-while-revalidate"));
  }
  std::printf(
      "stale-while-revalidate, origin delay %d ms: first stale answer %.1f ms; 50 concurrent: %s\n",
      kOriginDelayMs, std::chrono::duration<double, std::milli>(took).count(),
      latency_summary(burst).c_str());
  // The one background fetch lands; then the key is a fresh hit again.
  EXPECT_TRUE(eventually([&] { return stats(cachecar)["refreshes"]["outcomes"]["stored"] == 1; }));
  EXPECT_EQ(origin.count_target(target), 2u);
  auto fresh = cachecar.get(target);
  EXPECT_THAT(fresh.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_THAT(fresh.header("Cache-Status"), ::testing::Not(HasSubstr("ttl=-")));
  EXPECT_NE(fresh.body, first.body) << "the refreshed body (count=2) replaced the old one";
  EXPECT_EQ(stats(cachecar)["refreshes"]["background"], 1);
}

TEST(StaleWhileRevalidate, TheOriginsDirectiveOpensTheWindowOnACacheAsideRoute) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
routes:
  - name: plain
    match: { path: "/t/{*rest}" }
)");
  const std::string target = "/t/directive?cc=max-age=1,stale-while-revalidate=60&delay_ms=" +
                             std::to_string(kOriginDelayMs);
  ASSERT_EQ(cachecar.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto [stale, took] = first_answer_after_expiry(cachecar, target);
  EXPECT_THAT(stale.header("Cache-Status"), HasSubstr("detail=stale-while-revalidate"));
  EXPECT_LT(took, std::chrono::milliseconds(kOriginDelayMs / 2));
  EXPECT_TRUE(eventually([&] { return origin.count_target(target) == 2; }));
}

TEST(StaleWhileRevalidate, MustRevalidateClosesTheWindow) {
  Origin origin;
  Cachecar cachecar(origin.port(), kSwrConfig);
  const std::string target = "/t/slow/strict?cc=max-age=1,must-revalidate&delay_ms=100";
  ASSERT_EQ(cachecar.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto [after, took] = first_answer_after_expiry(cachecar, target);
  EXPECT_EQ(after.header("Cache-Status"), "cachecar; fwd=stale; stored");
}

TEST(StaleWhileRevalidate, OneBackgroundRefreshForTheWholeFleet) {
  RedisServer redis;
  Origin origin;
  std::string config =
      kSwrConfig + "store:\n  redis: { url: \"" + redis.url() + "\", timeout: 500ms }\n";
  Cachecar a(origin.port(), config);
  Cachecar b(origin.port(), config);
  const std::string target = "/t/slow/fleet?delay_ms=" + std::to_string(kOriginDelayMs);
  ASSERT_EQ(a.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  ASSERT_THAT(b.get(target).header("Cache-Status"), HasSubstr("detail=redis"));
  auto [stale_a, took_a] = first_answer_after_expiry(a, target);
  auto stale_b = b.get(target);
  EXPECT_THAT(stale_a.header("Cache-Status"), HasSubstr("detail=stale-while-revalidate"));
  EXPECT_THAT(stale_b.header("Cache-Status"), HasSubstr("detail=stale-while-revalidate"));
  // Both tried to refresh; one held the fleet lease, the other stood back.
  EXPECT_TRUE(eventually([&] {
    auto busy = stats(a)["refreshes"]["outcomes"]["fleet-busy"].get<int>() +
                stats(b)["refreshes"]["outcomes"]["fleet-busy"].get<int>();
    auto stored = stats(a)["refreshes"]["outcomes"]["stored"].get<int>() +
                  stats(b)["refreshes"]["outcomes"]["stored"].get<int>();
    return busy == 1 && stored == 1;
  }));
  EXPECT_EQ(origin.count_target(target), 2u);
}

// /t/ knobs with a one-second lifetime: ?etag= gives them a validator.
const std::string kValidatedConfig = std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: validated
    match: { path: "/t/{*rest}" }
    ttl: 1s
)";

TEST(Revalidation, A304RenewsTheEntryWithoutTheBodyAndUpdatesItsHeaders) {
  Origin origin;
  Cachecar cachecar(origin.port(), kValidatedConfig);
  const std::string target = "/t/validated?etag=v1";
  auto first = cachecar.get(target);
  ASSERT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(first.header("ETag"), "\"v1\"");
  EXPECT_EQ(first.header("X-Origin-Count"), "1");
  auto bytes_before = origin.stats()["body_bytes"].get<std::uint64_t>();

  auto [renewed, took] = first_answer_after_expiry(cachecar, target);
  EXPECT_EQ(renewed.status, 200);
  EXPECT_EQ(renewed.header("Cache-Status"), "cachecar; fwd=stale; fwd-status=304; stored");
  EXPECT_EQ(renewed.body, first.body);
  EXPECT_EQ(renewed.header("X-Origin-Count"), "2") << "the 304's fields replace the stored ones";
  auto origin_stats = origin.stats();
  EXPECT_EQ(origin_stats["not_modified"], 1);
  EXPECT_EQ(origin_stats["body_bytes"].get<std::uint64_t>(), bytes_before)
      << "the origin sent no body again";

  auto after = cachecar.get(target);
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_THAT(after.header("Cache-Status"), ::testing::Not(HasSubstr("ttl=-")));
  EXPECT_EQ(after.header("X-Origin-Count"), "2");
  EXPECT_EQ(stats(cachecar)["refreshes"]["revalidated"], 1);
  EXPECT_EQ(cachecar.metric(R"(cachecar_revalidations_total{result="304"})"), 1u);
  EXPECT_EQ(cachecar.metric(R"(cachecar_revalidations_total{result="200"})"), 0u);
}

TEST(Revalidation, AClientsOwnConditionalIsPassedThroughUntouched) {
  Origin origin;
  Cachecar cachecar(origin.port(), kValidatedConfig);
  const std::string target = "/t/theirs?etag=v1";
  ASSERT_EQ(cachecar.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto deadline = Clock::now() + std::chrono::seconds(5);
  HttpResponse r;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = cachecar.get(target, {{"If-None-Match", "\"v1\""}});
  } while (r.status == 200 && Clock::now() < deadline);
  // Expired: forwarded with the client's own validator; its 304 reaches it.
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
}

TEST(EarlyRefresh, AHotKeyNeverExpiresIntoAMissUnderSteadyLoad) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: hot
    match: { path: "/t/hot/{*rest}" }
    ttl: 1s
    early_refresh: probabilistic
)");
  const std::string target = "/t/hot/key?delay_ms=100";
  ASSERT_EQ(cachecar.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  // Four clients for four lifetimes of the key.
  std::atomic<int> answers{0}, not_hits{0};
  std::string example;
  std::mutex example_mutex;
  auto until = Clock::now() + std::chrono::seconds(4);
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      HttpClient client(cachecar.port());
      while (Clock::now() < until) {
        auto r = client.get(target);
        ++answers;
        if (r.status != 200 || r.header("Cache-Status").rfind("cachecar; hit; ttl=", 0) != 0 ||
            r.header("Cache-Status").find("ttl=-") != std::string::npos) {
          ++not_hits;
          std::lock_guard lock(example_mutex);
          example = std::to_string(r.status) + " " + r.header("Cache-Status");
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(answers.load(), 400);
  EXPECT_EQ(not_hits.load(), 0) << "e.g. " << example;
  // Refreshed at least once per lifetime, and one refresh at a time: at
  // most one per rebuild (100 ms), where a crowd would be hundreds. (XFetch
  // refreshes earlier the hotter the key, so more than one per lifetime is
  // expected under this load.)
  auto fetches = origin.count_target(target);
  EXPECT_GE(fetches, 4u);
  EXPECT_LE(fetches, 41u);
  EXPECT_GE(stats(cachecar)["refreshes"]["early"].get<int>(), 3);
}

TEST(Warming, WarmPathsAreHitsRightAfterStartAndStayFresh) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: warmed
    match: { path: "/t/warm/{*rest}" }
    ttl: 1s
    warm: ["/t/warm/a", "/t/warm/b?x=1"]
)");
  // The fixture waited for /readyz to list nothing "starting".
  EXPECT_THAT(cachecar.get("/t/warm/a").header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_THAT(cachecar.get("/t/warm/b?x=1").header("Cache-Status"),
              StartsWith("cachecar; hit; ttl="));
  EXPECT_EQ(origin.count_target("/t/warm/a"), 1u);
  // Refetched before each expiry: three lifetimes on, still only hits.
  auto until = Clock::now() + std::chrono::seconds(3);
  int misses = 0;
  while (Clock::now() < until) {
    auto status = cachecar.get("/t/warm/a").header("Cache-Status");
    if (status.rfind("cachecar; hit; ttl=", 0) != 0 || status.find("ttl=-") != std::string::npos)
      ++misses;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(misses, 0);
  EXPECT_GE(origin.count_target("/t/warm/a"), 3u);
}

TEST(Warming, ReadinessWaitsForTheFirstWarmFetch) {
  Origin origin;
  // The origin holds the warm fetch 1.5 s; /readyz must say "starting"
  // until it is in. (The fixture itself waits; ask right after exec here.)
  TempDir dir;
  auto port = free_port(), admin = free_port();
  std::string path =
      dir.write("c.yaml", std::string(kTestBase) + "listen: 127.0.0.1:" + std::to_string(port) +
                              "\norigin: http://127.0.0.1:" + std::to_string(origin.port()) +
                              "\nadmin: { listen: 127.0.0.1:" + std::to_string(admin) + " }\n" +
                              R"(routes:
  - name: warmed
    match: { path: "/t/warm/{*rest}" }
    ttl: 1m
    warm: ["/t/warm/slow?delay_ms=1500"]
)");
  ChildProcess::Options options;
  options.argv = {CACHECAR_BINARY, "--config", path};
  options.stderr_path = dir.path() + "/err.log";
  ChildProcess process(options);
  ASSERT_TRUE(eventually([&] { return http_request(admin, "GET", "/healthz").status == 200; }));
  auto early = http_request(admin, "GET", "/readyz");
  EXPECT_EQ(early.status, 503);
  EXPECT_EQ(json::parse(early.body)["starting"], json::array({"warm"}));
  EXPECT_TRUE(eventually([&] { return http_request(admin, "GET", "/readyz").status == 200; }));
  EXPECT_THAT(http_request(port, "GET", "/t/warm/slow?delay_ms=1500").header("Cache-Status"),
              StartsWith("cachecar; hit"));
}

TEST(Warming, AdminWarmFetchesPathsNowAndSaysWhatBecameOfEach) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
routes:
  - name: cached
    match: { path: "/t/{*rest}" }
    ttl: 1m
  - name: profile
    match: { path: "/users/{id}/profile" }
    tenant: { header: X-Tenant-Id }
    ttl: 1m
)");
  auto r = cachecar.admin(
      "POST", "/admin/warm",
      R"({"paths": ["/t/now", "/nowhere", "/t/no-store?cc=no-store", "/users/7/profile"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["warmed"], 1);
  EXPECT_EQ(body["results"][0]["outcome"], "stored");
  EXPECT_THAT(body["results"][1]["outcome"].get<std::string>(), HasSubstr("no caching route"));
  EXPECT_EQ(body["results"][2]["outcome"], "not-stored");
  EXPECT_THAT(body["results"][3]["outcome"].get<std::string>(), HasSubstr("X-Tenant-Id"));
  EXPECT_THAT(cachecar.get("/t/now").header("Cache-Status"), StartsWith("cachecar; hit"));

  // With the tenant header, a tenant-scoped path warms for that tenant.
  r = cachecar.admin("POST", "/admin/warm",
                     R"({"paths": ["/users/7/profile"], "headers": {"X-Tenant-Id": "acme"}})");
  EXPECT_EQ(json::parse(r.body)["warmed"], 1) << r.body;
  EXPECT_THAT(cachecar.get("/users/7/profile", {{"X-Tenant-Id", "acme"}}).header("Cache-Status"),
              StartsWith("cachecar; hit"));

  for (const char* bad : {"{", R"({"paths": []})", R"({"paths": ["relative"]})",
                          R"({"paths": "/t/x"})", R"({"paths": ["/t/x"], "headers": ["X"]})"}) {
    auto refused = cachecar.admin("POST", "/admin/warm", bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_TRUE(json::parse(refused.body).contains("error")) << refused.body;
  }
  EXPECT_EQ(cachecar.admin("GET", "/admin/warm").status, 405);
}

TEST(RebuildRate, CapsOriginRebuildsAndRefusesWithRetryAfter) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
limits: { origin_timeout: 1s }
routes:
  - name: capped
    match: { path: "/t/capped/{*rest}" }
    ttl: 1m
    rebuild_rate: 2/s
)");
  // Twenty cold keys at once: two tokens at once, two more a second; a
  // request waits at most origin_timeout (1 s) for one.
  std::vector<std::thread> clients;
  std::vector<HttpResponse> answers(20);
  auto started = Clock::now();
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back([&, i] { answers[i] = cachecar.get("/t/capped/k" + std::to_string(i)); });
  }
  for (auto& t : clients) t.join();
  auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  int ok = 0, refused = 0;
  for (const auto& r : answers) {
    if (r.status == 200) {
      ++ok;
    } else {
      ++refused;
      EXPECT_EQ(r.status, 503);
      EXPECT_FALSE(r.header("Retry-After").empty());
      EXPECT_THAT(r.body, HasSubstr("rebuild_rate"));
    }
  }
  auto fetched = origin.stats()["requests"].get<int>();
  EXPECT_EQ(fetched, ok);
  EXPECT_GE(ok, 2);
  EXPECT_LE(fetched, 2 + static_cast<int>(2 * elapsed) + 1) << "over " << elapsed << " s";
  EXPECT_GT(refused, 0);
  EXPECT_EQ(stats(cachecar)["refreshes"]["rebuild_rejected"], refused);
}

TEST(RebuildRate, OverBudgetAStaleEntryAnswers) {
  Origin origin;
  // One rebuild per 2 s; the entry lives 1 s. The fill spends the only
  // token, so when the entry expires there is none yet.
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: capped
    match: { path: "/t/capped/{*rest}" }
    ttl: 1s
    rebuild_rate: 30/m
)");
  ASSERT_EQ(cachecar.get("/t/capped/old").header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto [stale, took] = first_answer_after_expiry(cachecar, "/t/capped/old");
  EXPECT_THAT(stale.header("Cache-Status"), StartsWith("cachecar; hit; ttl=-"));
  EXPECT_THAT(stale.header("Cache-Status"), HasSubstr("detail=rebuild-rate"));
  EXPECT_EQ(origin.count_target("/t/capped/old"), 1u);
}

}  // namespace
}  // namespace cachecar::testing
