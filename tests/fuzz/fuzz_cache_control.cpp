// Cache-Control and RFC 9213 targeted-field parsing: any field value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache/cache_control.hpp"
#include "cache/targeted_field.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto directives = cachecar::cache::parse_cache_control(value);
  // Folding the same value twice (two field lines) must not crash either.
  cachecar::cache::parse_cache_control(value, directives);
  if (cachecar::cache::valid_targeted_field(value)) cachecar::cache::parse_cache_control(value);
  return 0;
}
