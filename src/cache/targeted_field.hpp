// RFC 9213 targeted cache-control fields (Cachecar-Cache-Control,
// CDN-Cache-Control) are Structured Field Dictionaries (RFC 8941), unlike
// Cache-Control. A field that does not parse as one, or that gives a known
// directive a value of the wrong type, is ignored as a whole (RFC 9213
// §2.1), and the cache falls back to the next field (then Cache-Control).
#pragma once

#include <string_view>

namespace cachecar::cache {

// `value`: the field's lines joined with ", ".
bool valid_targeted_field(std::string_view value);

}  // namespace cachecar::cache
