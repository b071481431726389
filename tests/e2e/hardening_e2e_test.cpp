// Issue 10: cachecar tried as an attacker would. Each poisoning case sends
// the attacker's request, then an innocent client's, and checks both what
// the origin received and what the innocent client got. Smuggling cases
// check the answer, that the connection closed, and that the bytes after
// the head never reached the origin as a request of their own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

const std::string kRoutes = R"(
routes:
  - name: product
    match: { method: GET, path: "/products/{id:int}" }
    entity: product
    ttl: 5m
    query: [currency]
  - name: profile
    match: { method: GET, path: "/users/{id}/profile" }
    entity: user-profile
    tenant: { header: X-Tenant-Id }
    ttl: 5m
  - name: page
    match: { path: "/t/page/{name}" }
    ttl: 5m
    vary: [Accept-Language]
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";

const std::string kConfig = std::string(kTestBase) + kRoutes;

// One GET on a fresh connection, written byte for byte: `fields` are whole
// header lines ("Name: value\r\n"), Host included when wanted.
HttpResponse raw_get(std::uint16_t port, const std::string& target, const std::string& fields) {
  HttpClient client(port);
  return client.raw("GET " + target + " HTTP/1.1\r\n" + fields + "\r\n");
}

std::string host_line(std::uint16_t port) {
  return "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
}

json echoed_headers(const HttpResponse& r) { return json::parse(r.body)["headers"]; }

class Hardening : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kConfig};
};

// ---- finding 2: the query allow-list ----

struct QuerySpelling {
  const char* name;
  const char* target;
};

class QueryAllowList : public Hardening, public ::testing::WithParamInterface<QuerySpelling> {};

