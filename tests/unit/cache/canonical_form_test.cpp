// Keyed = forwarded (issue 10): the canonical target, the checks on keyed
// fields, and the key of the canonical request, as pure functions.
#include "cache/canonical_form.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "cache/field_lines.hpp"

namespace cachecar::cache {
namespace {

using Lines = FieldLines::Lines;

config::RoutePolicy route(const char* path,
                          std::optional<std::vector<std::string>> query = std::nullopt) {
  config::RoutePolicy r;
  r.name = "r";
  std::string error;
  r.path = *config::RouteTemplate::parse(path, error);
  r.query = std::move(query);
  return r;
}

struct TargetCase {
  const char* name;
  const char* template_path;
  std::optional<std::vector<std::string>> query_list;
  const char* target;
  const char* canonical;  // nullptr: refused as ambiguous
};

class CanonicalTarget : public ::testing::TestWithParam<TargetCase> {};

TEST_P(CanonicalTarget, IsWhatTheOriginGets) {
  const auto& c = GetParam();
  auto r = route(c.template_path, c.query_list);
  std::string_view target = c.target;
  auto q = target.find('?');
  config::RouteValues values;
  ASSERT_TRUE(r.path.match(target.substr(0, q), values)) << c.target;
  std::string out;
  auto refusal =
      canonical_target(r, values, q == std::string_view::npos ? "" : target.substr(q + 1), out);
  if (c.canonical == nullptr) {
    EXPECT_EQ(refusal, Refusal::ambiguous_query);
  } else {
    EXPECT_EQ(refusal, Refusal::none);
    EXPECT_EQ(out, c.canonical);
  }
}

const std::vector<std::string> kCurrency{"currency"};

INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalTarget,
    ::testing::Values(
        TargetCase{"as_is", "/products/{id:int}", std::nullopt, "/products/7", "/products/7"},
        TargetCase{"trailing_slash", "/products/{id:int}", std::nullopt, "/products/7/",
                   "/products/7"},
        TargetCase{"literal_case", "/products/{id:int}", std::nullopt, "/PRODUCTS/7",
                   "/products/7"},
        TargetCase{"leading_zeros", "/products/{id:int}", std::nullopt, "/products/0042",
                   "/products/42"},
        TargetCase{"negative_zero", "/products/{id:int}", std::nullopt, "/products/-0",
                   "/products/0"},
        TargetCase{"guid_braces_upper", "/o/{id:guid}", std::nullopt,
                   "/o/{0A1B2C3D-0000-4000-8000-00000000ABCD}",
                   "/o/0a1b2c3d-0000-4000-8000-00000000abcd"},
        TargetCase{"guid_n_form", "/o/{id:guid}", std::nullopt,
                   "/o/0A1B2C3D000040008000000000000ABC",
                   "/o/0a1b2c3d-0000-4000-8000-000000000abc"},
        TargetCase{"plain_value_kept", "/u/{name}", std::nullopt, "/U/MixedCase", "/u/MixedCase"},
        TargetCase{"catch_all_kept", "/files/{*rest}", std::nullopt, "/Files/a/B/c.txt/",
                   "/files/a/B/c.txt"},
        TargetCase{"empty_catch_all", "/files/{*rest}", std::nullopt, "/files/", "/files"},
        TargetCase{"query_as_sent_without_a_list", "/p/{id}", std::nullopt, "/p/1?b=2&a=1&a=0",
                   "/p/1?b=2&a=1&a=0"},
        TargetCase{"only_listed_parameters", "/p/{id}", kCurrency, "/p/1?utm=x&currency=EUR",
                   "/p/1?currency=EUR"},
        TargetCase{"listed_name_in_any_case", "/p/{id}", kCurrency, "/p/1?CurRency=EUR",
                   "/p/1?currency=EUR"},
        TargetCase{"listed_name_percent_encoded", "/p/{id}", kCurrency, "/p/1?curr%65ncy=EUR",
                   "/p/1?currency=EUR"},
        TargetCase{"value_kept_as_sent", "/p/{id}", kCurrency, "/p/1?currency=E%55R",
                   "/p/1?currency=E%55R"},
        TargetCase{"repeats_keep_their_order", "/p/{id}", kCurrency, "/p/1?currency=b&Currency=a",
                   "/p/1?currency=b&currency=a"},
        TargetCase{"no_value", "/p/{id}", kCurrency, "/p/1?currency", "/p/1?currency"},
        TargetCase{"nothing_listed_sent", "/p/{id}", kCurrency, "/p/1?utm=x", "/p/1"},
        TargetCase{"broken_escape_in_a_name", "/p/{id}", kCurrency, "/p/1?curr%zzncy=EUR", nullptr},
        TargetCase{"truncated_escape", "/p/{id}", kCurrency, "/p/1?currency%6=EUR", nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CanonicalForm, TheCanonicalPathMatchesItsTemplateAgain) {
  auto r = route("/a/{x:int}/b/{y:guid}/{*rest}");
  config::RouteValues values;
  ASSERT_TRUE(r.path.match("/A/007/B/{0A1B2C3D-0000-4000-8000-00000000ABCD}/c/d/", values));
  std::string canonical;
  r.path.append_canonical_path(values, canonical);
  EXPECT_EQ(canonical, "/a/7/b/0a1b2c3d-0000-4000-8000-00000000abcd/c/d");
  config::RouteValues again;
  ASSERT_TRUE(r.path.match(canonical, again));
  std::string twice;
  r.path.append_canonical_path(again, twice);
  EXPECT_EQ(twice, canonical);
}

struct FieldCase {
  const char* name;
  Lines lines;
  Refusal expected;
};

class KeyedFields : public ::testing::TestWithParam<FieldCase> {};

TEST_P(KeyedFields, AreOneValueEachAndReachTheOrigin) {
  auto r = route("/users/{id}");
  r.tenant_header = "X-Tenant-Id";
  r.vary = {"Accept-Language"};
  config::ForwardingConfig forwarding;
  forwarding.allowed_hosts = std::vector<std::string>{"catalog", "*.shop.example"};
  FieldLines headers(GetParam().lines);
  std::string host_key;
  EXPECT_EQ(
      check_keyed_fields(r, forwarding, headers, forwarded_authority(headers, false), host_key),
      GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, KeyedFields,
    ::testing::Values(
        FieldCase{"clean", {{"Host", "catalog"}, {"X-Tenant-Id", "acme"}}, Refusal::none},
        FieldCase{"host_with_port_and_case", {{"Host", "CATALOG:8080"}}, Refusal::none},
        FieldCase{"wildcard_host", {{"Host", "eu.shop.example"}}, Refusal::none},
        FieldCase{
            "wildcard_is_not_the_parent", {{"Host", "shop.example"}}, Refusal::host_not_allowed},
        FieldCase{"suffix_trick", {{"Host", "evilshop.example"}}, Refusal::host_not_allowed},
        FieldCase{"other_host", {{"Host", "evil.example"}}, Refusal::host_not_allowed},
        FieldCase{"two_tenants",
                  {{"Host", "catalog"}, {"X-Tenant-Id", "a"}, {"x-tenant-id", "b"}},
                  Refusal::duplicate_keyed_header},
        FieldCase{"two_vary_values",
                  {{"Host", "catalog"}, {"Accept-Language", "en"}, {"Accept-Language", "de"}},
                  Refusal::duplicate_keyed_header},
        FieldCase{"tenant_hop_by_hop",
                  {{"Host", "catalog"}, {"Connection", "close, X-TENANT-ID"}},
                  Refusal::keyed_header_hop_by_hop},
        FieldCase{"vary_hop_by_hop",
                  {{"Host", "catalog"}, {"Connection", "accept-language"}},
                  Refusal::keyed_header_hop_by_hop},
        FieldCase{"host_hop_by_hop",
                  {{"Host", "catalog"}, {"Connection", "host"}},
                  Refusal::keyed_header_hop_by_hop},
        FieldCase{"other_hop_by_hop_is_fine",
                  {{"Host", "catalog"}, {"Connection", "keep-alive, X-Debug"}},
                  Refusal::none},
        FieldCase{"untrusted_forwarded_host_is_not_read",
                  {{"Host", "catalog"}, {"X-Forwarded-Host", "evil.example"}},
                  Refusal::none}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CanonicalForm, ATrustedProxysHostAndSchemeAreTheLastMembersAndEnterTheKey) {
  const Lines lines{{"Host", "10.0.0.7:8080"},
                    {"X-Forwarded-Host", "evil.example, Catalog"},
                    {"X-Forwarded-Proto", "http, https"}};
  FieldLines headers(lines);
  auto authority = forwarded_authority(headers, true);
  EXPECT_EQ(authority.host, "Catalog");
  EXPECT_EQ(authority.scheme, "https");
  config::ForwardingConfig open;  // no allowed_hosts: the host is keyed
  auto r = route("/p/{id}");
  config::RouteValues values;
  ASSERT_TRUE(r.path.match("/p/1", values));
  KeyScratch https_key, http_key, other_host_key;
  ASSERT_EQ(key_canonical_request(r, "prod", open, values, "", headers, authority, https_key),
            Refusal::none);
  ASSERT_TRUE(r.path.match("/p/1", values));
  ASSERT_EQ(
      key_canonical_request(r, "prod", open, values, "", headers, {"catalog", "http"}, http_key),
      Refusal::none);
  ASSERT_TRUE(r.path.match("/p/1", values));
  ASSERT_EQ(key_canonical_request(r, "prod", open, values, "", headers, {"other", "https"},
                                  other_host_key),
            Refusal::none);
  EXPECT_NE(https_key.key, http_key.key);
  EXPECT_NE(https_key.key, other_host_key.key);
  EXPECT_EQ(authority.scheme, "https");
  EXPECT_EQ(check_keyed_fields(r, open, headers, {"catalog", "gopher"}, https_key.target),
            Refusal::bad_forwarded_header);
}

TEST(CanonicalForm, WithAllowedHostsTheHostStaysOutOfTheKey) {
  config::ForwardingConfig forwarding;
  forwarding.allowed_hosts = std::vector<std::string>{"catalog", "localhost"};
  auto r = route("/p/{id}");
  const Lines none;
  FieldLines headers(none);
  KeyScratch a, b;
  config::RouteValues values;
  ASSERT_TRUE(r.path.match("/p/1", values));
  ASSERT_EQ(
      key_canonical_request(r, "prod", forwarding, values, "", headers, {"catalog", "http"}, a),
      Refusal::none);
  ASSERT_TRUE(r.path.match("/p/1", values));
  ASSERT_EQ(key_canonical_request(r, "prod", forwarding, values, "", headers,
                                  {"LOCALHOST:80", "http"}, b),
            Refusal::none);
  EXPECT_EQ(a.key, "prod:-:r:1:-:v1");
  EXPECT_EQ(a.key, b.key);
}

}  // namespace
}  // namespace cachecar::cache
