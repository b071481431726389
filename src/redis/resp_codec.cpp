#include "redis/resp_codec.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>

namespace cachecar::redis {
namespace {

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      break;
    default:
      out.type = Reply::Type::nil;
      break;
  }
  if (r->str != nullptr) out.text.assign(r->str, r->len);
  out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

}  // namespace

std::string format_command(const std::vector<std::string_view>& args) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(args.size());
  lengths.reserve(args.size());
  for (auto a : args) {
    pointers.push_back(a.data());
    lengths.push_back(a.size());
  }
  char* command = nullptr;
  int length = redisFormatCommandArgv(&command, static_cast<int>(args.size()), pointers.data(),
                                      lengths.data());
  if (length < 0 || command == nullptr) throw std::bad_alloc();
  std::string out(command, static_cast<std::size_t>(length));
  redisFreeCommand(command);
  return out;
}

ReplyParser::ReplyParser() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

ReplyParser::~ReplyParser() { redisReaderFree(reader_); }

bool ReplyParser::feed(const char* data, std::size_t size) {
  buffered_ += size;
  if (buffered_ > kMaxBufferedBytes) return false;
  if (!screen(data, size)) return false;
  return redisReaderFeed(reader_, data, size) == REDIS_OK;
}

bool ReplyParser::screen(const char* data, std::size_t size) {
  constexpr long long kSaturated = static_cast<long long>(kMaxBufferedBytes) + 1;
  for (std::size_t i = 0; i < size;) {
    if (bulk_left_ > 0) {
      const auto skip = std::min<long long>(bulk_left_, static_cast<long long>(size - i));
      bulk_left_ -= skip;
      i += static_cast<std::size_t>(skip);
      continue;
    }
    const char c = data[i++];
    if (!in_line_) {
      in_line_ = true;
      after_cr_ = false;
      line_type_ = c;
      negative_ = false;
      number_ = 0;
      continue;
    }
    if (c == '\n' && after_cr_) {  // hiredis ends a line on CRLF only
      in_line_ = false;
      if (line_type_ == '*' && !negative_ && number_ > kMaxElements) return false;
      if (line_type_ == '$' && !negative_) {
        if (number_ > static_cast<long long>(kMaxBufferedBytes)) return false;
        bulk_left_ = number_ + 2;
      }
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '-' && number_ == 0) negative_ = true;
    if (c >= '0' && c <= '9') number_ = std::min(number_ * 10 + (c - '0'), kSaturated);
  }
  return true;
}

std::optional<Reply> ReplyParser::next(bool& failed) {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    failed = true;
    return std::nullopt;
  }
  if (raw == nullptr) return std::nullopt;
  auto* reply = static_cast<redisReply*>(raw);
  Reply out = convert(reply);
  freeReplyObject(reply);
  // Everything fed so far up to this reply is consumed; count only what may still be pending.
  buffered_ = 0;
  return out;
}

}  // namespace cachecar::redis
