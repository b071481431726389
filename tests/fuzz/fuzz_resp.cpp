// The RESP reply parser (hiredis as a codec): any bytes, fed in two pieces.
#include <cstddef>
#include <cstdint>

#include "redis/resp_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cachecar::redis::ReplyParser parser;
  const auto* text = reinterpret_cast<const char*>(data);
  const std::size_t half = size / 2;
  bool failed = false;
  if (!parser.feed(text, half)) return 0;
  while (!failed && parser.next(failed)) {
  }
  if (failed || !parser.feed(text + half, size - half)) return 0;
  while (!failed && parser.next(failed)) {
  }
  return 0;
}
