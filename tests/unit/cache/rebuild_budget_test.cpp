#include "cache/rebuild_budget.hpp"

#include <gtest/gtest.h>

namespace cachecar::cache {
namespace {

using std::chrono::milliseconds;
using Clock = RebuildBudget::Clock;

TEST(RebuildBudget, AllowsASecondsWorthAtOnceThenTheRate) {
  RebuildBudget budget(4);  // 4/s: a burst of 4, then one per 250 ms
  auto t = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(budget.take(t, {}), Clock::duration::zero()) << i;
  Clock::duration retry_after{};
  EXPECT_FALSE(budget.take(t, {}, &retry_after));
  EXPECT_EQ(retry_after, milliseconds(250));
  EXPECT_FALSE(budget.take(t + milliseconds(249), {}));
  EXPECT_EQ(budget.take(t + milliseconds(250), {}), Clock::duration::zero());
}

TEST(RebuildBudget, AWaitReservesTheNextTokenAndTooLongAWaitTakesNothing) {
  RebuildBudget budget(2);
  auto t = Clock::time_point{} + std::chrono::hours(1);
  budget.take(t, {});
  budget.take(t, {});
  EXPECT_EQ(budget.take(t, milliseconds(1000)), milliseconds(500));   // reserved
  EXPECT_EQ(budget.take(t, milliseconds(1000)), milliseconds(1000));  // the one after
  EXPECT_FALSE(budget.take(t, milliseconds(1000)));                   // 1.5 s away: refused
  EXPECT_EQ(budget.take(t + milliseconds(1500), {}), Clock::duration::zero())
      << "the refusal reserved nothing";
}

TEST(RebuildBudget, SlowRatesHoldOneToken) {
  RebuildBudget budget(0.5);  // 30/m
  auto t = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(budget.take(t, {}));
  EXPECT_FALSE(budget.take(t + milliseconds(1999), {}));
  EXPECT_TRUE(budget.take(t + milliseconds(2000), {}));
}

TEST(RebuildBudget, RoutesWithoutARateHaveNoBudget) {
  RebuildBudgets budgets({std::nullopt, 5.0});
  EXPECT_EQ(budgets.for_route(0), nullptr);
  EXPECT_NE(budgets.for_route(1), nullptr);
  EXPECT_EQ(budgets.for_route(7), nullptr);
}

}  // namespace
}  // namespace cachecar::cache
