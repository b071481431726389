// The proxy itself: what is forwarded, how, and what the client gets when
// the origin fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kConfig = std::string(kTestBase) + R"(
limits: { origin_timeout: 400ms }
store:
  memory: { max_bytes: 8MiB, max_entry_bytes: 64KiB }
routes:
  - name: raw
    match: { path: "/t/raw/{*rest}" }
    mode: bypass
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";

class ProxyTest : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kConfig};
};

TEST_F(ProxyTest, ForwardsMethodTargetHeadersAndBody) {
  auto r = http_request(
      cachecar_.port(), "POST", "/t/echo?echo=1&b=2&a=1",
      {{"X-Custom", "yes"}, {"Connection", "X-Hop"}, {"X-Hop", "secret"}, {"Keep-Alive", "5"}},
      "hello body");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("Cache-Status"), "cachecar; fwd=method");
  auto echo = nlohmann::json::parse(r.body);
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["target"], "/t/echo?echo=1&b=2&a=1");
  EXPECT_EQ(echo["body"], "hello body");
  const auto& headers = echo["headers"];
  EXPECT_EQ(headers["X-Custom"], "yes");
  EXPECT_FALSE(headers.contains("X-Hop")) << "a header named in Connection is hop-by-hop";
  EXPECT_FALSE(headers.contains("Keep-Alive"));
  EXPECT_EQ(headers["X-Forwarded-For"], "127.0.0.1");
  EXPECT_EQ(headers["X-Forwarded-Proto"], "http");
  EXPECT_EQ(headers["X-Forwarded-Host"], "127.0.0.1:" + std::to_string(cachecar_.port()));
  EXPECT_EQ(headers["Host"], "127.0.0.1:" + std::to_string(cachecar_.port()));
}

// Issue 10, finding 4: a client that is not a trusted proxy does not get to
// say where it came from or what it asked for (trusted ones: hardening_e2e_test).
TEST_F(ProxyTest, AnUntrustedPeersForwardedFieldsAreReplacedByWhatCachecarSaw) {
  auto r = http_request(cachecar_.port(), "GET", "/t/raw/echo?echo=1",
                        {{"X-Forwarded-For", "203.0.113.9"},
                         {"X-Forwarded-Host", "evil.example"},
                         {"X-Forwarded-Proto", "https"},
                         {"Forwarded", "for=203.0.113.9;host=evil.example"}});
  const auto headers = nlohmann::json::parse(r.body)["headers"];
  EXPECT_EQ(headers["X-Forwarded-For"], "127.0.0.1");
  EXPECT_EQ(headers["X-Forwarded-Host"], "127.0.0.1:" + std::to_string(cachecar_.port()));
  EXPECT_EQ(headers["X-Forwarded-Proto"], "http");
  EXPECT_FALSE(headers.contains("Forwarded"));
}

TEST_F(ProxyTest, UnmatchedAndBypassRequestsPassThroughUntouched) {
  auto unmatched = cachecar_.get("/nowhere");
  EXPECT_EQ(unmatched.status, 404);
  EXPECT_EQ(unmatched.header("Cache-Status"), "cachecar; fwd=bypass");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(cachecar_.get("/t/raw/x").header("Cache-Status"), "cachecar; fwd=bypass");
  }
  EXPECT_EQ(origin_.count("/t/raw/x"), 2u);
}

TEST_F(ProxyTest, ChunkedRequestBodiesAreForwarded) {
  HttpClient client(cachecar_.port());
  auto r = client.raw(
      "PUT /t/raw/echo?echo=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(nlohmann::json::parse(r.body)["body"], "hello world");
}

TEST_F(ProxyTest, ChunkedOriginResponsesAreStoredAndServedWhole) {
  auto first = cachecar_.get("/t/c?chunked=1&size=5000");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("Cache-Status"), "cachecar; fwd=miss; stored");
  EXPECT_EQ(first.body.size(), 5000u);
  auto second = cachecar_.get("/t/c?chunked=1&size=5000");
  EXPECT_THAT(second.header("Cache-Status"), StartsWith("cachecar; hit"));
  EXPECT_EQ(second.header("Content-Length"), "5000");
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(origin_.count("/t/c"), 1u);
}

TEST_F(ProxyTest, ChunkedResponsesOnBypassStayChunked) {
  auto r = cachecar_.get("/t/raw/c?chunked=1&size=3000");
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body.size(), 3000u);
}

TEST_F(ProxyTest, BodiesOverMaxEntryBytesStreamAndAreNotStored) {
  for (const char* target : {"/t/big?size=300000", "/t/bigc?size=300000&chunked=1"}) {
    for (int i = 0; i < 2; ++i) {
      auto r = cachecar_.get(target);
      ASSERT_EQ(r.status, 200) << target << ": " << r.error;
      EXPECT_EQ(r.body.size(), 300000u) << target;
      EXPECT_EQ(r.header("Cache-Status"), "cachecar; fwd=miss; detail=too-large") << target;
    }
    EXPECT_EQ(origin_.count_target(target), 2u) << target;
  }
  auto stats = nlohmann::json::parse(cachecar_.admin("GET", "/admin/stats").body);
  EXPECT_EQ(stats["tiers"]["memory"]["entries"], 0);
}

TEST_F(ProxyTest, OriginConnectionsAreKeptAliveAcrossRequests) {
  origin_.reset();
  // Forty misses, each on a fresh client connection: the origin side reuses.
  for (int i = 0; i < 40; ++i) {
    auto r = cachecar_.get("/t/ka" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(origin_.stats()["requests"], 40);
  EXPECT_LE(origin_.connections(), 2u);
}

TEST_F(ProxyTest, ClientConnectionsAreKeptAlive) {
  HttpClient client(cachecar_.port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.get("/t/client-ka").status, 200);
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(ProxyTest, SlowOriginGets504Fast) {
  auto started = std::chrono::steady_clock::now();
  auto r = cachecar_.get("/t/slow?delay_ms=3000");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr("did not answer within limits.origin_timeout (400ms)"));
  EXPECT_EQ(r.header("Cache-Status"), "cachecar; fwd=miss; detail=origin-timeout");
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST(OriginDownTest, RefusedConnectionGets502WithAReason) {
  Cachecar cachecar(
      free_port(),
      std::string(kTestBase) + "routes:\n  - { name: p, match: { path: \"/p/{id}\" }, ttl: 1m }\n");
  for (const char* target : {"/p/1", "/unrouted"}) {
    auto r = cachecar.get(target);
    EXPECT_EQ(r.status, 502) << target;
    auto body = nlohmann::json::parse(r.body);
    EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("refused the connection"));
    EXPECT_THAT(r.header("Cache-Status"), HasSubstr("detail=origin-unreachable"));
  }
}

// Issue 12: errors cachecar writes itself answer in the client's version
// (a 502 went out as HTTP/1.1 to an HTTP/1.0 client).
TEST(OriginDownTest, AnHttp10ClientGetsItsErrorInHttp10) {
  Cachecar cachecar(
      free_port(),
      std::string(kTestBase) + "routes:\n  - { name: p, match: { path: \"/p/{id}\" }, ttl: 1m }\n");
  for (const char* target : {"/p/1", "/unrouted"}) {
    HttpClient client(cachecar.port());
    auto r = client.raw(std::string("GET ") + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(r.status, 502) << target;
    EXPECT_EQ(r.version, 10u) << target;
  }
}

}  // namespace
}  // namespace cachecar::testing
