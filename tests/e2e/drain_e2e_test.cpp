// Drain under load (issue 6): on SIGTERM /readyz turns 503 at once so the
// Service stops sending, keep-alive clients and new connections are still
// served for drain_delay, every request in flight completes, and the
// process exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <future>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kDrainConfig =
    "workers: 2\n"
    "drain_delay: 1s\n"
    "shutdown_grace: 10s\n"
    "log: { format: text, level: warn }\n"
    "routes:\n"
    "  - name: t\n"
    "    match: { path: \"/t/{*rest}\" }\n"
    "    ttl: 60s\n";

TEST(Drain, UnderLoadReadyzFlipsAtOnceAndNothingInFlightFails) {
  Origin origin;
  Cachecar cachecar(origin.port(), kDrainConfig);
  ASSERT_EQ(cachecar.get("/t/hot").status, 200);

  // Keep-alive clients hitting the cache without pause...
  std::atomic<bool> stop{false};
  std::atomic<int> hits_after_signal{0}, hit_failures{0};
  std::atomic<bool> signalled{false};
  std::vector<std::thread> hitters;
  for (int i = 0; i < 4; ++i) {
    hitters.emplace_back([&] {
      HttpClient client(cachecar.port());
      while (!stop) {
        auto r = client.get("/t/hot");
        if (r.status != 200)
          ++hit_failures;
        else if (signalled)
          ++hits_after_signal;
      }
    });
  }
  // ...and slow requests in flight at the origin.
  constexpr int kSlow = 24;
  std::vector<std::future<HttpResponse>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::async(std::launch::async, [&, i] {
      return cachecar.get("/t/slow-" + std::to_string(i) +
                          "?delay_ms=1400");  // outlasts drain_delay
    }));
  }
  eventually([&] { return origin.stats()["in_flight"].get<int>() >= kSlow; });
  ASSERT_EQ(origin.stats()["in_flight"].get<int>(), kSlow);

  const auto signalled_at = Steady::now();
  cachecar.process().send_signal(SIGTERM);
  signalled = true;
  HttpResponse ready;
  do {
    ready = cachecar.admin("GET", "/readyz");
  } while (ready.status != 503 && Steady::now() - signalled_at < milliseconds(500));
  const auto flip = std::chrono::duration_cast<milliseconds>(Steady::now() - signalled_at);
  ASSERT_EQ(ready.status, 503);
  EXPECT_LT(flip.count(), 100) << "readyz must turn 503 at once";
  EXPECT_EQ(nlohmann::json::parse(ready.body)["draining"], true);

  // Within drain_delay a new connection is still served.
  auto fresh = http_request(cachecar.port(), "GET", "/t/new-connection");
  EXPECT_EQ(fresh.status, 200) << fresh.error;

  // The clients stop before drain_delay ends, as they would once the
  // endpoint is gone from the Service.
  std::this_thread::sleep_until(signalled_at + milliseconds(700));
  stop = true;
  for (auto& t : hitters) t.join();
  EXPECT_EQ(hit_failures.load(), 0);
  EXPECT_GT(hits_after_signal.load(), 0) << "kept serving while draining";

  for (auto& f : slow) {
    auto r = f.get();
    EXPECT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(cachecar.process().wait_exit(std::chrono::seconds(10)), 0) << cachecar.log();
  EXPECT_EQ(cachecar.get("/t/hot").status, 0) << "gone after the drain";
  std::cout << "[ drain ] readyz 503 after " << flip.count() << " ms; " << hits_after_signal.load()
            << " hits served after SIGTERM, " << kSlow << " slow requests completed\n";
}

}  // namespace
}  // namespace cachecar::testing
