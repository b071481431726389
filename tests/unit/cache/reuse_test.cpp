#include "cache/reuse.hpp"

#include <gtest/gtest.h>

namespace cachecar::cache {
namespace {

using std::chrono::seconds;

const Clock::time_point kNow = Clock::time_point(std::chrono::hours(24 * 20000));

// Stored 100 s ago with Age 10 on arrival (age 110 s), `left` seconds of
// freshness left (negative: expired that long ago).
StoredTimes stored(long long left, bool must_revalidate = false) {
  StoredTimes t;
  t.stored_at = kNow - seconds(100);
  t.expires_at = kNow + seconds(left);
  t.initial_age_seconds = 10;
  t.must_revalidate = must_revalidate;
  return t;
}

struct ReuseCase {
  const char* name;
  const char* request;  // Cache-Control of the request
  long long left;
  bool must_revalidate;
  Reuse expected;
};

class ReuseTest : public ::testing::TestWithParam<ReuseCase> {};

TEST_P(ReuseTest, FollowsTheRequestsDirectives) {
  const auto& c = GetParam();
  EXPECT_EQ(reuse_for(parse_cache_control(c.request), stored(c.left, c.must_revalidate), kNow),
            c.expected)
      << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9111, ReuseTest,
    ::testing::Values(
        ReuseCase{"fresh", "", 30, false, Reuse::fresh},
        ReuseCase{"expired", "", -1, false, Reuse::expired},
        ReuseCase{"no_cache", "no-cache", 30, false, Reuse::refused},
        ReuseCase{"max_age_above_age", "max-age=200", 30, false, Reuse::fresh},
        ReuseCase{"max_age_below_age", "max-age=60", 30, false, Reuse::refused},
        ReuseCase{"max_age_0", "max-age=0", 30, false, Reuse::refused},
        ReuseCase{"min_fresh_met", "min-fresh=20", 30, false, Reuse::fresh},
        ReuseCase{"min_fresh_unmet", "min-fresh=40", 30, false, Reuse::refused},
        ReuseCase{"max_stale_any", "max-stale", -500, false, Reuse::stale_accepted},
        ReuseCase{"max_stale_within", "max-stale=60", -30, false, Reuse::stale_accepted},
        ReuseCase{"max_stale_beyond", "max-stale=60", -90, false, Reuse::expired},
        ReuseCase{"max_stale_vs_must_revalidate", "max-stale", -30, true, Reuse::expired},
        ReuseCase{"max_stale_quoted", "max-stale=\"60\"", -30, false, Reuse::stale_accepted},
        ReuseCase{"bad_number_is_zero", "max-age=abc", 30, false, Reuse::refused},
        ReuseCase{"upper_case", "MAX-AGE=60", 30, false, Reuse::refused}),
    [](const auto& info) { return std::string(info.param.name); });

struct ConditionalCase {
  const char* name;
  const char* if_none_match;  // nullptr: absent
  const char* if_modified_since;
  const char* etag;
  const char* last_modified;
  bool expected;
};

std::optional<std::string_view> opt(const char* s) {
  return s ? std::optional<std::string_view>(s) : std::nullopt;
}

class ConditionalTest : public ::testing::TestWithParam<ConditionalCase> {};

TEST_P(ConditionalTest, MatchesRfc9110) {
  const auto& c = GetParam();
  EXPECT_EQ(client_has_it(opt(c.if_none_match), opt(c.if_modified_since), opt(c.etag),
                          opt(c.last_modified)),
            c.expected)
      << c.name;
}

constexpr const char* kMonday = "Mon, 02 Nov 2026 10:00:00 GMT";
constexpr const char* kTuesday = "Tue, 03 Nov 2026 10:00:00 GMT";

INSTANTIATE_TEST_SUITE_P(
    Rfc9110, ConditionalTest,
    ::testing::Values(
        ConditionalCase{"same_etag", "\"a\"", nullptr, "\"a\"", nullptr, true},
        ConditionalCase{"other_etag", "\"b\"", nullptr, "\"a\"", nullptr, false},
        ConditionalCase{"in_a_list", "\"x\", \"a\"", nullptr, "\"a\"", nullptr, true},
        ConditionalCase{"weak_matches_strong", "W/\"a\"", nullptr, "\"a\"", nullptr, true},
        ConditionalCase{"star", "*", nullptr, nullptr, nullptr, true},
        ConditionalCase{"no_stored_etag", "\"a\"", nullptr, nullptr, kMonday, false},
        ConditionalCase{"inm_wins_over_ims", "\"b\"", kTuesday, "\"a\"", kMonday, false},
        ConditionalCase{"not_modified_since", nullptr, kTuesday, nullptr, kMonday, true},
        ConditionalCase{"modified_since", nullptr, kMonday, nullptr, kTuesday, false},
        ConditionalCase{"bad_date", nullptr, "yesterday", nullptr, kMonday, false},
        ConditionalCase{"nothing_asked", nullptr, nullptr, "\"a\"", kMonday, false}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace cachecar::cache
