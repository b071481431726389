// RESP encoding and decoding, with hiredis as the codec only: commands are
// formatted with redisFormatCommandArgv (binary-safe, lengths always given)
// and replies parsed with a redisReader fed from our own sockets.
// Not thread-safe: one ReplyParser per connection.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/reply.hpp"

struct redisReader;

namespace cachecar::redis {

// The RESP form of one command; arguments may hold any bytes.
std::string format_command(const std::vector<std::string_view>& args);
inline std::string format_command(std::initializer_list<std::string_view> args) {
  return format_command(std::vector<std::string_view>(args));
}

class ReplyParser {
 public:
  // Replies larger than this are a protocol error: hiredis sets no bound itself.
  static constexpr std::size_t kMaxBufferedBytes = 64 * 1024 * 1024;
  // An array header announcing more elements is a protocol error: hiredis
  // 0.14 allocates the whole array on the header alone ("*1244444444\r\n"
  // asked for 10 GB; found by fuzz_resp).
  static constexpr long long kMaxElements = 1 << 20;

  ReplyParser();
  ~ReplyParser();
  ReplyParser(const ReplyParser&) = delete;
  ReplyParser& operator=(const ReplyParser&) = delete;

  // False on a protocol error or an oversized reply; the parser is then
  // unusable (hiredis errors are sticky) and the connection must be dropped.
  bool feed(const char* data, std::size_t size);
  // The next complete reply, if any. Sets `failed` on a protocol error.
  std::optional<Reply> next(bool& failed);

 private:
  // Walks the bytes before hiredis reads them, to refuse the headers it
  // would act on blindly. Tracks only line starts and bulk payloads, which
  // is all RESP2 framing is; state carries across feeds.
  bool screen(const char* data, std::size_t size);

  redisReader* reader_;
  std::size_t buffered_ = 0;
  bool in_line_ = false;
  bool after_cr_ = false;
  char line_type_ = 0;
  bool negative_ = false;
  long long number_ = 0;
  long long bulk_left_ = 0;  // payload bytes (and their CRLF) still to skip
};

}  // namespace cachecar::redis
