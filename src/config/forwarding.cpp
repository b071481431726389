#include "config/config.hpp"

namespace cachecar::config {

bool ForwardingConfig::allows_host(std::string_view host) const {
  // No host at all (HTTP/1.0 without Host) names no other site: allowed,
  // as ASP.NET Core's host filtering allows empty hosts by default.
  if (!allowed_hosts || host.empty()) return true;
  for (const auto& allowed : *allowed_hosts) {
    if (allowed == "*" || allowed == host) return true;
    // "*.example.com": any name below example.com, not example.com itself.
    if (allowed.rfind("*.", 0) == 0 && host.size() > allowed.size() - 1 &&
        host.substr(host.size() - (allowed.size() - 1)) == std::string_view(allowed).substr(1)) {
      return true;
    }
  }
  return false;
}

}  // namespace cachecar::config
