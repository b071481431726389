#include <algorithm>
#include <cctype>

#include "config/config.hpp"

namespace cachecar::config {

namespace {

// `host` in any case against `lower`, lower case already.
bool equals_lower(std::string_view host, std::string_view lower) {
  return host.size() == lower.size() &&
         std::equal(host.begin(), host.end(), lower.begin(), [](char h, char l) {
           return std::tolower(static_cast<unsigned char>(h)) == l;
         });
}

}  // namespace

bool ForwardingConfig::allows_host(std::string_view host) const {
  // No host at all (HTTP/1.0 without Host) names no other site: allowed,
  // as ASP.NET Core's host filtering allows empty hosts by default.
  if (!allowed_hosts || host.empty()) return true;
  for (const auto& allowed : *allowed_hosts) {
    if (allowed == "*" || equals_lower(host, allowed)) return true;
    // "*.example.com": any name below example.com, not example.com itself.
    const std::string_view suffix = std::string_view(allowed).substr(1);  // ".example.com"
    if (allowed.rfind("*.", 0) == 0 && host.size() > suffix.size() &&
        equals_lower(host.substr(host.size() - suffix.size()), suffix)) {
      return true;
    }
  }
  return false;
}

}  // namespace cachecar::config
