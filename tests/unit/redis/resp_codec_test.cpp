#include "redis/resp_codec.hpp"

#include <gtest/gtest.h>

namespace cachecar::redis {
namespace {

TEST(RespCodec, FormatsBinarySafeCommands) {
  std::string value("a\0b\r\n", 5);
  EXPECT_EQ(format_command({"SET", "k", value}),
            std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n", 31));
}

TEST(RespCodec, ParsesRepliesFedInPieces) {
  ReplyParser parser;
  std::string stream = "+OK\r\n:42\r\n$5\r\nhelXo\r\n$-1\r\n*2\r\n$1\r\na\r\n:7\r\n-ERR nope\r\n";
  stream[17] = '\0';
  bool failed = false;
  std::vector<Reply> replies;
  for (char c : stream) {
    ASSERT_TRUE(parser.feed(&c, 1));
    while (auto r = parser.next(failed)) replies.push_back(*r);
  }
  ASSERT_FALSE(failed);
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type, Reply::Type::status);
  EXPECT_EQ(replies[1].integer, 42);
  EXPECT_EQ(replies[2].text, std::string("hel\0o", 5));
  EXPECT_TRUE(replies[3].is_nil());
  ASSERT_EQ(replies[4].elements.size(), 2u);
  EXPECT_EQ(replies[4].elements[1].integer, 7);
  EXPECT_TRUE(replies[5].is_error());
  EXPECT_EQ(replies[5].text, "ERR nope");
}

// Found by fuzz_resp (issue 10): hiredis allocated the announced array on
// its header alone, 10 GB for "*1244444444".
TEST(RespCodec, AHugeArrayHeaderIsRefusedBeforeHiredisSeesIt) {
  auto feed = [](ReplyParser& parser, std::string_view bytes) {
    return parser.feed(bytes.data(), bytes.size());
  };
  ReplyParser parser;
  EXPECT_FALSE(feed(parser, "*1244444444\r\n"));
  ReplyParser split;
  EXPECT_TRUE(feed(split, "*2\r\n$3\r\n*99"));  // "*99" inside a bulk string is payload
  EXPECT_TRUE(feed(split, "\r\n*1244"));
  EXPECT_FALSE(feed(split, "444444\r\n"));
  ReplyParser fine;
  const std::string array = "*3\r\n:1\r\n$-1\r\n*-1\r\n";
  EXPECT_TRUE(fine.feed(array.data(), array.size()));
  bool failed = false;
  auto reply = fine.next(failed);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->elements.size(), 3u);
}

TEST(RespCodec, ProtocolErrorsAreReported) {
  ReplyParser parser;
  bool failed = false;
  ASSERT_TRUE(parser.feed("!garbage\r\n", 10));
  EXPECT_FALSE(parser.next(failed));
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace cachecar::redis
