#include "cache/cacheability.hpp"

#include <gtest/gtest.h>

namespace cachecar::cache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

config::RoutePolicy route_with_ttl(std::optional<milliseconds> ttl) {
  config::RoutePolicy route;
  route.name = "r";
  route.ttl = ttl;
  return route;
}

ResponseFacts response(const char* cache_control = nullptr, unsigned status = 200) {
  ResponseFacts r;
  r.status = status;
  if (cache_control) {
    r.cache_control = parse_cache_control(cache_control);
  }
  return r;
}

StorageDecision decide(const ResponseFacts& r, const config::RoutePolicy& route,
                       RequestFacts request = {}, double draw = 0.0) {
  return decide_storage(request, r, route, kNow, draw);
}

TEST(Cacheability, RouteTtlAppliesWhenTheOriginIsSilent) {
  auto d = decide(response(), route_with_ttl(seconds(300)));
  EXPECT_EQ(d.verdict, StoreVerdict::store);
  EXPECT_EQ(d.time_to_live, seconds(300));
}

TEST(Cacheability, OriginFreshnessWinsUnlessTheRouteIgnoresIt) {
  auto route = route_with_ttl(seconds(300));
  EXPECT_EQ(decide(response("max-age=60"), route).time_to_live, seconds(60));
  EXPECT_EQ(decide(response("max-age=60, s-maxage=90"), route).time_to_live, seconds(90));
  route.origin_cache_control = config::OriginCacheControl::ignore;
  EXPECT_EQ(decide(response("max-age=60"), route).time_to_live, seconds(300));
}

TEST(Cacheability, ExpiresMinusDateAndAgeCount) {
  auto r = response();
  r.date = kNow;
  r.expires = kNow + seconds(100);
  r.age = seconds(30);
  auto d = decide(r, route_with_ttl(std::nullopt));
  EXPECT_EQ(d.verdict, StoreVerdict::store);
  EXPECT_EQ(d.time_to_live, seconds(70));
  r.expires_invalid = true;
  r.expires.reset();
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).verdict, StoreVerdict::expired);
}

TEST(Cacheability, NeverStoresWhatMustNotBeShared) {
  auto route = route_with_ttl(seconds(300));
  EXPECT_EQ(decide(response("no-store"), route).verdict, StoreVerdict::no_store);
  EXPECT_EQ(decide(response("private, max-age=60"), route).verdict, StoreVerdict::is_private);
  auto cookie = response("max-age=60");
  cookie.has_set_cookie = true;
  EXPECT_EQ(decide(cookie, route).verdict, StoreVerdict::set_cookie);
  RequestFacts no_store_request;
  no_store_request.cache_control.no_store = true;
  EXPECT_EQ(decide(response(), route, no_store_request).verdict, StoreVerdict::no_store);
  EXPECT_EQ(decide(response("no-cache"), route).verdict, StoreVerdict::no_cache);
}

TEST(Cacheability, AuthorizedRequestsAreSharedOnlyWhenTheOriginSaysSo) {
  auto route = route_with_ttl(seconds(300));
  RequestFacts authorized;
  authorized.has_authorization = true;
  EXPECT_EQ(decide(response(), route, authorized).verdict, StoreVerdict::authorization);
  EXPECT_EQ(decide(response("public, max-age=10"), route, authorized).verdict, StoreVerdict::store);
  EXPECT_EQ(decide(response("s-maxage=10"), route, authorized).verdict, StoreVerdict::store);
}

TEST(Cacheability, TargetedFieldsOverrideCacheControl) {
  auto r = response("max-age=10");
  r.cache_control = parse_cache_control("max-age=500");  // as if CDN-Cache-Control said so
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).time_to_live, seconds(500));
}

TEST(Cacheability, StatusCodes) {
  auto route = route_with_ttl(seconds(60));
  EXPECT_EQ(decide(response(nullptr, 404), route).verdict, StoreVerdict::store);
  EXPECT_EQ(decide(response(nullptr, 500), route).verdict, StoreVerdict::status);
  EXPECT_EQ(decide(response(nullptr, 302), route).verdict, StoreVerdict::status);
  EXPECT_EQ(decide(response("max-age=5", 302), route).verdict, StoreVerdict::store);
  EXPECT_EQ(decide(response("max-age=5", 206), route).verdict, StoreVerdict::status);
}

