#include "store/entry_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace cachecar::store {
namespace {

Entry sample(std::string body) {
  Entry e;
  e.head = "HTTP/1.1 200 OK\r\nETag: \"x\"\r\n";
  e.body = std::move(body);
  e.fingerprint = std::string("q\0a=1\0", 6);
  e.tags = {"product:42", "category:3"};
  e.stored_at = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now());
  e.expires_at = e.stored_at + std::chrono::seconds(300);
  e.initial_age_seconds = 12;
  e.stale_if_error_seconds = 600;
  e.stale_while_revalidate_seconds = 30;
  e.rebuild_ms = 250;
  e.generation = 7;
  e.must_revalidate = true;
  e.vary = {"accept-language", "x-device"};
  e.status = 404;
  return e;
}

void expect_same(const Entry& a, const Entry& b) {
  EXPECT_EQ(a.head, b.head);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.stored_at, b.stored_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.initial_age_seconds, b.initial_age_seconds);
  EXPECT_EQ(a.stale_if_error_seconds, b.stale_if_error_seconds);
  EXPECT_EQ(a.stale_while_revalidate_seconds, b.stale_while_revalidate_seconds);
  EXPECT_EQ(a.rebuild_ms, b.rebuild_ms);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.must_revalidate, b.must_revalidate);
  EXPECT_EQ(a.vary, b.vary);
  EXPECT_EQ(a.status, b.status);
}

class EntryCodecTest : public ::testing::TestWithParam<BodyCompression> {};

TEST_P(EntryCodecTest, RoundTripsSmallAndLargeBodies) {
  std::string large;
  for (int i = 0; i < 5000; ++i) large += "row " + std::to_string(i % 50) + ";";
  for (const std::string& body :
       {std::string(), std::string("tiny"), large, std::string(4096, '\0')}) {
    Entry original = sample(body);
    auto bytes = encode_entry(original, GetParam());
    auto decoded = decode_entry(bytes);
    ASSERT_TRUE(decoded) << body.size();
    expect_same(original, *decoded);
    if (GetParam() != BodyCompression::none && body.size() > kCompressAbove) {
      EXPECT_LT(bytes.size(), body.size()) << "a compressible body is stored compressed";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Compressions, EntryCodecTest,
                         ::testing::Values(BodyCompression::none, BodyCompression::zstd,
                                           BodyCompression::lz4));

TEST(EntryCodec, AnotherFormatVersionIsAMiss) {
  auto bytes = encode_entry(sample("body"), BodyCompression::none);
  bytes[3] = static_cast<char>(kEntryFormatVersion + 1);
  EXPECT_FALSE(decode_entry(bytes));
}

TEST(EntryCodec, DamagedOrForeignBytesAreAMiss) {
  auto bytes = encode_entry(sample(std::string(5000, 'z')), BodyCompression::zstd);
  EXPECT_FALSE(decode_entry(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_entry(bytes + "x"));
  EXPECT_FALSE(decode_entry("plain text someone else stored"));
  EXPECT_FALSE(decode_entry(""));
  std::string corrupted = bytes;
  corrupted[corrupted.size() - 10] ^= 0x5a;
  EXPECT_FALSE(decode_entry(corrupted));
}

// Found by fuzz_entry_codec (issue 10): a few bytes of zstd announcing a
// huge body made decode size (and zero) a buffer for it, seconds per input.
TEST(EntryCodec, ABodyOverTheBoundIsRefusedBeforeItIsSized) {
  const auto bytes = encode_entry(sample(std::string(5000, 'z')), BodyCompression::zstd);
  EXPECT_TRUE(decode_entry(bytes, 5000));
  EXPECT_FALSE(decode_entry(bytes, 4999));
  EXPECT_FALSE(
      decode_entry(encode_entry(sample(std::string(5000, 'z')), BodyCompression::none), 4999));
}

// Found by fuzz_entry_codec (issue 10): a stored time of -2.8e15 ms
// overflowed the conversion to a time_point (undefined behaviour).
TEST(EntryCodec, TimesOutsideTheCalendarAreAMiss) {
  const auto bytes = encode_entry(sample("body"), BodyCompression::none);
  for (std::size_t at : {5u, 13u}) {  // stored_at, expires_at (after "CCE", version, compression)
    for (std::int64_t ms : {std::int64_t{-2'812'953'577'362'033}, std::int64_t{-1},
                            std::int64_t{242'589'235'927'471}, INT64_MAX}) {
      std::string damaged = bytes;
      std::memcpy(damaged.data() + at, &ms, sizeof ms);
      EXPECT_FALSE(decode_entry(damaged)) << at << " " << ms;
    }
  }
  EXPECT_TRUE(decode_entry(bytes));
}

}  // namespace
}  // namespace cachecar::store
