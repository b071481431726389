#include "proxy/entry_builder.hpp"

#include <gtest/gtest.h>

#include "proxy/response_facts.hpp"

namespace cachecar::proxy {
namespace {

const std::string kStored =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"v1\"\r\nCache-Control: "
    "max-age=60\r\n"
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
  EXPECT_EQ(
      std::distance(merged->equal_range("X-Trace").first, merged->equal_range("X-Trace").second), 1)
      << "every stored X-Trace is replaced by the 304's one";
  EXPECT_EQ((*merged)["X-Trace"], "c");
  EXPECT_EQ((*merged)["X-New"], "yes");
  EXPECT_EQ((*merged)[http::field::content_length], "11")
      << "framing comes from the stored response";
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
  EXPECT_EQ(head_field(kStored, "HTTP/1.1 200 OK"), std::nullopt)
      << "the status line is not a field";
}

http::response_header<> head_response(
    std::initializer_list<std::pair<const char*, const char*>> fields) {
  http::response_header<> r;
  r.result(http::status::ok);
  for (const auto& [name, value] : fields) r.set(name, value);
  return r;
}

TEST(HeadResponse, DescribesTheStoredEntryByValidatorThenByLength) {
  // kStored: ETag "v1", 11 body bytes.
  EXPECT_TRUE(
      describes_stored(kStored, 11, head_response({{"ETag", "\"v1\""}, {"Content-Length", "11"}})));
  EXPECT_FALSE(describes_stored(kStored, 11, head_response({{"ETag", "\"v2\""}})));
  EXPECT_FALSE(
      describes_stored(kStored, 11, head_response({{"ETag", "\"v1\""}, {"Content-Length", "12"}})))
      << "another length is another representation";
  EXPECT_FALSE(describes_stored(kStored, 11, head_response({})))
      << "the stored entry has a validator the HEAD lacks";
  const std::string bare = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n";
  EXPECT_TRUE(describes_stored(bare, 3, head_response({{"Content-Length", "3"}})));
  EXPECT_TRUE(describes_stored(bare, 3, head_response({})));
  EXPECT_FALSE(describes_stored(bare, 3, head_response({{"ETag", "\"new\""}})));
  const std::string dated = "HTTP/1.1 200 OK\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
  EXPECT_TRUE(describes_stored(
      dated, 0, head_response({{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}})));
  EXPECT_FALSE(describes_stored(
      dated, 0, head_response({{"Last-Modified", "Mon, 07 Nov 1994 08:49:37 GMT"}})));
}

TEST(StoredHead, LeavesOutConnectionListedAndOmittedFields) {
  auto response = head_response(
      {{"Connection", "X-Hop"}, {"X-Hop", "1"}, {"Set-Cookie", "a=b"}, {"X-Kept", "yes"}});
  cache::StorageDecision decision;
  decision.omitted_fields = {"set-cookie"};
  auto entry = build_entry(response, "body", "fp", {}, store::Clock::now(), decision,
                           std::chrono::seconds(0));
  EXPECT_FALSE(head_field(entry->head, "X-Hop"));
  EXPECT_FALSE(head_field(entry->head, "Connection"));
  EXPECT_FALSE(head_field(entry->head, "Set-Cookie"));
  EXPECT_EQ(head_field(entry->head, "X-Kept"), "yes");
}

TEST(TargetedFields, TheMostTargetedValidFieldReplacesCacheControlWhole) {
  config::RoutePolicy route;
  auto cdn = response_facts(
      head_response({{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=10000"}}),
      route);
  EXPECT_EQ(cdn.cache_control.max_age, std::chrono::seconds(10000));
  EXPECT_FALSE(cdn.cache_control.no_store)
      << "Cache-Control is ignored when a targeted field is used";
  auto ours = response_facts(
      head_response({{"CDN-Cache-Control", "max-age=60"}, {"Cachecar-Cache-Control", "max-age=5"}}),
      route);
  EXPECT_EQ(ours.cache_control.max_age, std::chrono::seconds(5))
      << "ours is more targeted than the CDN's";
  auto invalid = response_facts(
      head_response({{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=10000, &&&&&"}}),
      route);
  EXPECT_TRUE(invalid.cache_control.no_store) << "an invalid targeted field is ignored as a whole";
  EXPECT_FALSE(invalid.cache_control.max_age);
  auto fallback = response_facts(head_response({{"Cachecar-Cache-Control", "max-age=\"5\""},
                                                {"CDN-Cache-Control", "max-age=70"}}),
                                 route);
  EXPECT_EQ(fallback.cache_control.max_age, std::chrono::seconds(70))
      << "the next targeted field then counts";
}

TEST(AgeField, FirstMemberOfAListCountsAndInvalidValuesAreIgnored) {
  config::RoutePolicy route;
  struct Case {
    const char* value;
    long long seconds;
  };
  for (auto [value, seconds] : {Case{"30", 30}, Case{"30, 60", 30}, Case{" 7 ", 7}, Case{"-5", 0},
                                Case{"abc", 0}, Case{"1.5", 0}, Case{"", 0}}) {
    auto facts = response_facts(head_response({{"Age", value}}), route);
    EXPECT_EQ(facts.age.count(), seconds) << "Age: " << value;
  }
}

}  // namespace
}  // namespace cachecar::proxy
