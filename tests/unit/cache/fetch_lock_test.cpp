#include "cache/fetch_lock.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace cachecar::cache {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

store::EntryPtr entry(std::string body) {
  auto e = std::make_shared<store::Entry>();
  e->body = std::move(body);
  return e;
}

TEST(FetchLocks, TheFirstFetchesTheOthersWait) {
  FetchLocks locks;
  auto first = locks.acquire("k");
  ASSERT_TRUE(first.permit);
  auto second = locks.acquire("k");
  EXPECT_FALSE(second.permit);
  ASSERT_TRUE(second.flight);
  EXPECT_TRUE(locks.acquire("other").permit) << "keys do not block each other";
  EXPECT_EQ(locks.stats().fetches, 2u);
}

TEST(FetchLocks, WaitersOnOtherThreadsGetTheResult) {
  FetchLocks locks;
  auto fetcher = locks.acquire("k");
  std::vector<std::thread> threads;
  std::atomic<int> served{0};
  for (int t = 0; t < 4; ++t) {
    auto ticket = locks.acquire("k");  // joins the flight while it is in the air
    ASSERT_TRUE(ticket.flight);
    threads.emplace_back([&, ticket_flight = ticket.flight] {
      asio::io_context context;
      asio::co_spawn(
          context,
          [&, flight = ticket_flight]() -> asio::awaitable<void> {
            auto [outcome, result] = co_await flight->wait(milliseconds(5000));
            if (outcome == FlightOutcome::filled && result && result->body == "body") ++served;
          },
          asio::detached);
      context.run();
    });
  }
  // Each waiter starts waiting before the fetch finishes or after: either
  // way it is served.
  fetcher.permit.filled(entry("body"));
  for (auto& th : threads) th.join();
  EXPECT_EQ(served.load(), 4);
  EXPECT_TRUE(locks.acquire("k").permit) << "finished flights leave the table";
}

TEST(FetchLocks, ADroppedPermitWakesWaitersToElectAgain) {
  FetchLocks locks;
  asio::io_context context;
  FlightOutcome seen = FlightOutcome::pending;
  {
    auto fetcher = locks.acquire("k");
    auto waiter = locks.acquire("k");
    asio::co_spawn(
        context,
        [&, flight = waiter.flight]() -> asio::awaitable<void> {
          seen = (co_await flight->wait(milliseconds(5000))).first;
        },
        asio::detached);
    context.run_one();  // the waiter registers
  }                     // the fetcher's permit goes without a result
  context.run();
  EXPECT_EQ(seen, FlightOutcome::abandoned);
  EXPECT_EQ(locks.stats().abandoned, 1u);
  auto next = locks.acquire("k");
  EXPECT_TRUE(next.permit) << "the key is free for a new fetcher";
}

TEST(FetchLocks, AWaiterGivesUpAtItsLimit) {
  FetchLocks locks;
  auto fetcher = locks.acquire("k");
  asio::io_context context;
  FlightOutcome seen = FlightOutcome::filled;
  asio::co_spawn(
      context,
      [&, flight = locks.acquire("k").flight]() -> asio::awaitable<void> {
        seen = (co_await flight->wait(milliseconds(20))).first;
      },
      asio::detached);
  context.run();
  EXPECT_EQ(seen, FlightOutcome::pending);
}

TEST(FetchLocks, AnUncacheableKeyIsPassedForAWhile) {
  FetchLocks locks(milliseconds(1000));
  auto t0 = FetchLocks::Clock::now();
  locks.acquire("k", t0).permit.uncacheable();
  EXPECT_TRUE(locks.acquire("k", t0 + milliseconds(10)).pass);
  auto later = locks.acquire("k", t0 + milliseconds(2000));
  EXPECT_FALSE(later.pass);
  EXPECT_TRUE(later.permit);
}

}  // namespace
}  // namespace cachecar::cache
