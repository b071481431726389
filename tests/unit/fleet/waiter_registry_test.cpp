// fleet::WaiterRegistry, the one registry behind write-through
// acknowledgements and lease-release signals (issue 12): signals from
// another thread reach each waiter of the name on its own executor, early
// signals are counted rather than lost, and a waiter that left is never
// touched.
#include "fleet/waiter_registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

namespace cachecar::fleet {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Waits (bounded by `limit`) on the waiter's timer until `wanted` signals
// have come; how many came.
asio::awaitable<std::uint64_t> wait_for(WaiterRegistry::Waiter& waiter, std::uint64_t wanted,
                                        std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (waiter.signals < wanted && std::chrono::steady_clock::now() < deadline) {
    waiter.timer.expires_at(deadline);
    co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return waiter.signals;
}

TEST(WaiterRegistry, ASignalFromAnotherThreadWakesEveryWaiterOfTheName) {
  WaiterRegistry registry;
  asio::io_context context;
  auto first = registry.add("key-1", context.get_executor());
  auto second = registry.add("key-1", context.get_executor());
  auto other = registry.add("key-2", context.get_executor());
  std::uint64_t got_first = 0, got_second = 0;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> { got_first = co_await wait_for(first->waiter(), 1, 10s); },
      asio::detached);
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> { got_second = co_await wait_for(second->waiter(), 1, 10s); },
      asio::detached);
  std::size_t woken = 0;
  std::thread bus([&] { woken = registry.signal("key-1"); });
  const auto started = std::chrono::steady_clock::now();
  context.run();  // returns once both coroutines have been woken
  bus.join();
  EXPECT_EQ(woken, 2u);
  EXPECT_EQ(got_first, 1u);
  EXPECT_EQ(got_second, 1u);
  EXPECT_EQ(other->waiter().signals, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s)
      << "woken by the signal, not the 10 s deadline";
}

TEST(WaiterRegistry, ASignalBeforeTheWaitIsCountedNotLost) {
  WaiterRegistry registry;
  asio::io_context context;
  auto registration = registry.add("ack/1", context.get_executor());
  EXPECT_EQ(registry.signal("ack/1"), 1u);
  EXPECT_EQ(registry.signal("ack/1"), 1u);  // two receivers acknowledged
  std::uint64_t got = 0;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> { got = co_await wait_for(registration->waiter(), 2, 10s); },
      asio::detached);
  context.run();
  EXPECT_EQ(got, 2u);
}

TEST(WaiterRegistry, AWaiterThatLeftIsNeverSignalled) {
  WaiterRegistry registry;
  asio::io_context context;
  auto stays = registry.add("key", context.get_executor());
  {
    auto leaves = registry.add("key", context.get_executor());
    EXPECT_EQ(leaves->name(), "key");
  }
  EXPECT_EQ(registry.signal("key"), 1u);
  EXPECT_EQ(registry.signal("nobody"), 0u);
  context.run();  // runs the posted wake-up
  EXPECT_EQ(stays->waiter().signals, 1u);
}

}  // namespace
}  // namespace cachecar::fleet