TEST(Cacheability, NoFreshnessNoStore) {
  EXPECT_EQ(decide(response(), route_with_ttl(std::nullopt)).verdict, StoreVerdict::no_freshness);
  EXPECT_EQ(decide(response("max-age=0"), route_with_ttl(std::nullopt)).verdict,
            StoreVerdict::expired);
}

TEST(Cacheability, HeuristicFreshnessIsATenthOfTheTimeSinceLastModifiedCappedAtADay) {
  auto r = response();
  auto now = Clock::now();
  r.date = now;
  r.last_modified = now - std::chrono::hours(10);
  auto d = decide(r, route_with_ttl(std::nullopt));
  EXPECT_EQ(d.verdict, StoreVerdict::store);
  EXPECT_EQ(d.time_to_live, std::chrono::hours(1));
  r.last_modified = now - std::chrono::hours(24 * 30);
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).time_to_live, std::chrono::hours(24));
  r.age = std::chrono::seconds(600);
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).time_to_live,
            std::chrono::hours(24) - std::chrono::minutes(10));
  EXPECT_EQ(decide(r, route_with_ttl(seconds(60))).time_to_live, seconds(60))
      << "the route's ttl comes first";
  r.status = 302;
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).verdict, StoreVerdict::status)
      << "not cacheable by default";
}

TEST(Cacheability, VaryOutsideTheKeyIsStoredPerVariantButVaryStarNever) {
  auto r = response("max-age=60");
  r.vary_names = {"accept-language"};
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).verdict, StoreVerdict::store);
  r.vary_star = true;  // also how a Vary list that does not parse arrives
  EXPECT_EQ(decide(r, route_with_ttl(std::nullopt)).verdict, StoreVerdict::vary);
}

TEST(Cacheability, StaleIfErrorComesFromTheRouteOrTheOriginAndYieldsToMustRevalidate) {
  auto route = route_with_ttl(seconds(60));
  EXPECT_EQ(decide(response(), route).stale_if_error, seconds(0));
  EXPECT_EQ(decide(response("max-age=10, stale-if-error=300"), route).stale_if_error, seconds(300));
  route.stale_if_error = seconds(600);
  EXPECT_EQ(decide(response("max-age=10, stale-if-error=300"), route).stale_if_error, seconds(600));
  EXPECT_EQ(decide(response("max-age=10, must-revalidate"), route).stale_if_error, seconds(0));
  EXPECT_EQ(decide(response("max-age=10, proxy-revalidate"), route).stale_if_error, seconds(0));
}

TEST(Cacheability, StaleWhileRevalidateComesFromTheRouteOrTheOriginAndYieldsToMustRevalidate) {
  auto route = route_with_ttl(seconds(60));
  EXPECT_EQ(decide(response(), route).stale_while_revalidate, seconds(0));
  EXPECT_EQ(decide(response("max-age=10, stale-while-revalidate=30"), route).stale_while_revalidate,
            seconds(30));
  route.stale_while_revalidate = seconds(90);
  EXPECT_EQ(decide(response("max-age=10, stale-while-revalidate=30"), route).stale_while_revalidate,
            seconds(90));
  EXPECT_EQ(decide(response("max-age=10, must-revalidate"), route).stale_while_revalidate,
            seconds(0));
  EXPECT_EQ(decide(response("max-age=10, proxy-revalidate"), route).stale_while_revalidate,
            seconds(0));
}

TEST(Cacheability, JitterOnlyShortensWithinItsBound) {
  auto route = route_with_ttl(seconds(100));
  route.ttl_jitter = 0.10;
  EXPECT_EQ(decide(response(), route, {}, 0.0).time_to_live, seconds(100));
  EXPECT_EQ(decide(response(), route, {}, 0.5).time_to_live, seconds(95));
  auto shortest = decide(response(), route, {}, 0.999999).time_to_live;
  EXPECT_GT(shortest, seconds(90) - milliseconds(1));
  EXPECT_LT(shortest, seconds(91));
}

}  // namespace
}  // namespace cachecar::cache
