// A RESP2 reply as a plain value, copied out of hiredis' reader so that it
// can outlive the reader and cross coroutine suspension points.
#pragma once

#include <string>
#include <vector>

namespace cachecar::redis {

struct Reply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  std::string text;  // status, error and bulk string payloads
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
};

}  // namespace cachecar::redis
