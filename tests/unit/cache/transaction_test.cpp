// The cache transaction's phase moves, and that the header, the stats'
// status and the log's detail all read the same state.
#include "cache/transaction.hpp"

#include <gtest/gtest.h>

namespace cachecar::cache {
namespace {

TEST(Transaction, AFreshHitIsFoundThenServed) {
  Transaction tx;
  EXPECT_EQ(tx.phase(), Phase::lookup);
  EXPECT_FALSE(tx.answered());
  tx.found_fresh("redis");
  EXPECT_EQ(tx.phase(), Phase::fresh);
  EXPECT_EQ(tx.status(), CacheStatus::hit);
  EXPECT_EQ(tx.header(42).view(), "cachecar; hit; ttl=42; detail=redis");
  tx.answer(200);
  EXPECT_EQ(tx.phase(), Phase::served);
  EXPECT_TRUE(tx.answered());
  EXPECT_EQ(tx.http_status(), 200u);
}

TEST(Transaction, AMissIsFetchedStoredAndServed) {
  Transaction tx;
  tx.found_nothing(false);
  EXPECT_EQ(tx.phase(), Phase::miss);
  tx.fetch();
  EXPECT_EQ(tx.phase(), Phase::fetching);
  tx.filled(true, "");
  EXPECT_EQ(tx.phase(), Phase::stored);
  EXPECT_EQ(tx.header(60).view(), "cachecar; fwd=miss; stored");
  tx.answer(200);
  EXPECT_EQ(tx.status(), CacheStatus::miss);
}

TEST(Transaction, AFillThatWasNotKeptEndsUncacheableWithItsReason) {
  Transaction tx;
  tx.found_nothing(true);
  tx.fetch();
  tx.filled(false, "invalidated");
  EXPECT_EQ(tx.phase(), Phase::uncacheable);
  EXPECT_EQ(tx.status(), CacheStatus::vary_miss);
  EXPECT_EQ(tx.detail(), "invalidated");
  EXPECT_FALSE(tx.stored());
}

TEST(Transaction, StaleIfErrorIsCountedAndSentAsAHit) {
  Transaction tx;
  tx.found_expired(false);
  EXPECT_EQ(tx.status(), CacheStatus::stale);
  tx.fetch();
  tx.serve_stale("stale-if-error");
  EXPECT_EQ(tx.phase(), Phase::stale);
  EXPECT_EQ(tx.status(), CacheStatus::hit);  // what the stats count
  EXPECT_EQ(tx.header(-3).view(), "cachecar; hit; ttl=-3; detail=stale-if-error");
  EXPECT_EQ(tx.detail(), "stale-if-error");  // what the access line logs
}

TEST(Transaction, StaleWhileRevalidateAnswersStraightFromLookup) {
  Transaction tx;
  tx.serve_stale("stale-while-revalidate");
  EXPECT_EQ(tx.phase(), Phase::stale);
  EXPECT_EQ(tx.status(), CacheStatus::hit);
}

TEST(Transaction, ARefusedEntryIsFetchedUnderTheRequestsStatus) {
  Transaction tx;
  tx.found_expired(true);
  EXPECT_EQ(tx.status(), CacheStatus::request);
}

TEST(Transaction, ACollapsedRequestIsServedAPeersFill) {
  Transaction tx;
  tx.found_nothing(false);
  tx.collapsed("fleet");
  EXPECT_EQ(tx.phase(), Phase::stored);
  EXPECT_TRUE(tx.is_collapsed());
  EXPECT_FALSE(tx.stored());
  EXPECT_EQ(tx.header(10).view(), "cachecar; fwd=miss; collapsed; detail=fleet");
}

TEST(Transaction, ABypassStreamsThroughWithItsReason) {
  Transaction tx;
  tx.not_cacheable(CacheStatus::bypass, "duplicate-keyed-header");
  EXPECT_EQ(tx.phase(), Phase::uncacheable);
  tx.fetch();
  tx.not_stored("");  // no reason of its own: the refusal stays the detail
  EXPECT_EQ(tx.detail(), "duplicate-keyed-header");
  EXPECT_EQ(tx.header().view(), "cachecar; fwd=bypass; detail=duplicate-keyed-header");
}

TEST(Transaction, AnErrorOfOurOwnNamesItsCause) {
  Transaction tx;
  tx.found_nothing(false);
  tx.fetch();
  tx.explain("origin-timeout");
  EXPECT_EQ(tx.header().view(), "cachecar; fwd=miss; detail=origin-timeout");
  tx.answer(504);
  EXPECT_EQ(tx.http_status(), 504u);
}

TEST(Transaction, ARevalidationNamesTheOriginsStatus) {
  Transaction tx;
  tx.found_expired(false);
  tx.fetch();
  tx.filled(true, "");
  EXPECT_EQ(tx.header(30, 304).view(), "cachecar; fwd=stale; fwd-status=304; stored");
}

TEST(Transaction, KeepsTheOriginsShareOfTheTime) {
  Transaction tx(Transaction::SteadyClock::time_point(std::chrono::seconds(5)));
  EXPECT_EQ(tx.started(), Transaction::SteadyClock::time_point(std::chrono::seconds(5)));
  EXPECT_EQ(tx.origin_time().count(), 0);  // a hit never asks
  tx.found_nothing(false);
  tx.fetch();
  tx.origin_answered(std::chrono::milliseconds(12));
  EXPECT_EQ(tx.origin_time(), std::chrono::milliseconds(12));
}

TEST(Transaction, PhasesHaveNames) {
  EXPECT_STREQ(to_string(Phase::lookup), "lookup");
  EXPECT_STREQ(to_string(Phase::served), "served");
}

#ifndef NDEBUG
// The moves the header forbids stop a debug build (the ASan suite runs one).
TEST(TransactionDeathTest, AnswerIsGivenOnce) {
  Transaction tx;
  tx.found_fresh();
  tx.answer(200);
  EXPECT_DEATH(tx.answer(200), "answered twice");
}

TEST(TransactionDeathTest, AHitCannotBeFetched) {
  Transaction tx;
  tx.found_fresh();
  EXPECT_DEATH(tx.fetch(), "does not lead there");
}

TEST(TransactionDeathTest, NothingIsFilledWithoutAFetch) {
  Transaction tx;
  tx.found_nothing(false);
  EXPECT_DEATH(tx.filled(true, ""), "does not lead there");
}
#endif

}  // namespace
}  // namespace cachecar::cache
