#include "cache/cache_control.hpp"
#include "cache/http_date.hpp"

#include <gtest/gtest.h>

namespace cachecar::cache {
namespace {

using std::chrono::seconds;

TEST(CacheControl, ParsesDirectivesCaseInsensitively) {
  auto d = parse_cache_control("Public, MAX-AGE=60, s-maxage=\"120\", must-revalidate");
  EXPECT_TRUE(d.present);
  EXPECT_TRUE(d.is_public);
  EXPECT_EQ(d.max_age, seconds(60));
  EXPECT_EQ(d.s_maxage, seconds(120));
  EXPECT_TRUE(d.must_revalidate);
  EXPECT_FALSE(d.no_store);
}

TEST(CacheControl, QualifiedFormsAndQuotedCommas) {
  auto d = parse_cache_control("private=\"Set-Cookie, X-A\", no-cache=\"X-B\", max-age=5");
  EXPECT_TRUE(d.is_private);
  EXPECT_TRUE(d.no_cache);
  EXPECT_EQ(d.max_age, seconds(5));
}

TEST(CacheControl, InvalidDeltaSecondsReadAsZero) {
  EXPECT_EQ(parse_cache_control("max-age=abc").max_age, seconds(0));
  EXPECT_EQ(parse_cache_control("max-age=-5").max_age, seconds(0));
  EXPECT_EQ(parse_cache_control("max-age=99999999999999999999").max_age, seconds(2147483648LL));
}

TEST(CacheControl, Rfc5861Extensions) {
  auto d = parse_cache_control("max-age=1, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_EQ(d.stale_while_revalidate, seconds(30));
  EXPECT_EQ(d.stale_if_error, seconds(600));
}

TEST(CacheControl, RepeatedFieldLinesFold) {
  CacheDirectives d;
  parse_cache_control("no-store", d);
  parse_cache_control("max-age=3", d);
  EXPECT_TRUE(d.no_store);
  EXPECT_EQ(d.max_age, seconds(3));
}

TEST(HttpDate, ParsesTheThreeFormats) {
  auto expected = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("0"));
}

}  // namespace
}  // namespace cachecar::cache
