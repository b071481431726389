// Request limits: oversized headers and bodies get 431/413 with a reason,
// garbage gets 400, and none of it disturbs other clients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;

const std::string kConfig = std::string(kTestBase) + R"(
limits: { max_header_bytes: 4KiB, max_body_bytes: 1KiB, header_timeout: 2s }
routes:
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";

class LimitsTest : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kConfig};
};

TEST_F(LimitsTest, OversizedHeaderGets431) {
  auto r = cachecar_.get("/t/a", {{"X-Big", std::string(8000, 'h')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_THAT(nlohmann::json::parse(r.body)["error"].get<std::string>(),
              HasSubstr("max_header_bytes"));
  EXPECT_EQ(origin_.count("/t/a"), 0u);
}

TEST_F(LimitsTest, OversizedBodyWithContentLengthGets413) {
  auto r = http_request(cachecar_.port(), "POST", "/t/a", {}, std::string(2000, 'b'));
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(nlohmann::json::parse(r.body)["error"].get<std::string>(),
              HasSubstr("max_body_bytes"));
  EXPECT_EQ(origin_.count("/t/a"), 0u);
}

TEST_F(LimitsTest, OversizedChunkedBodyGets413) {
  HttpClient client(cachecar_.port());
  std::string chunk(800, 'c');
  auto r = client.raw("POST /t/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" +
                      chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(origin_.count("/t/a"), 0u);
}

TEST_F(LimitsTest, BodyWithinTheLimitPasses) {
  auto r = http_request(cachecar_.port(), "POST", "/t/ok?echo=1", {}, std::string(1000, 'b'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["body"].get<std::string>().size(), 1000u);
}

TEST_F(LimitsTest, MalformedRequestGets400) {
  HttpClient client(cachecar_.port());
  auto r = client.raw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"error\""));
}

TEST_F(LimitsTest, OtherClientsAreServedAfterRejections) {
  cachecar_.get("/t/a", {{"X-Big", std::string(8000, 'h')}});
  HttpClient garbage(cachecar_.port());
  garbage.raw("\x01\x02\r\n\r\n");
  EXPECT_EQ(cachecar_.get("/t/fine").status, 200);
}

}  // namespace
}  // namespace cachecar::testing
