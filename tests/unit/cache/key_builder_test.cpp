#include "cache/key_builder.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cachecar::cache {
namespace {

class MapHeaders final : public HeaderSource {
 public:
  MapHeaders() = default;
  MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values) {}
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = values_.find(std::string(name));
    if (it == values_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

config::RoutePolicy product_route() {
  config::RoutePolicy route;
  route.name = "product";
  route.entity = "product";
  route.version = 2;
  std::string error;
  route.path = *config::RouteTemplate::parse("/products/{id}", error);
  return route;
}

std::string key_of(const config::RoutePolicy& route, std::string_view path,
                   std::string_view query = {}, const MapHeaders& headers = MapHeaders{}) {
  config::RouteValues values;
  EXPECT_TRUE(route.path.match(path, values)) << path;
  KeyScratch scratch;
  if (build_key(route, "prod", values, query, headers, scratch) != KeyOutcome::built)
    return "<no key>";
  return scratch.key;
}

TEST(KeyBuilder, HasTheSixSegmentsOfTheSpec) {
  EXPECT_EQ(key_of(product_route(), "/products/42"), "prod:-:product:42:-:v2");
  auto unnamed = product_route();
  unnamed.entity.clear();
  EXPECT_EQ(key_of(unnamed, "/products/42"), "prod:-:product:42:-:v2");
  unnamed.name = "catalog";
  EXPECT_EQ(key_of(unnamed, "/products/42"), "prod:-:catalog:42:-:v2");
}

TEST(KeyBuilder, TenantsGetDifferentKeys) {
  auto route = product_route();
  route.tenant_header = "X-Tenant-Id";
  auto acme = key_of(route, "/products/42", {}, MapHeaders{{"X-Tenant-Id", "acme"}});
  auto globex = key_of(route, "/products/42", {}, MapHeaders{{"X-Tenant-Id", "globex"}});
  EXPECT_EQ(acme, "prod:acme:product:42:-:v2");
  EXPECT_NE(acme, globex);
}

TEST(KeyBuilder, TenantRouteWithoutTenantBuildsNoKey) {
  auto route = product_route();
  route.tenant_header = "X-Tenant-Id";
  EXPECT_EQ(key_of(route, "/products/42"), "<no key>");
  EXPECT_EQ(key_of(route, "/products/42", {}, MapHeaders{{"X-Tenant-Id", ""}}), "<no key>");
}

TEST(KeyBuilder, VersionsNeverShareKeys) {
  auto v2 = product_route();
  auto v3 = product_route();
  v3.version = 3;
  EXPECT_NE(key_of(v2, "/products/42"), key_of(v3, "/products/42"));
}

TEST(KeyBuilder, WholeQueryCountsSortedWhenNoAllowList) {
  auto route = product_route();
  auto ab = key_of(route, "/products/42", "a=1&b=2");
  EXPECT_EQ(ab, key_of(route, "/products/42", "b=2&a=1"));
  EXPECT_NE(ab, key_of(route, "/products/42", "a=1&b=3"));
  EXPECT_NE(ab, key_of(route, "/products/42"));
  // Repeated names keep their order: it may carry meaning.
  EXPECT_NE(key_of(route, "/products/42", "x=1&x=2"), key_of(route, "/products/42", "x=2&x=1"));
}

TEST(KeyBuilder, QueryAllowListKeepsOnlyThoseParameters) {
  auto route = product_route();
  route.query = std::vector<std::string>{"currency"};
  auto eur = key_of(route, "/products/42", "currency=EUR&utm_source=mail");
  EXPECT_EQ(eur, key_of(route, "/products/42", "utm_source=ad&currency=EUR"));
  EXPECT_NE(eur, key_of(route, "/products/42", "currency=USD"));
  EXPECT_EQ(key_of(route, "/products/42", "utm_source=x"), "prod:-:product:42:-:v2");
}

TEST(KeyBuilder, VaryHeadersEnterTheProjection) {
  auto route = product_route();
  route.vary = {"Accept-Language"};
  auto en = key_of(route, "/products/42", {}, MapHeaders{{"Accept-Language", "en"}});
  auto fr = key_of(route, "/products/42", {}, MapHeaders{{"Accept-Language", "fr"}});
  auto none = key_of(route, "/products/42");
  auto empty = key_of(route, "/products/42", {}, MapHeaders{{"Accept-Language", ""}});
  EXPECT_NE(en, fr);
  EXPECT_NE(en, none);
  EXPECT_NE(none, empty);
}

TEST(KeyBuilder, ColonsAreEscapedSoKeysStayParseable) {
  auto route = product_route();
  route.tenant_header = "X-Tenant-Id";
  auto key = key_of(route, "/products/a:b", {}, MapHeaders{{"X-Tenant-Id", "t:1"}});
  EXPECT_EQ(key, "prod:t%3A1:product:a%3Ab:-:v2");
  // "a:b" as one identity never collides with the segments shifting.
  EXPECT_EQ(std::count(key.begin(), key.end(), ':'), 5);
  EXPECT_NE(key_of(route, "/products/a%3Ab", {}, MapHeaders{{"X-Tenant-Id", "t"}}),
            key_of(route, "/products/a:b", {}, MapHeaders{{"X-Tenant-Id", "t"}}));
}

TEST(KeyBuilder, DashAloneIsEscapedSinceItMeansAbsent) {
  EXPECT_EQ(key_of(product_route(), "/products/-"), "prod:-:product:%2D:-:v2");
}

TEST(KeyBuilder, LongSegmentsAreHashedAndKeptInTheFingerprint) {
  auto route = product_route();
  std::string long_id(300, 'z');
  config::RouteValues values;
  std::string path = "/products/" + long_id;
  ASSERT_TRUE(route.path.match(path, values));
  KeyScratch scratch;
  ASSERT_EQ(build_key(route, "prod", values, {}, MapHeaders{}, scratch), KeyOutcome::built);
  auto identity_start = std::string("prod:-:product:").size();
  EXPECT_EQ(scratch.key[identity_start], '~');
  EXPECT_EQ(scratch.key.size(), identity_start + 17 + std::string(":-:v2").size());
  EXPECT_NE(scratch.fingerprint.find(long_id), std::string::npos);
  std::string other_path = "/products/" + std::string(299, 'z') + "y";
  ASSERT_TRUE(route.path.match(other_path, values));
  KeyScratch other;
  build_key(route, "prod", values, {}, MapHeaders{}, other);
  EXPECT_NE(scratch.key, other.key);
  EXPECT_NE(scratch.fingerprint, other.fingerprint);
}

TEST(KeyBuilder, MultipleVariablesAndCatchAll) {
  config::RoutePolicy route;
  route.name = "files";
  std::string error;
  route.path = *config::RouteTemplate::parse("/t/{tenant}/files/{*rest}", error);
  EXPECT_EQ(key_of(route, "/t/7/files/a/b.txt"), "prod:-:files:7/a/b.txt:-:v1");
}

TEST(KeyBuilder, ExplainNamesEachSegmentsOrigin) {
  auto route = product_route();
  route.query = std::vector<std::string>{"currency"};
  config::RouteValues values;
  ASSERT_TRUE(route.path.match("/products/42", values));
  KeyScratch scratch;
  std::vector<KeySegmentOrigin> explain;
  build_key(route, "prod", values, "currency=EUR", MapHeaders{}, scratch, &explain);
  ASSERT_EQ(explain.size(), 6u);
  EXPECT_EQ(explain[3].name, "identity");
  EXPECT_EQ(explain[3].value, "42");
  EXPECT_EQ(explain[3].origin, "path variables id=42");
  EXPECT_EQ(explain[4].name, "projection");
  EXPECT_NE(explain[4].origin.find("currency=EUR"), std::string::npos);
}

}  // namespace
}  // namespace cachecar::cache
