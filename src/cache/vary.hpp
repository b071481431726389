// Responses that vary on request headers outside the route's key (RFC 9111
// §4.1): one stored entry per variant. The route's key then holds a small
// marker listing the Vary header names; each variant lives under
// "<key>~<xxh64 of the names and this request's values>", and the same
// canonical text is added to the variant's fingerprint, so a hash collision
// is a miss, never another variant's body. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/key_builder.hpp"

namespace cachecar::cache {

// Appends "~<hash>" to `key` and the canonical variant text (which starts
// with a byte no key text contains) to `fingerprint`, for header `names`
// (lower case, sorted, unique) as the request carries them.
void add_variant(std::string& key, std::string& fingerprint, const std::vector<std::string>& names,
                 const HeaderSource& request);

// Where a response for (key, fingerprint) is stored: there, or, when it
// varies on `vary_names`, as the request's variant under the route's key
// (`primary`, where the marker goes). `key` may already be a variant.
struct Placement {
  std::string key;
  std::string fingerprint;
  std::string primary;            // empty: no variant, no marker
  std::vector<std::string> vary;  // the marker's names
};
Placement place(std::string_view key, std::string_view fingerprint,
                const std::vector<std::string>& vary_names, const HeaderSource& request);

}  // namespace cachecar::cache
