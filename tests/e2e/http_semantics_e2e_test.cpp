// RFC 9111 shared-cache behaviour end to end (issue 5): request
// directives, client validators answered from cache, heuristic freshness,
// unsafe methods invalidating, targeted cache-control fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A plain RFC 9111 cache for /t/, a ttl'd route for products.
const std::string kConfig = std::string(kTestBase) + R"(
defaults: { ttl_jitter: 0% }
routes:
  - name: http
    match: { path: "/t/{*rest}" }
  - name: product
    match: { path: "/products/{id:int}" }
    entity: product
    ttl: 5m
)";

class HttpSemanticsTest : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kConfig};
};

TEST_F(HttpSemanticsTest, RequestMaxAgeMinFreshAndNoCacheGoToTheOrigin) {
  const std::string target = "/t/directives?cc=max-age=600";
  ASSERT_EQ(cachecar_.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(cachecar_.get(target, {{"Cache-Control", "max-age=300"}}).header("Cache-Status"),
              StartsWith("cachecar; hit"));
  EXPECT_THAT(cachecar_.get(target, {{"Cache-Control", "max-age=0"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd=request"));
  EXPECT_THAT(cachecar_.get(target, {{"Cache-Control", "min-fresh=3600"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd=request"));
  EXPECT_THAT(cachecar_.get(target, {{"Cache-Control", "no-cache"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd=request"));
  EXPECT_THAT(cachecar_.get(target, {{"Pragma", "no-cache"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd=request"));
  EXPECT_EQ(origin_.count_target(target), 5u);
}

TEST_F(HttpSemanticsTest, MaxStaleAcceptsAnExpiredEntryUnlessMustRevalidate) {
  const std::string target = "/t/max-stale?cc=max-age=1";
  const std::string strict = "/t/max-stale-strict?cc=max-age=1,must-revalidate";
  ASSERT_EQ(cachecar_.get(strict).header("Cache-Status"), "cachecar; fwd=miss; stored");
  ASSERT_EQ(cachecar_.get(target).header("Cache-Status"), "cachecar; fwd=miss; stored");
  // Once it has expired (poll with max-stale=0: a fresh hit until then).
  HttpResponse r;
  for (int i = 0; i < 200; ++i) {
    r = cachecar_.get(target, {{"Cache-Control", "max-stale"}});
    if (r.header("Cache-Status").find("ttl=-") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(r.header("Cache-Status"), HasSubstr("detail=max-stale"));
  EXPECT_EQ(origin_.count_target(target), 1u);
  // Stored just before: expired too, but must-revalidate refuses max-stale.
  EXPECT_THAT(cachecar_.get(strict, {{"Cache-Control", "max-stale"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd=stale"));
}

TEST_F(HttpSemanticsTest, OnlyIfCachedIs504WhenNothingIsStored) {
  auto r = cachecar_.get("/t/absent?cc=max-age=60", {{"Cache-Control", "only-if-cached"}});
  EXPECT_EQ(r.status, 504);
  EXPECT_THAT(r.body, HasSubstr("only-if-cached"));
  EXPECT_EQ(origin_.count_target("/t/absent?cc=max-age=60"), 0u);
  cachecar_.get("/t/absent?cc=max-age=60");
  EXPECT_EQ(cachecar_.get("/t/absent?cc=max-age=60", {{"Cache-Control", "only-if-cached"}}).status,
            200);
}

TEST_F(HttpSemanticsTest, ClientValidatorsAreAnsweredWith304FromCache) {
  auto first = cachecar_.get("/products/3");
  ASSERT_EQ(first.status, 200);
  auto etag = first.header("ETag");
  auto last_modified = first.header("Last-Modified");
  ASSERT_FALSE(etag.empty());
  auto by_etag = cachecar_.get("/products/3", {{"If-None-Match", etag}});
  EXPECT_EQ(by_etag.status, 304);
  EXPECT_EQ(by_etag.body, "");
  EXPECT_EQ(by_etag.header("ETag"), etag);
  EXPECT_THAT(by_etag.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(cachecar_.get("/products/3", {{"If-None-Match", "W/" + etag}}).status, 304)
      << "weak comparison";
  EXPECT_EQ(cachecar_.get("/products/3", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(cachecar_.get("/products/3", {{"If-Modified-Since", last_modified}}).status, 304);
  EXPECT_EQ(cachecar_
                .get("/products/3",
                     {{"If-None-Match", "\"other\""}, {"If-Modified-Since", last_modified}})
                .status,
            200)
      << "If-None-Match takes precedence";
  EXPECT_EQ(origin_.count("/products/3"), 1u);
}

TEST_F(HttpSemanticsTest, AConditionalFetchAnsweredWith200ReplacesTheEntry) {
  auto first = cachecar_.get("/products/9");
  ASSERT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  // The product changes behind cachecar's back (straight at the origin).
  ASSERT_EQ(http_request(origin_.port(), "PUT", "/products/9",
                         {{"Content-Type", "application/json"}}, R"({"price": 99})")
                .status,
            200);
  auto refreshed = cachecar_.get("/products/9", {{"Cache-Control", "no-cache"}});
  EXPECT_EQ(refreshed.header("Cache-Status"), "cachecar; fwd=request; stored");
  EXPECT_NE(refreshed.header("ETag"), first.header("ETag"));
  EXPECT_EQ(json::parse(refreshed.body)["price"], 99);
  EXPECT_EQ(json::parse(cachecar_.get("/products/9").body)["price"], 99)
      << "the new representation is stored";
  EXPECT_EQ(cachecar_.metric(R"(cachecar_revalidations_total{result="200"})"), 1u);
  EXPECT_EQ(cachecar_.metric(R"(cachecar_revalidations_total{result="304"})"), 0u);
}

TEST_F(HttpSemanticsTest, LastModifiedAloneGivesAHeuristicLifetime) {
  // No lifetime from the origin, none from the route: a response modified
  // ten hours ago is fresh for one (a tenth); one without Last-Modified is
  // not stored.
  EXPECT_EQ(cachecar_.get("/t/heuristic?last_modified=36000").header("Cache-Status"),
            "cachecar; fwd=miss; stored");
  auto hit = cachecar_.get("/t/heuristic?last_modified=36000").header("Cache-Status");
  ASSERT_THAT(hit, StartsWith("cachecar; hit; ttl="));
  long ttl = std::stol(hit.substr(std::string("cachecar; hit; ttl=").size()));
  EXPECT_GT(ttl, 3500);
  EXPECT_LE(ttl, 3600);
  EXPECT_EQ(cachecar_.get("/t/plain").header("Cache-Status"),
            "cachecar; fwd=miss; detail=no-freshness");
}

TEST_F(HttpSemanticsTest, AVaryingResponseIsStoredOncePerVariant) {
  const std::string target = "/t/negotiated?cc=max-age=60&vary=Accept-Language";
  auto en = cachecar_.get(target, {{"Accept-Language", "en"}});
  EXPECT_EQ(en.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(cachecar_.get(target, {{"Accept-Language", "en"}}).header("Cache-Status"),
              StartsWith("cachecar; hit"));
  auto fr = cachecar_.get(target, {{"Accept-Language", "fr"}});
  EXPECT_EQ(fr.header("Cache-Status"), "cachecar; fwd=vary-miss; stored");
  EXPECT_NE(fr.body, en.body) << "the origin answered the second variant (count=2)";
  EXPECT_EQ(cachecar_.get(target, {{"Accept-Language", "fr"}}).body, fr.body);
  EXPECT_EQ(cachecar_.get(target, {{"Accept-Language", "en"}}).body, en.body);
  auto none = cachecar_.get(target);
  EXPECT_EQ(none.header("Cache-Status"), "cachecar; fwd=vary-miss; stored")
      << "no header is a variant of its own";
  EXPECT_EQ(origin_.count_target(target), 3u);
  // Dropping the URI drops every variant.
  http_request(cachecar_.port(), "POST", "/t/negotiated?cc=max-age=60&vary=Accept-Language");
  EXPECT_THAT(cachecar_.get(target, {{"Accept-Language", "en"}}).header("Cache-Status"),
              StartsWith("cachecar; fwd="));
}

TEST_F(HttpSemanticsTest, InterimResponsesAreDroppedAndTheFinalOneServedAndStored) {
  auto first = cachecar_.get("/t/hints?early_hints=1&cc=max-age=60");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(first.body, HasSubstr("count=1"));
  EXPECT_THAT(cachecar_.get("/t/hints?early_hints=1&cc=max-age=60").header("Cache-Status"),
              StartsWith("cachecar; hit"));
  // Passed through (not stored) as well.
  auto passed = http_request(cachecar_.port(), "POST", "/t/hints-post?early_hints=1");
  EXPECT_EQ(passed.status, 200);
}

TEST(CacheStatusKey, IsDisclosedOnlyWhenTheAdminTurnsItOn) {
  Origin origin;
  Cachecar quiet(origin.port(), kConfig);
  EXPECT_THAT(quiet.get("/products/12").header("Cache-Status"), ::testing::Not(HasSubstr("key=")));
  Cachecar telling(origin.port(), kConfig + "admin: { disclose_keys: true }\n");
  EXPECT_EQ(telling.get("/products/12").header("Cache-Status"),
            "cachecar; fwd=miss; stored; key=\"prod:-:product:12:-:v1\"");
  EXPECT_EQ(telling.get("/products/12").header("Cache-Status").substr(0, 19),
            "cachecar; hit; ttl=");
  EXPECT_THAT(telling.get("/products/12").header("Cache-Status"),
              HasSubstr("; key=\"prod:-:product:12:-:v1\""));
  EXPECT_THAT(telling.get("/t/x?cc=no-store").header("Cache-Status"),
              HasSubstr("key=\"prod:-:http:x:"));
}

TEST_F(HttpSemanticsTest, ASuccessfulUnsafeRequestInvalidatesTheTargetUri) {
  ASSERT_EQ(cachecar_.get("/products/4").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(cachecar_.get("/products/4").header("Cache-Status"), StartsWith("cachecar; hit"));
  // The product route takes every method: the PUT is forwarded, and its
  // success drops what was stored for the URI.
  auto put = http_request(cachecar_.port(), "PUT", "/products/4",
                          {{"Content-Type", "application/json"}}, R"({"price": 1})");
  EXPECT_EQ(put.status, 200);
  EXPECT_THAT(put.header("Cache-Status"), StartsWith("cachecar; fwd=method"));
  auto after = cachecar_.get("/products/4");
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; fwd=miss"));
  EXPECT_EQ(json::parse(after.body)["price"], 1);
  // A failed write changes nothing.
  http_request(cachecar_.port(), "PUT", "/products/4", {}, "not json");
  EXPECT_THAT(cachecar_.get("/products/4").header("Cache-Status"), StartsWith("cachecar; hit"));
}

TEST_F(HttpSemanticsTest, LocationOfAnUnsafeResponseIsInvalidatedToo) {
  ASSERT_EQ(cachecar_.get("/products/8").header("Cache-Status"), "cachecar; fwd=miss; stored");
  // An unmatched POST whose answer points at the product.
  auto post = http_request(cachecar_.port(), "POST", "/t/created?status=201&location=/products/8");
  EXPECT_EQ(post.status, 201);
  EXPECT_THAT(cachecar_.get("/products/8").header("Cache-Status"),
              StartsWith("cachecar; fwd=miss"));
}

TEST_F(HttpSemanticsTest, TargetedCacheControlIsObeyedAndNotPassedOn) {
  // RFC 9213: the targeted field is used instead of Cache-Control, whole:
  // "no-store" for browsers, sixty seconds for cachecar.
  const std::string target = "/t/targeted?cc=no-store&cachecar_cc=max-age=60";
  auto first = cachecar_.get(target);
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(first.header("Cache-Control"), "no-store") << "passed on for the browser";
  EXPECT_EQ(first.header("Cachecar-Cache-Control"), "");
  EXPECT_THAT(cachecar_.get(target).header("Cache-Status"), StartsWith("cachecar; hit"));
  // One that is not a valid Structured Field is ignored: Cache-Control counts.
  EXPECT_EQ(cachecar_.get("/t/targeted-bad?cc=no-store&cachecar_cc=max-age=%2260%22")
                .header("Cache-Status"),
            "cachecar; fwd=miss; detail=no-store");
  const std::string cdn = "/t/cdn?cc=max-age=0&cdn_cc=max-age=60";
  auto stored = cachecar_.get(cdn);
  EXPECT_EQ(stored.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(stored.header("CDN-Cache-Control"), "");
  EXPECT_EQ(stored.header("Cache-Control"), "max-age=0") << "the downstream field is kept";
  auto hit = cachecar_.get(cdn);
  EXPECT_THAT(hit.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(hit.header("CDN-Cache-Control"), "");
}

// Polls with max-stale (which accepts an expired entry without a fetch)
// until the stored entry's ttl has gone negative.
void wait_until_stale(Cachecar& cachecar, const std::string& target) {
  ASSERT_TRUE(eventually([&] {
    return cachecar.get(target, {{"Cache-Control", "max-stale"}})
               .header("Cache-Status")
               .find("ttl=-") != std::string::npos;
  })) << target
      << " never went stale";
}

std::uint64_t origin_heads(Origin& origin) {
  auto methods = origin.stats()["methods"];
  return methods.contains("HEAD") ? methods["HEAD"].get<std::uint64_t>() : 0;
}

TEST_F(HttpSemanticsTest, AHeadForAStaleEntryGoesOnAsHeadAndUpdatesTheStoredFields) {
  const std::string target = "/t/head-update?cc=max-age=1";
  auto first = cachecar_.get(target);
  ASSERT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  ASSERT_EQ(first.header("X-Origin-Count"), "1");
  const auto body_bytes = origin_.stats()["body_bytes"].get<std::uint64_t>();
  wait_until_stale(cachecar_, target);

  HttpClient client(cachecar_.port());
  auto head = client.request("HEAD", target);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.header("Cache-Status"), "cachecar; fwd=stale; fwd-status=200; stored");
  EXPECT_EQ(head.header("X-Origin-Count"), "2");
  EXPECT_EQ(origin_heads(origin_), 1u) << "sent on as HEAD, not as GET";
  // The GET that follows is a fresh hit: the stored body with the fields
  // the HEAD brought.
  auto after = cachecar_.get(target);
  EXPECT_THAT(after.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(after.header("X-Origin-Count"), "2");
  EXPECT_EQ(after.body, first.body);
  EXPECT_EQ(origin_.stats()["body_bytes"].get<std::uint64_t>(), body_bytes)
      << "no body crossed the wire again";
  EXPECT_EQ(origin_.count_target(target), 2u);
  // A HEAD with nothing stored is fetched as GET, so that it fills.
  auto cold = client.request("HEAD", "/t/head-cold?cc=max-age=60");
  EXPECT_EQ(cold.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(origin_heads(origin_), 1u);
}

TEST_F(HttpSemanticsTest, QualifiedPrivateAndNoCacheStoreTheResponseWithoutTheNamedFields) {
  const std::string cookie = "/t/private-field?set_cookie=1&cc=max-age=60,private=%22Set-Cookie%22";
  auto first = cachecar_.get(cookie);
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_FALSE(first.header("Set-Cookie").empty())
      << "the client the origin answered gets its cookie";
  auto hit = cachecar_.get(cookie);
  EXPECT_THAT(hit.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_FALSE(hit.has_header("Set-Cookie"));
  EXPECT_EQ(hit.body, first.body);

  const std::string named =
      "/t/no-cache-field?cc=max-age=60,no-cache=%22X-Origin-Count,%20Content-Type%22";
  ASSERT_EQ(cachecar_.get(named).header("X-Origin-Count"), "1");
  auto without = cachecar_.get(named);
  EXPECT_THAT(without.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_FALSE(without.has_header("X-Origin-Count"));
  EXPECT_FALSE(without.has_header("Content-Type"));

  // The unqualified forms still keep the response out.
  EXPECT_EQ(cachecar_.get("/t/private-all?cc=max-age=60,private").header("Cache-Status"),
            "cachecar; fwd=miss; detail=private");
  EXPECT_EQ(cachecar_.get("/t/private-cookie?set_cookie=1&cc=max-age=60,private=%22X-Other%22")
                .header("Cache-Status"),
            "cachecar; fwd=miss; detail=set-cookie")
      << "a cookie the directive does not name still keeps the response out";
}

TEST_F(HttpSemanticsTest, FieldsTheOriginListsInConnectionAreNeitherStoredNorPassedOn) {
  const std::string target = "/t/hop?cc=max-age=60&hop=X-Hop";
  auto first = cachecar_.get(target);
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_FALSE(first.has_header("X-Hop"));
  auto hit = cachecar_.get(target);
  EXPECT_THAT(hit.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_FALSE(hit.has_header("X-Hop"));
  // Relayed without storing, too.
  EXPECT_FALSE(cachecar_.get("/t/hop-pass?cc=no-store&hop=X-Hop").has_header("X-Hop"));
}

}  // namespace
}  // namespace cachecar::testing
