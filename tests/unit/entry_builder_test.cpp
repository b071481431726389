#include "proxy/entry_builder.hpp"

#include <gtest/gtest.h>

namespace cachecar::proxy {
namespace {

const std::string kStored =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\n"
    "X-Trace: a\r\nX-Trace: b\r\nContent-Length: 11\r\n";

TEST(NotModifiedMerge, The304sFieldsReplaceTheStoredOnesAndFramingStays) {
  http::response_header<> not_modified;
  not_modified.result(http::status::not_modified);
  not_modified.set(http::field::cache_control, "max-age=300");
  not_modified.set("X-Trace", "c");
  not_modified.set(http::field::content_length, "0");
  not_modified.set(http::field::age, "5");
  not_modified.set("X-New", "yes");
  auto merged = merge_not_modified(kStored, not_modified);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->result(), http::status::ok);
  EXPECT_EQ((*merged)[http::field::cache_control], "max-age=300");
  EXPECT_EQ(std::distance(merged->equal_range("X-Trace").first, merged->equal_range("X-Trace").second), 1)
      << "every stored X-Trace is replaced by the 304's one";
  EXPECT_EQ((*merged)["X-Trace"], "c");
  EXPECT_EQ((*merged)["X-New"], "yes");
  EXPECT_EQ((*merged)[http::field::content_length], "11") << "framing comes from the stored response";
  EXPECT_EQ(merged->find(http::field::age), merged->end());
  EXPECT_EQ((*merged)[http::field::etag], "\"v1\"");
  EXPECT_EQ((*merged)[http::field::content_type], "application/json");
}

TEST(NotModifiedMerge, AHeadThatDoesNotParseIsNoMerge) {
  EXPECT_FALSE(merge_not_modified("garbage\r\n", http::response_header<>{}));
}

TEST(HeadField, FindsTheFirstFieldCaseInsensitively) {
  EXPECT_EQ(head_field(kStored, "etag"), "\"v1\"");
  EXPECT_EQ(head_field(kStored, "X-Trace"), "a");
  EXPECT_EQ(head_field(kStored, "Last-Modified"), std::nullopt);
  EXPECT_EQ(head_field(kStored, "HTTP/1.1 200 OK"), std::nullopt) << "the status line is not a field";
}

}  // namespace
}  // namespace cachecar::proxy
