#include "cache/vary.hpp"

#include <xxhash.h>

#include <cstdio>

namespace cachecar::cache {

void add_variant(std::string& key, std::string& fingerprint, const std::vector<std::string>& names,
                 const HeaderSource& request) {
  std::string canonical = "\x01vary\n";
  FieldValues lines;
  for (const auto& name : names) {
    canonical += name;
    canonical += ':';
    // An absent header and an empty one are different requests. Several
    // lines are one list, as the origin reads them (RFC 9110 §5.3): all of
    // them are keyed, not only the first.
    lines.clear();
    request.values(name, lines);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      canonical += i == 0 ? "=" : ", ";
      canonical.append(lines[i]);
    }
    canonical += '\n';
  }
  char hex[24];
  std::snprintf(hex, sizeof hex, "~%016llx",
                static_cast<unsigned long long>(XXH64(canonical.data(), canonical.size(), 0)));
  key += hex;
  fingerprint += canonical;
}

namespace {

std::size_t primary_key_length(std::string_view key) {
  auto tilde = key.rfind('~');
  // Segments are percent-encoded only for ':' and '%', so '~' may occur in
  // them: a variant suffix is exactly "~" + 16 hex digits at the very end.
  if (tilde == std::string_view::npos || key.size() - tilde != 17) return key.size();
  for (char c : key.substr(tilde + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return key.size();
  }
  return tilde;
}

}  // namespace

Placement place(std::string_view key, std::string_view fingerprint,
                const std::vector<std::string>& vary_names, const HeaderSource& request) {
  Placement placement;
  if (vary_names.empty()) {
    placement.key = key;
    placement.fingerprint = fingerprint;
    return placement;
  }
  placement.primary = key.substr(0, primary_key_length(key));
  placement.key = placement.primary;
  placement.fingerprint = fingerprint.substr(0, fingerprint.find('\x01'));
  placement.vary = vary_names;
  add_variant(placement.key, placement.fingerprint, vary_names, request);
  return placement;
}

}  // namespace cachecar::cache
