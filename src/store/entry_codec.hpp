// The binary form of an Entry in a shared tier (Redis). Versioned: an entry
// written in another format version, or damaged, decodes as nullopt (a
// miss), never as a wrong response. Bodies over kCompressAbove bytes are
// compressed when asked. Pure functions; thread-safe.
#pragma once

#include "store/entry.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace cachecar::store {

enum class BodyCompression { none, zstd, lz4 };

inline constexpr std::size_t kCompressAbove = 1024;
// 2: stale-if-error window; 3: swr window, rebuild time; 4: vary markers; 5: route-table generation
inline constexpr unsigned char kEntryFormatVersion = 5;

std::string encode_entry(const Entry& entry, BodyCompression compression);
std::optional<Entry> decode_entry(std::string_view bytes);

}  // namespace cachecar::store
