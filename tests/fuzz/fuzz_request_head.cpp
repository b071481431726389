// The request head path: Beast's parser with the listener's limits, then the
// framing checks (request_framing.hpp). Whatever the bytes, no crash, no
// sanitizer report; a head the checks pass has exactly one Host on HTTP/1.1.
#include <cstddef>
#include <cstdint>

#include "net/request_framing.hpp"

namespace http = cachecar::net::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;
  const auto& header = parser.get();
  auto problem = cachecar::net::framing_problem(header);
  if (!problem && header.version() >= 11 && header.count(http::field::host) != 1) __builtin_trap();
  return 0;
}
