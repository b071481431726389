// The shared tier's entry codec: any bytes decode to an entry or to
// nothing; an entry that decodes re-encodes to bytes that decode to it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/entry_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachecar::store;
  // The bound the shared tier uses for a 1 MiB max_entry_bytes.
  auto entry =
      decode_entry(std::string_view(reinterpret_cast<const char*>(data), size), 1024 * 1024);
  if (!entry) return 0;
  for (auto compression : {BodyCompression::none, BodyCompression::zstd, BodyCompression::lz4}) {
    auto again = decode_entry(encode_entry(*entry, compression));
    if (!again || again->head != entry->head || again->body != entry->body ||
        again->tags != entry->tags || again->fingerprint != entry->fingerprint) {
      __builtin_trap();
    }
  }
  return 0;
}
