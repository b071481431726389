// Keyed = forwarded (DESIGN, "Correctness rules"): on a caching route the
// origin receives exactly the request the key describes. This file decides
// that request: its canonical target, the host and scheme that name it, and
// whether the request can be put in that form at all. A request that cannot
// (a keyed header sent twice or named in Connection, a query name that does
// not decode, a host outside allowed_hosts, a forwarded scheme we cannot
// read) is forwarded as sent and neither served from nor stored to the
// cache. Pure functions: no I/O, no clock.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "cache/key_builder.hpp"
#include "config/config.hpp"

namespace cachecar::cache {

// Why a request on a caching route is not cached (Cache-Status detail).
enum class Refusal {
  none,
  duplicate_keyed_header,   // the tenant header or a `vary:` header sent twice
  keyed_header_hop_by_hop,  // Connection names Host or a keyed header: the origin would not see it
  ambiguous_query,          // a query parameter name with a broken %-escape
  host_not_allowed,         // allowed_hosts is set and does not name this host
  bad_forwarded_header,     // a trusted proxy's X-Forwarded-Proto is neither http nor https
  missing_tenant,  // a tenant-scoped route, and no tenant: must not see or fill tenant data
};
const char* to_string(Refusal refusal);

// Writes the canonical target of a request that matched `route` (its
// path variables `values`, its query string without '?') into `out`:
// the canonical path (RouteTemplate::append_canonical_path), then the query:
//  - no `query:` list: the query as sent (every parameter is keyed);
//  - a `query:` list: only parameters whose name, %-decoded and compared
//    case-insensitively, is on the list, each renamed to the list's
//    spelling, stably sorted by name. (ASP.NET Core binds `Currency` and
//    `curr%65ncy` to `currency`: they must not slip past the key.)
Refusal canonical_target(const config::RoutePolicy& route, const config::RouteValues& values,
                         std::string_view query, std::string& out);

// What the request says about the host and scheme, believed from a trusted
// proxy's X-Forwarded-Host/-Proto (the last member of each), else Host.
struct ForwardedAuthority {
  std::string_view host;  // as sent (case and port kept)
  std::string_view scheme = "http";
};
ForwardedAuthority forwarded_authority(const HeaderSource& headers, bool trusted_peer);

// Checks the fields the key depends on: one line per keyed header, none of
// them (nor Host) named in Connection, the host allowed, the scheme known.
// On success `host_key` receives the host as it enters the key (lower case;
// empty when allowed_hosts is set, since the allowed hosts share entries).
Refusal check_keyed_fields(const config::RoutePolicy& route,
                           const config::ForwardingConfig& forwarding, const HeaderSource& headers,
                           const ForwardedAuthority& authority, std::string& host_key);

// All of the above for a request that matched `route` on its path
// (`values`, viewing that path): the canonical target into scratch.target,
// `values` re-matched on it (they then view scratch.target), and the key of
// the canonical request into scratch.key / scratch.fingerprint. `authority`
// must already be the one the origin will be sent. Refusal::none: keyed.
Refusal key_canonical_request(const config::RoutePolicy& route, std::string_view environment,
                              const config::ForwardingConfig& forwarding,
                              config::RouteValues& values, std::string_view query,
                              const HeaderSource& headers, const ForwardedAuthority& authority,
                              KeyScratch& scratch,
                              std::vector<KeySegmentOrigin>* explain = nullptr);

// The header fields that rewrite a request's target or method in common
// frameworks (X-Original-URL, X-HTTP-Method-Override, X-Forwarded-Prefix, ...):
// never keyed, so never forwarded on a caching route.
std::span<const std::string_view> target_rewriting_fields();

}  // namespace cachecar::cache
