#include "config/route_template.hpp"

#include <gtest/gtest.h>

#include <map>

#include "config/route_table.hpp"

namespace cachecar::config {
namespace {

RouteTemplate parse(std::string_view text) {
  std::string error;
  auto t = RouteTemplate::parse(text, error);
  EXPECT_TRUE(t) << text << ": " << error;
  return t ? *t : RouteTemplate{};
}

std::vector<std::string> match(const RouteTemplate& t, std::string_view path) {
  RouteValues values;
  if (!t.match(path, values)) return {"<no match>"};
  return {values.begin(), values.end()};
}

TEST(RouteTemplate, MatchesLiteralsCaseInsensitively) {
  auto t = parse("/products/list");
  EXPECT_EQ(match(t, "/products/list"), std::vector<std::string>{});
  EXPECT_EQ(match(t, "/Products/LIST"), std::vector<std::string>{});
  EXPECT_EQ(match(t, "/products/list/"), std::vector<std::string>{});
  EXPECT_EQ(match(t, "/products"), std::vector<std::string>{"<no match>"});
  EXPECT_EQ(match(t, "/products/list/x"), std::vector<std::string>{"<no match>"});
}

TEST(RouteTemplate, ExtractsVariablesInOrder) {
  auto t = parse("/users/{user}/orders/{order}");
  EXPECT_EQ(match(t, "/users/7/orders/99"), (std::vector<std::string>{"7", "99"}));
  EXPECT_EQ(match(t, "/users//orders/99"), std::vector<std::string>{"<no match>"});
}

TEST(RouteTemplate, ExpandsNamedValuesIntoAPathItMatches) {
  std::map<std::string, std::string, std::less<>> named{
      {"user", "7"}, {"order", "99"}, {"rest", "a/b"}};
  auto value_of = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = named.find(name);
    if (it == named.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  EXPECT_EQ(parse("/users/{user}/orders/{order:int}").expand(value_of), "/users/7/orders/99");
  EXPECT_EQ(parse("/files/{*rest}").expand(value_of), "/files/a/b");
  EXPECT_EQ(parse("/users/{missing}").expand(value_of), std::nullopt);
  named["order"] = "not-a-number";
  EXPECT_EQ(parse("/orders/{order:int}").expand(value_of), std::nullopt)
      << "the constraint still holds";
}

TEST(RouteTemplate, Constraints) {
  auto by_int = parse("/products/{id:int}");
  EXPECT_EQ(match(by_int, "/products/42"), std::vector<std::string>{"42"});
  EXPECT_EQ(match(by_int, "/products/-3"), std::vector<std::string>{"-3"});
  EXPECT_EQ(match(by_int, "/products/abc"), std::vector<std::string>{"<no match>"});
  EXPECT_EQ(match(by_int, "/products/99999999999"), std::vector<std::string>{"<no match>"});
  auto by_guid = parse("/orders/{id:guid}");
  EXPECT_EQ(match(by_guid, "/orders/0f8fad5b-d9cb-469f-a165-70867728950e"),
            std::vector<std::string>{"0f8fad5b-d9cb-469f-a165-70867728950e"});
  EXPECT_EQ(match(by_guid, "/orders/0f8fad5bd9cb469fa16570867728950e"),
            std::vector<std::string>{"0f8fad5bd9cb469fa16570867728950e"});
  EXPECT_EQ(match(by_guid, "/orders/42"), std::vector<std::string>{"<no match>"});
}

TEST(RouteTemplate, CatchAllTakesTheRestIncludingNothing) {
  auto t = parse("/files/{*rest}");
  EXPECT_EQ(match(t, "/files/a/b/c.txt"), std::vector<std::string>{"a/b/c.txt"});
  EXPECT_EQ(match(t, "/files"), std::vector<std::string>{""});
  EXPECT_EQ(match(t, "/other/a"), std::vector<std::string>{"<no match>"});
}

// Found by fuzz_route_template (issue 10): a catch-all value ending in "//"
// kept one '/' in its canonical path, which then matched to another value.
TEST(RouteTemplate, TheCanonicalPathOfACatchAllIsAFixedPoint) {
  std::string error;
  auto route = *RouteTemplate::parse("/o/{id}/{*rest}", error);
  for (const char* path : {"/o/1/k/o//", "/o/1/k/o/", "/o/1/k///", "/o/1//a", "/o/1/"}) {
    RouteValues values;
    ASSERT_TRUE(route.match(path, values)) << path;
    std::string canonical;
    route.append_canonical_path(values, canonical);
    RouteValues again;
    ASSERT_TRUE(route.match(canonical, again)) << path << " -> " << canonical;
    std::string twice;
    route.append_canonical_path(again, twice);
    EXPECT_EQ(twice, canonical) << path;
  }
}

TEST(RouteTemplate, RejectsMalformedTemplates) {
  std::string error;
  for (const char* bad : {"products", "/a/{*rest}/b", "/a/{id:float}", "/a/{}", "/a/x{id}",
                          "/a/{id}/{id}", "/a//b", "/a?x=1"}) {
    EXPECT_FALSE(RouteTemplate::parse(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(RouteTemplate, RelationsBetweenTemplates) {
  EXPECT_EQ(compare_templates(parse("/products/{id}"), parse("/products/{id}")),
            TemplateRelation::identical);
  EXPECT_EQ(compare_templates(parse("/products/{id:int}"), parse("/products/{id}")),
            TemplateRelation::first_narrower);
  EXPECT_EQ(compare_templates(parse("/products/{id}"), parse("/products/top")),
            TemplateRelation::second_narrower);
  EXPECT_EQ(compare_templates(parse("/products/{id}"), parse("/{*rest}")),
            TemplateRelation::first_narrower);
  EXPECT_EQ(compare_templates(parse("/a/{x}"), parse("/{y}/b")), TemplateRelation::ambiguous);
  EXPECT_EQ(compare_templates(parse("/a/{x}"), parse("/b/{y}")), TemplateRelation::disjoint);
  EXPECT_EQ(compare_templates(parse("/a/{x:int}"), parse("/a/{x:guid}")),
            TemplateRelation::disjoint);
  EXPECT_EQ(compare_templates(parse("/a/12"), parse("/a/{x:int}")),
            TemplateRelation::first_narrower);
  EXPECT_EQ(compare_templates(parse("/a/b"), parse("/a")), TemplateRelation::disjoint);
  EXPECT_EQ(compare_templates(parse("/a"), parse("/a/{*rest}")), TemplateRelation::first_narrower);
}

RoutePolicy route(std::string name, std::string path, std::vector<std::string> methods = {}) {
  RoutePolicy r;
  r.name = std::move(name);
  r.path = parse(path);
  r.methods = std::move(methods);
  return r;
}

TEST(RouteTable, MoreSpecificRouteWinsWhateverTheOrder) {
  std::vector<RoutePolicy> routes = {
      route("catch-all", "/{*rest}"), route("any-product", "/products/{id}"),
      route("int-product", "/products/{id:int}"), route("top", "/products/top")};
  RouteTable table(routes);
  RouteValues values;
  EXPECT_EQ(table.match("GET", "/products/top", values)->name, "top");
  EXPECT_EQ(table.match("GET", "/products/42", values)->name, "int-product");
  EXPECT_EQ(table.match("GET", "/products/abc", values)->name, "any-product");
  EXPECT_EQ(table.match("GET", "/anything/else", values)->name, "catch-all");
  EXPECT_EQ(table.index_of(table.match("GET", "/products/top", values)), 3u);
}

TEST(RouteTable, MethodsSelectBetweenRoutesOnOnePath) {
  std::vector<RoutePolicy> routes = {route("read", "/products/{id}", {"GET", "HEAD"}),
                                     route("write", "/products/{id}", {"PUT", "PATCH", "DELETE"})};
  RouteTable table(routes);
  RouteValues values;
  EXPECT_EQ(table.match("GET", "/products/1", values)->name, "read");
  EXPECT_EQ(table.match("DELETE", "/products/1", values)->name, "write");
  EXPECT_EQ(table.match("POST", "/products/1", values), nullptr);
  EXPECT_TRUE(values.empty());
}

}  // namespace
}  // namespace cachecar::config
