// The binary form of an Entry in a shared tier (Redis). Versioned: an entry
// written in another format version, or damaged, decodes as nullopt (a
// miss), never as a wrong response. Bodies over kCompressAbove bytes are
// compressed when asked. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/entry.hpp"

namespace cachecar::store {

enum class BodyCompression { none, zstd, lz4 };

inline constexpr std::size_t kCompressAbove = 1024;
// 2: stale-if-error window; 3: swr window, rebuild time; 4: vary markers; 5: route-table generation
inline constexpr unsigned char kEntryFormatVersion = 5;

std::string encode_entry(const Entry& entry, BodyCompression compression);
// `max_body_bytes`: a body that says it is larger is refused before any
// buffer is sized for it (a few bytes of zstd can announce 512 MiB; found
// by fuzz_entry_codec). The shared tier passes max_entry_bytes.
std::optional<Entry> decode_entry(std::string_view bytes,
                                  std::uint32_t max_body_bytes = 512u * 1024 * 1024);

}  // namespace cachecar::store