TEST_P(QueryAllowList, ASpellingTheOriginReadsAsTheKeyedNameIsKeyedAsIt) {
  auto attack = cachecar_.get(GetParam().target);
  EXPECT_EQ(json::parse(attack.body)["currency"], "EUR")
      << "the origin got the parameter, canonically named";
  EXPECT_EQ(origin_.count_target("/products/7?currency=EUR"), 1u);
  auto innocent = cachecar_.get("/products/7");
  EXPECT_EQ(json::parse(innocent.body)["currency"], "USD") << innocent.body;
  EXPECT_EQ(innocent.header("Cache-Status"), "cachecar; fwd=miss; stored");
  // And the same request in its canonical spelling is a hit on the attack's entry.
  EXPECT_THAT(cachecar_.get("/products/7?currency=EUR").header("Cache-Status"),
              StartsWith("cachecar; hit"));
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, QueryAllowList,
    ::testing::Values(QuerySpelling{"upper_case", "/products/7?Currency=EUR"},
                      QuerySpelling{"percent_encoded", "/products/7?curr%65ncy=EUR"},
                      QuerySpelling{"both", "/products/7?CURR%45NCY=EUR&utm=x"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(Hardening, UnkeyedQueryParametersAreNotForwarded) {
  auto r = cachecar_.get("/products/8?utm_source=mail&currency=EUR");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(origin_.count_target("/products/8?currency=EUR"), 1u);
  EXPECT_EQ(origin_.count_target("/products/8?utm_source=mail&currency=EUR"), 0u);
}

TEST_F(Hardening, AQueryNameThatDoesNotDecodeIsNotCached) {
  auto r = cachecar_.get("/products/9?curr%zzncy=EUR");
  EXPECT_EQ(r.header("Cache-Status"), "cachecar; fwd=bypass; detail=ambiguous-query");
  EXPECT_EQ(cachecar_.get("/products/9").header("Cache-Status"), "cachecar; fwd=miss; stored");
}

// ---- findings 5 and 7: the path the origin gets is the canonical one ----

struct PathVariant {
  const char* name;
  const char* target;
};

class PathVariants : public Hardening, public ::testing::WithParamInterface<PathVariant> {};

TEST_P(PathVariants, AreForwardedInCanonicalFormAndShareTheEntry) {
  auto attack = cachecar_.get(GetParam().target);
  EXPECT_EQ(attack.status, 200) << attack.body;
  EXPECT_EQ(origin_.count_target("/products/7"), 1u) << "the origin saw the canonical path";
  auto innocent = cachecar_.get("/products/7");
  EXPECT_EQ(innocent.status, 200);
  EXPECT_EQ(json::parse(innocent.body)["id"], 7);
  EXPECT_THAT(innocent.header("Cache-Status"), StartsWith("cachecar; hit"));
}

INSTANTIATE_TEST_SUITE_P(Variants, PathVariants,
                         ::testing::Values(PathVariant{"trailing_slash", "/products/7/"},
                                           PathVariant{"upper_case_literal", "/PRODUCTS/7"},
                                           PathVariant{"leading_zeros", "/products/007"},
                                           PathVariant{"all_at_once", "/Products/0007/"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(Hardening, AnInvalidationOfAnIdReachesItsLeadingZeroSpelling) {
  ASSERT_EQ(cachecar_.get("/products/0012").header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto purged = cachecar_.admin("POST", "/admin/purge", R"({"entity":"product","id":"12"})");
  ASSERT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(cachecar_.get("/products/0012").header("Cache-Status"), "cachecar; fwd=miss; stored");
}

// ---- finding 4: headers that rewrite the target or method, and forwarded fields ----

struct RewritingHeader {
  const char* name;
  const char* value;
};

class RewritingHeaders : public Hardening, public ::testing::WithParamInterface<RewritingHeader> {};

TEST_P(RewritingHeaders, NeverReachTheOriginOnACachingRoute) {
  const std::string target = std::string("/t/rewrite/") + GetParam().name + "?echo=1";
  auto attack = cachecar_.get(target, {{GetParam().name, GetParam().value}});
  EXPECT_FALSE(echoed_headers(attack).contains(GetParam().name)) << attack.body;
  auto innocent = cachecar_.get(target);
  EXPECT_THAT(innocent.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_FALSE(echoed_headers(innocent).contains(GetParam().name));
}

INSTANTIATE_TEST_SUITE_P(Fields, RewritingHeaders,
                         ::testing::Values(RewritingHeader{"X-Original-URL", "/admin"},
                                           RewritingHeader{"X-Rewrite-URL", "/admin"},
                                           RewritingHeader{"X-HTTP-Method-Override", "DELETE"},
                                           RewritingHeader{"X-HTTP-Method", "PUT"},
                                           RewritingHeader{"X-Method-Override", "DELETE"},
                                           RewritingHeader{"X-Forwarded-Prefix", "/evil"},
                                           RewritingHeader{"X-Original-Host", "evil.example"},
                                           RewritingHeader{"X-Host", "evil.example"},
                                           RewritingHeader{"X-Forwarded-Port", "444"},
                                           RewritingHeader{"Forwarded",
                                                           "host=evil.example;proto=https"}),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           for (auto& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST_F(Hardening, AClientsForwardedHostDoesNotReachTheLinksOthersAreServed) {
  auto attack = cachecar_.get("/t/links?echo=1", {{"X-Forwarded-Host", "evil.example"}});
  const std::string ours = "127.0.0.1:" + std::to_string(cachecar_.port());
  EXPECT_EQ(echoed_headers(attack)["X-Forwarded-Host"], ours);
  auto innocent = cachecar_.get("/t/links?echo=1");
  EXPECT_THAT(innocent.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(echoed_headers(innocent)["X-Forwarded-Host"], ours);
}

TEST(HardeningTrustedProxy, AListedProxysForwardedFieldsAreBelievedAndKeyed) {
  Origin origin;
  Cachecar cachecar(origin.port(),
                    std::string(kTestBase) + "trusted_proxies: [127.0.0.0/8]\n" + kRoutes);
  auto via_proxy = cachecar.get("/t/proxied?echo=1", {{"X-Forwarded-For", "203.0.113.9"},
                                                      {"X-Forwarded-Proto", "https"},
                                                      {"X-Forwarded-Host", "localhost"}});
  auto headers = echoed_headers(via_proxy);
  EXPECT_EQ(headers["X-Forwarded-For"], "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(headers["X-Forwarded-Proto"], "https");
  EXPECT_EQ(headers["X-Forwarded-Host"], "localhost");
  auto forwarded =
      cachecar.get("/t/proxied-forwarded?echo=1", {{"Forwarded", "host=evil.example"}});
  EXPECT_FALSE(echoed_headers(forwarded).contains("Forwarded"))
      << "unkeyed on a caching route, even when trusted";
  // The scheme names the resource: the same path over http is another entry.
  auto plain = cachecar.get("/t/proxied?echo=1", {{"X-Forwarded-Host", "localhost"}});
  EXPECT_EQ(plain.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(echoed_headers(plain)["X-Forwarded-Proto"], "http");
  // A host outside allowed_hosts, even from a trusted proxy, is never cached.
  auto foreign = cachecar.get("/t/proxied?echo=1", {{"X-Forwarded-Host", "evil.example"}});
  EXPECT_EQ(foreign.header("Cache-Status"), "cachecar; fwd=bypass; detail=host-not-allowed");
  auto garbled = cachecar.get("/t/proxied?echo=1", {{"X-Forwarded-Proto", "gopher"}});
  EXPECT_EQ(garbled.header("Cache-Status"), "cachecar; fwd=bypass; detail=bad-forwarded-header");
}

TEST_F(Hardening, AHostOutsideAllowedHostsIsNeverCached) {
  auto attack = raw_get(cachecar_.port(), "/t/host?echo=1", "Host: evil.example\r\n");
  EXPECT_EQ(attack.header("Cache-Status"), "cachecar; fwd=bypass; detail=host-not-allowed");
  auto innocent = cachecar_.get("/t/host?echo=1");
  EXPECT_EQ(innocent.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(echoed_headers(innocent)["Host"], "127.0.0.1:" + std::to_string(cachecar_.port()));
}

TEST(HardeningHosts, WithoutAllowedHostsEachHostIsAnEntryOfItsOwn) {
  Origin origin;
  Cachecar cachecar(origin.port(),
                    "workers: 1\ndrain_delay: 0s\nlog: { format: text, level: warn }\n" + kRoutes);
  auto attack = raw_get(cachecar.port(), "/t/host?echo=1", "Host: evil.example\r\n");
  EXPECT_EQ(attack.header("Cache-Status"), "cachecar; fwd=miss; stored");
  auto innocent = cachecar.get("/t/host?echo=1");
  EXPECT_EQ(innocent.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(echoed_headers(innocent)["Host"], "127.0.0.1:" + std::to_string(cachecar.port()));
  // Host names are case-insensitive: one entry for both spellings.
  auto shouted = raw_get(cachecar.port(), "/t/host?echo=1", "Host: EVIL.example\r\n");
  EXPECT_THAT(shouted.header("Cache-Status"), StartsWith("cachecar; hit"));
}

// ---- finding 6: the tenant (and every keyed header) the origin sees is the keyed one ----

struct Confusion {
  const char* name;
  const char* fields;  // header lines besides Host
  const char* detail;
};

class TenantConfusion : public Hardening, public ::testing::WithParamInterface<Confusion> {};

TEST_P(TenantConfusion, IsForwardedAsSentAndNeverCached) {
  auto attack = raw_get(cachecar_.port(), "/users/5/profile",
                        host_line(cachecar_.port()) + GetParam().fields);
  EXPECT_EQ(attack.header("Cache-Status"),
            std::string("cachecar; fwd=bypass; detail=") + GetParam().detail);
  auto innocent = cachecar_.get("/users/5/profile", {{"X-Tenant-Id", "acme"}});
  EXPECT_EQ(innocent.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(json::parse(innocent.body)["tenant"], "acme");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TenantConfusion,
    ::testing::Values(Confusion{"two_tenants", "X-Tenant-Id: acme\r\nX-Tenant-Id: globex\r\n",
                                "duplicate-keyed-header"},
                      Confusion{"tenant_named_in_connection",
                                "X-Tenant-Id: acme\r\nConnection: X-Tenant-Id\r\n",
                                "keyed-header-hop-by-hop"},
                      Confusion{"tenant_named_among_others",
                                "X-Tenant-Id: acme\r\nConnection: keep-alive, x-tenant-id\r\n",
                                "keyed-header-hop-by-hop"},
                      Confusion{"host_named_in_connection",
                                "X-Tenant-Id: acme\r\nConnection: Host\r\n",
                                "keyed-header-hop-by-hop"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(Hardening, AVaryHeaderSentTwiceIsNotCached) {
  auto attack =
      raw_get(cachecar_.port(), "/t/page/home?echo=1",
              host_line(cachecar_.port()) + "Accept-Language: en\r\nAccept-Language: de\r\n");
  EXPECT_EQ(attack.header("Cache-Status"), "cachecar; fwd=bypass; detail=duplicate-keyed-header");
  auto innocent = cachecar_.get("/t/page/home?echo=1", {{"Accept-Language", "en"}});
  EXPECT_EQ(innocent.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(echoed_headers(innocent)["Accept-Language"], "en");
}

TEST_F(Hardening, ConnectionCannotHideTheForwardedFieldsCachecarWrites) {
  auto r =
      cachecar_.get("/t/raw-hop?echo=1", {{"Connection", "X-Forwarded-For, X-Forwarded-Host"}});
  auto headers = echoed_headers(r);
  EXPECT_EQ(headers["X-Forwarded-For"], "127.0.0.1");
  EXPECT_TRUE(headers.contains("X-Forwarded-Host"));
}

// ---- findings 3 and 8: framing and Host ----

struct Smuggle {
  const char* name;
  std::string request;  // whole bytes; "/t/smuggled" must never reach the origin
};

class Smuggling : public Hardening, public ::testing::WithParamInterface<Smuggle> {};

TEST_P(Smuggling, IsRefusedWith400AndTheConnectionClosed) {
  HttpClient client(cachecar_.port());
  auto r = client.raw(GetParam().request);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"error\""));
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_EQ(origin_.count("/t/smuggled"), 0u);
  EXPECT_EQ(origin_.count("/t/front"), 0u);
  EXPECT_EQ(cachecar_.get("/t/after").status, 200) << "other clients are served";
}

#define SMUGGLED_BODY "GET /t/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
#define CHUNKED_SMUGGLE "0\r\n\r\n" SMUGGLED_BODY

INSTANTIATE_TEST_SUITE_P(
    Requests, Smuggling,
    ::testing::Values(
        // Finding 3: a last coding other than chunked leaves the length unknown.
        Smuggle{"chunked_then_identity",
                "POST /t/front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
                "identity\r\n\r\n" SMUGGLED_BODY},
        Smuggle{"identity_only",
                "POST /t/front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                "identity\r\n\r\n" SMUGGLED_BODY},
        Smuggle{
            "gzip_only",
            "POST /t/front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" SMUGGLED_BODY},
        Smuggle{"chunked_line_then_gzip_line",
                "POST /t/front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                "chunked\r\nTransfer-Encoding: gzip\r\n\r\n" SMUGGLED_BODY},
        Smuggle{"transfer_encoding_in_http_1_0",
                "POST /t/front HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: "
                "chunked\r\n\r\n" CHUNKED_SMUGGLE},
        // Finding 8: exactly one, well-formed Host on HTTP/1.1.
        Smuggle{"no_host", "GET /t/front HTTP/1.1\r\nX-A: 1\r\n\r\n"},
        Smuggle{"two_hosts", "GET /t/front HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        Smuggle{"host_with_userinfo", "GET /t/front HTTP/1.1\r\nHost: user@evil.example\r\n\r\n"},
        Smuggle{"host_with_path", "GET /t/front HTTP/1.1\r\nHost: evil.example/x\r\n\r\n"},
        Smuggle{"host_with_space", "GET /t/front HTTP/1.1\r\nHost: a b\r\n\r\n"},
        // These held before the issue; they stay in the table so that they stay held.
        Smuggle{"content_length_and_chunked",
                "POST /t/front HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
                "chunked\r\n\r\n" CHUNKED_SMUGGLE},
        Smuggle{"two_content_lengths",
                "POST /t/front HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: "
                "38\r\n\r\n" SMUGGLED_BODY},
        Smuggle{"nul_in_a_field",
                std::string("GET /t/front HTTP/1.1\r\nHost: x\r\nX-A: a") + '\0' + "b\r\n\r\n"},
        Smuggle{"space_before_colon",
                "GET /t/front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- finding 12: admin input ----

TEST_F(Hardening, AdminWarmRefusesPathsAndHeadersThatWouldSplitTheRequest) {
  auto r = cachecar_.admin("POST", "/admin/warm",
                           R"({"paths": ["/t/w1 HTTP/1.1\r\nHost: x\r\n\r\nGET /t/smuggled"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto results = json::parse(r.body)["results"];
  EXPECT_EQ(json::parse(r.body)["warmed"], 0);
  EXPECT_THAT(results.dump(), HasSubstr("not a path"));
  auto headers = cachecar_.admin(
      "POST", "/admin/warm", R"({"paths": ["/t/w2"], "headers": {"X-A": "1\r\nX-Injected: 1"}})");
  EXPECT_EQ(json::parse(headers.body)["warmed"], 0) << headers.body;
  EXPECT_EQ(origin_.count("/t/smuggled"), 0u);
  EXPECT_EQ(origin_.count("/t/w2"), 0u);
}

TEST_F(Hardening, AdminWarmNamesAHostNotAUrl) {
  auto warmed = cachecar_.admin("POST", "/admin/warm", R"({"paths": ["/t/warm-host?echo=1"]})");
  ASSERT_EQ(json::parse(warmed.body)["warmed"], 1) << warmed.body;
  auto hit = cachecar_.get("/t/warm-host?echo=1");
  EXPECT_THAT(hit.header("Cache-Status"), StartsWith("cachecar; hit"))
      << "warmed under the clients' key";
  EXPECT_EQ(echoed_headers(hit)["Host"], "127.0.0.1");
}

TEST_F(Hardening, AdminPurgeOfANumericIdPurgesThatIdOnly) {
  cachecar_.get("/products/21");
  cachecar_.get("/products/22");
  ASSERT_EQ(cachecar_.admin("POST", "/admin/purge", R"({"entity":"product","id":21})").status, 200);
  EXPECT_EQ(cachecar_.get("/products/21").header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_THAT(cachecar_.get("/products/22").header("Cache-Status"), StartsWith("cachecar; hit"));
  for (const char* body : {R"({"entity":"product","id":true})", R"({"entity":"product","id":[21]})",
                           R"({"entity":"product","id":"21","tenant":{}})"}) {
    auto refused = cachecar_.admin("POST", "/admin/purge", body);
    EXPECT_EQ(refused.status, 400) << body;
  }
  EXPECT_THAT(cachecar_.get("/products/22").header("Cache-Status"), StartsWith("cachecar; hit"));
}

}  // namespace
}  // namespace cachecar::testing
