// stale-if-error (issue 4): when the origin fails or answers 5xx, an
// expired entry answers instead, inside its window, unless the origin said
// must-revalidate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The origin is told to fail by a header knob (X-Knob-Status: 500), which
// does not change the key: the same entry is asked for while it fails.
const std::string kConfig = std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: long-window
    match: { path: "/t/sie/{*rest}" }
    ttl: 200ms
    stale_if_error: 1m
  - name: short-window
    match: { path: "/t/brief/{*rest}" }
    ttl: 200ms
    stale_if_error: 1s
)";

// Asks for `target` until the fresh entry has expired, i.e. until the answer
// is no longer a fresh hit; returns that answer.
HttpResponse first_answer_after_expiry(Cachecar& cachecar, const std::string& target,
                                       const Headers& headers = {}) {
  HttpResponse r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r = cachecar.get(target, headers);
  } while (r.header("Cache-Status").rfind("cachecar; hit; ttl=", 0) == 0 &&
           r.header("Cache-Status").find("stale") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  return r;
}

TEST(StaleIfError, AnOrigin5xxIsAnsweredWithTheStaleEntry) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  auto fresh = cachecar.get("/t/sie/a");
  ASSERT_EQ(fresh.header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto stale = first_answer_after_expiry(cachecar, "/t/sie/a", {{"X-Knob-Status", "500"}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_THAT(stale.header("Cache-Status"), StartsWith("cachecar; hit; ttl=-"));
  EXPECT_THAT(stale.header("Cache-Status"), HasSubstr("detail=stale-if-error"));
  EXPECT_EQ(stale.body, fresh.body);
}

// Issue 12: the stats count what was sent. A stale-if-error answer goes out
// as a hit; it used to be counted as the stale fetch it began as.
TEST(StaleIfError, IsCountedAsTheHitItWasSentAs) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  const std::string hits = R"(cachecar_requests_total{route="long-window",cache_status="hit"})";
  const std::string stale = R"(cachecar_requests_total{route="long-window",cache_status="stale"})";
  cachecar.get("/t/sie/count");
  auto first = first_answer_after_expiry(cachecar, "/t/sie/count", {{"X-Knob-Status", "500"}});
  ASSERT_THAT(first.header("Cache-Status"), HasSubstr("detail=stale-if-error"));
  const auto hits_before = cachecar.metric(hits);
  for (int i = 0; i < 3; ++i) {
    auto again = cachecar.get("/t/sie/count", {{"X-Knob-Status", "500"}});
    EXPECT_THAT(again.header("Cache-Status"), StartsWith("cachecar; hit; ttl=-"));
    EXPECT_THAT(again.header("Cache-Status"), HasSubstr("detail=stale-if-error"));
  }
  EXPECT_EQ(cachecar.metric(hits), hits_before + 3);
  EXPECT_EQ(cachecar.metric(stale), 0u);
  auto stats = nlohmann::json::parse(cachecar.admin("GET", "/admin/stats").body);
  EXPECT_EQ(stats["routes"]["long-window"]["stale"], 0);
}

TEST(StaleIfError, AStoppedOriginIsCoveredInsideTheWindowAndNotAfter) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  auto fresh = cachecar.get("/t/brief/a");
  origin.process().send_signal(SIGKILL);
  origin.process().wait_exit(std::chrono::seconds(5));
  auto stale = first_answer_after_expiry(cachecar, "/t/brief/a");
  EXPECT_EQ(stale.status, 200);
  EXPECT_THAT(stale.header("Cache-Status"), HasSubstr("detail=stale-if-error"));
  EXPECT_EQ(stale.body, fresh.body);
  // Past the 1 s window: the error is the answer.
  HttpResponse after;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = cachecar.get("/t/brief/a");
  } while (after.status == 200 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.status, 502);
}

TEST(StaleIfError, MustRevalidateForbidsIt) {
  Origin origin;
  Cachecar cachecar(origin.port(), kConfig);
  ASSERT_EQ(cachecar.get("/t/sie/m", {{"X-Knob-Cc", "must-revalidate"}}).header("Cache-Status"),
            "cachecar; fwd=miss; stored");
  auto after = first_answer_after_expiry(cachecar, "/t/sie/m", {{"X-Knob-Status", "500"}});
  EXPECT_EQ(after.status, 500);
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; fwd=stale"));
}

}  // namespace
}  // namespace cachecar::testing
