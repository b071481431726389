// net/: the helpers every answer passes through, and the framing checks a
// request must pass before anything else reads it.
#include "net/http_util.hpp"

#include <gtest/gtest.h>

#include "net/request_framing.hpp"

namespace cachecar::net {
namespace {

http::request_header<> head(std::initializer_list<std::pair<const char*, const char*>> fields) {
  http::request_header<> h;
  h.method(http::verb::get);
  h.target("/items/1");
  h.version(kHttp11);
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

TEST(HttpUtil, HopByHopFieldsAndThoseConnectionNamesAreRemoved) {
  http::fields f;
  f.set("Connection", "keep-alive, X-Secret, Host, X-Forwarded-For");
  f.set("Keep-Alive", "timeout=5");
  f.set("X-Secret", "1");
  f.set("Host", "api.test");
  f.set("X-Forwarded-For", "10.0.0.1");
  f.set("Accept", "application/json");
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count("Connection"), 0u);
  EXPECT_EQ(f.count("Keep-Alive"), 0u);
  EXPECT_EQ(f.count("X-Secret"), 0u);
  // Connection cannot strip what keys and forwarding rely on.
  EXPECT_EQ(f["Host"], "api.test");
  EXPECT_EQ(f["X-Forwarded-For"], "10.0.0.1");
  EXPECT_EQ(f["Accept"], "application/json");
}

TEST(HttpUtil, AnUntrustedPeersForwardedFieldsAreReplacedByWhatWasSeen) {
  http::fields f;
  f.set("Host", "api.test");
  f.set("X-Forwarded-For", "6.6.6.6");
  f.set("X-Forwarded-Host", "evil.test");
  f.set("Forwarded", "for=6.6.6.6");
  set_forwarded_fields(f, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 4000), false);
  EXPECT_EQ(f["X-Forwarded-For"], "127.0.0.1");
  EXPECT_EQ(f["X-Forwarded-Host"], "api.test");
  EXPECT_EQ(f["X-Forwarded-Proto"], "http");
  EXPECT_EQ(f.count("Forwarded"), 0u);
}

TEST(HttpUtil, ATrustedPeersForwardedForGainsThePeer) {
  http::fields f;
  f.set("Host", "api.test");
  f.set("X-Forwarded-For", "203.0.113.9");
  f.set("X-Forwarded-Proto", "https");
  set_forwarded_fields(f, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 4000), true);
  EXPECT_EQ(f["X-Forwarded-For"], "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(f["X-Forwarded-Proto"], "https");
}

TEST(HttpUtil, RetriesAndSafetyFollowRfc9110) {
  EXPECT_TRUE(is_idempotent(http::verb::get));
  EXPECT_TRUE(is_idempotent(http::verb::put));
  EXPECT_TRUE(is_idempotent(http::verb::delete_));
  EXPECT_FALSE(is_idempotent(http::verb::post));
  EXPECT_FALSE(is_idempotent(http::verb::patch));
  EXPECT_TRUE(is_safe(http::verb::head));
  EXPECT_FALSE(is_safe(http::verb::put));
}

TEST(HttpUtil, AnErrorIsJsonWithItsReasonEscaped) {
  auto response = json_error(http::status::bad_gateway, "origin said \"no\"\n", kHttp10, false);
  EXPECT_EQ(response.result(), http::status::bad_gateway);
  EXPECT_EQ(response.version(), kHttp10);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), "{\"error\":\"origin said \\\"no\\\"\\n\"}\n");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_FALSE(response.keep_alive());
}

TEST(HttpUtil, TheTargetSplitsAtTheFirstQuestionMark) {
  std::string_view path, query;
  split_target("/a/b?x=1?y", path, query);
  EXPECT_EQ(path, "/a/b");
  EXPECT_EQ(query, "x=1?y");
  split_target("/a", path, query);
  EXPECT_EQ(path, "/a");
  EXPECT_EQ(query, "");
}

TEST(RequestFraming, AnOrdinaryRequestPasses) {
  EXPECT_FALSE(framing_problem(head({{"Host", "api.test"}})));
}

TEST(RequestFraming, AmbiguousFramingIsRefused) {
  EXPECT_TRUE(framing_problem(head({})));  // no Host
  EXPECT_TRUE(framing_problem(head({{"Host", "a.test"}, {"Host", "b.test"}})));
  EXPECT_TRUE(framing_problem(head({{"Host", "a.test/x"}})));
  // (Content-Length beside Transfer-Encoding never gets here: Beast's parser refuses it.)
  EXPECT_TRUE(framing_problem(head({{"Host", "a.test"}, {"Transfer-Encoding", "gzip"}})));
  EXPECT_TRUE(framing_problem(head({{"Host", "a.test"}, {"Transfer-Encoding", "chunked, gzip"}})));
  EXPECT_FALSE(framing_problem(head({{"Host", "a.test"}, {"Transfer-Encoding", "gzip, chunked"}})));
  auto old = head({{"Host", "a.test"}, {"Transfer-Encoding", "chunked"}});
  old.version(kHttp10);
  EXPECT_TRUE(framing_problem(old));
}

TEST(RequestFraming, HostValuesAreUriHosts) {
  EXPECT_TRUE(valid_host_field("api.test:8080"));
  EXPECT_TRUE(valid_host_field("[::1]:80"));
  EXPECT_FALSE(valid_host_field("user@api.test"));
  EXPECT_FALSE(valid_host_field("api test"));
}

}  // namespace
}  // namespace cachecar::net
