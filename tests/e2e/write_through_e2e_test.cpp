// mode: write-through (issue 5): a successful write refreshes (or drops) the
// view it changes in both tiers and across the fleet before the client
// hears back; an origin error leaves the cache alone. Real processes, a real
// redis-server, the counting demo origin.
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
using Clock = std::chrono::steady_clock;

std::string routes(const std::string& write_mode, const std::string& refresh_from = "refetch") {
  std::string write_route =
      write_mode == "write-through"
          ? "  - name: product-write\n"
            "    match: { method: [PUT, PATCH, DELETE], path: \"/products/{id}\" }\n"
            "    mode: write-through\n"
            "    refreshes: product\n"
            "    refresh_from: " +
                refresh_from + "\n"
          : "  - name: product-write\n"
            "    match: { method: [PUT, PATCH, DELETE], path: \"/products/{id}\" }\n"
            "    mode: bypass\n";
  return std::string(kTestBase) + R"(
invalidation:
  owners: { product: catalog-service }
routes:
  - name: product
    match: { method: [GET, HEAD], path: "/products/{id:int}" }
    entity: product
    ttl: 5m
)" + write_route;
}

std::string with_redis(const std::string& config, const RedisServer& redis) {
  return config + "store:\n  redis: { url: \"" + redis.url() + "\", timeout: 500ms }\n";
}

int version_of(const HttpResponse& r) {
  auto body = json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("version") ? body["version"].get<int>() : -1;
}

HttpResponse put(Cachecar& cachecar, const std::string& target, const std::string& body) {
  return http_request(cachecar.port(), "PUT", target, {{"Content-Type", "application/json"}}, body);
}

TEST(WriteThrough, APutRefreshesTheViewBeforeTheClientHearsBack) {
  Origin origin;
  Cachecar cachecar(origin.port(), routes("write-through"));
  auto before = cachecar.get("/products/5");
  ASSERT_EQ(before.header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto written = put(cachecar, "/products/5", R"({"price": 20.5})");
  EXPECT_EQ(written.status, 200);
  EXPECT_EQ(written.header("Cache-Status"), "cachecar; fwd=method; detail=refreshed");
  auto after = cachecar.get("/products/5");
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_EQ(json::parse(after.body)["price"], 20.5);
  EXPECT_EQ(version_of(after), version_of(written));
  EXPECT_EQ(origin.count("/products/5"), 3u) << "the first GET, the PUT, and the refetch";
  EXPECT_EQ(json::parse(cachecar.admin("GET", "/admin/stats").body)["refreshes"]["write_refreshed"],
            1);
}

TEST(WriteThrough, RefreshFromResponseStoresTheWritesOwnBody) {
  Origin origin;
  Cachecar cachecar(origin.port(), routes("write-through", "response"));
  cachecar.get("/products/6");
  auto written = put(cachecar, "/products/6", R"({"name": "six"})");
  EXPECT_EQ(written.header("Cache-Status"), "cachecar; fwd=method; detail=refreshed");
  auto after = cachecar.get("/products/6");
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; hit; ttl="));
  EXPECT_EQ(after.body, written.body);
  EXPECT_EQ(origin.count("/products/6"), 2u) << "no refetch";
}

TEST(WriteThrough, ADeleteDropsTheViewAndAnOriginErrorChangesNothing) {
  Origin origin;
  Cachecar cachecar(origin.port(), routes("write-through"));
  auto cached = cachecar.get("/products/7");
  ASSERT_EQ(cached.status, 200);
  // The origin refuses this write (not JSON): the cached view stays.
  auto refused = put(cachecar, "/products/7", "not json");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.header("Cache-Status"), "cachecar; fwd=method");
  EXPECT_THAT(cachecar.get("/products/7").header("Cache-Status"), StartsWith("cachecar; hit"));

  auto deleted = http_request(cachecar.port(), "DELETE", "/products/7");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.header("Cache-Status"), "cachecar; fwd=method; detail=dropped");
  auto gone = cachecar.get("/products/7");
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(gone.header("Cache-Status"), StartsWith("cachecar; fwd=miss"));
}

// 500 rounds of: B caches the view, a write goes to `write_port`, B reads at once.
struct RoundsResult {
  int stale = 0;
  double worst_window_ms = 0;  // longest time B served the old version
};

template <typename AfterWrite>
RoundsResult run_rounds(std::uint16_t write_port, Cachecar& b, int rounds, AfterWrite after_write) {
  RoundsResult result;
  HttpClient reader(b.port()), writer(write_port);
  for (int i = 0; i < rounds; ++i) {
    reader.get("/products/9");
    auto written = writer.request("PUT", "/products/9", {{"Content-Type", "application/json"}},
                                  "{\"price\": " + std::to_string(i) + "}");
    EXPECT_EQ(written.status, 200) << written.body;
    after_write(version_of(written));
    auto written_at = Clock::now();
    if (version_of(reader.get("/products/9")) == version_of(written)) continue;
    ++result.stale;
    // Stale: how long until B serves the write?
    auto deadline = written_at + std::chrono::seconds(2);
    bool caught_up = false;
    while (!caught_up && Clock::now() < deadline) {
      caught_up = version_of(reader.get("/products/9")) == version_of(written);
    }
    EXPECT_TRUE(caught_up) << "round " << i
                           << ": B still served the old version 2 s after the write; B: "
                           << b.admin("GET", "/admin/stats").body << "\nB's log:\n"
                           << b.log();
    result.worst_window_ms =
        std::max(result.worst_window_ms,
                 std::chrono::duration<double, std::milli>(Clock::now() - written_at).count());
  }
  return result;
}

TEST(ReadYourWrites, WriteThroughAcrossTheFleetHasNoStaleRead) {
  RedisServer redis;
  Origin origin;
  Cachecar a(origin.port(), with_redis(routes("write-through"), redis));
  Cachecar b(origin.port(), with_redis(routes("write-through"), redis));
  auto started = Clock::now();
  auto result = run_rounds(a.port(), b, 500, [](int) {});
  auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_EQ(result.stale, 0);
  auto stats = json::parse(a.admin("GET", "/admin/stats").body)["refreshes"];
  EXPECT_EQ(stats["write_unacknowledged"], 0);
  std::printf(
      "write-through, 500 rounds (PUT via A, GET via B): %d stale reads; %.2f s (%.2f ms a "
      "round)\n",
      result.stale, seconds, seconds * 1000 / 500);
}

TEST(ReadYourWrites, CacheAsideWithOnlyTheBusShowsTheWindow) {
  RedisServer redis;
  Origin origin;
  Cachecar a(origin.port(), with_redis(routes("bypass"), redis));
  Cachecar b(origin.port(), with_redis(routes("bypass"), redis));
  // The owning service writes to its own store (here: straight to the
  // origin, not through a cachecar, whose RFC 9111 §4.4 invalidation would
  // drop the view fleet-wide itself), then publishes the event.
  auto result = run_rounds(origin.port(), b, 500, [&](int version) {
    auto published = a.admin(
        "POST", "/admin/invalidate",
        R"({"type":"entity-updated","entity":"product","id":"9","source":"catalog-service",)"
        R"("version":)" +
            std::to_string(version) + "}");
    EXPECT_EQ(published.status, 200) << published.body;
  });
  std::printf(
      "cache-aside + bus only, 500 rounds (PUT to the origin, event, GET via B): %d stale reads; "
      "longest stale window %.2f ms\n",
      result.stale, result.worst_window_ms);
}

}  // namespace
}  // namespace cachecar::testing
