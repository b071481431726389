// Cache keys, SPEC §4:
//   {environment}:{tenant|-}:{entity|route}:{identity}:{projection}:v{version}
// Each segment is percent-encoded where it holds ':' (so the key splits on
// ':' unambiguously) and hashed (xxh64, '~' + 16 hex digits) past 128 bytes.
// The fingerprint is the unhashed text behind every hashed part; entries
// keep it and a hit compares it, so a hash collision is a miss, never a
// wrong body.
#pragma once

#include <boost/container/small_vector.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/route_template.hpp"

namespace cachecar::cache {

// The values of every field line of one name, in order.
using FieldValues = boost::container::small_vector<std::string_view, 2>;

// Request header access without tying keys to an HTTP library.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // The first field line's value, or nullopt when absent (case-insensitive name).
  virtual std::optional<std::string_view> header(std::string_view name) const = 0;
  // Every field line's value, in order (nothing when absent). Sources that
  // hold one line per name need not override it.
  virtual void values(std::string_view name, FieldValues& out) const {
    if (auto value = header(name)) out.push_back(*value);
  }
};

// What names the resource besides its path, query and headers; enters the
// projection when set (see canonical_form.hpp).
struct Authority {
  std::string_view host;  // lower case; empty: not keyed (allowed_hosts set)
  bool https = false;     // a trusted proxy says the client used https
};

// Reused across requests of one connection so that building a key does not
// allocate once the buffers have grown.
struct KeyScratch {
  std::string key;
  std::string fingerprint;
  std::string target;  // the canonical request target (canonical_form.hpp)
  std::string host;    // the host as keyed, lower case (canonical_form.hpp)
};

struct KeySegmentOrigin {
  std::string name;    // environment, tenant, entity, identity, projection, version
  std::string value;   // as it appears in the key
  std::string origin;  // where it came from, for /admin/keys/explain
};

enum class KeyOutcome { built, missing_tenant };

// Builds the key of a request on `route`; `values` are the route's matched
// path variables. `explain`, when given, receives each segment's origin.
KeyOutcome build_key(const config::RoutePolicy& route, std::string_view environment,
                     const config::RouteValues& values, std::string_view query,
                     const HeaderSource& headers, KeyScratch& out,
                     std::vector<KeySegmentOrigin>* explain = nullptr, Authority authority = {});

// One value as it appears as (part of) a key segment: ':' '%' encoded, a
// bare "-" encoded, hashed when longer than kMaxSegmentBytes.
std::string encode_key_segment(std::string_view raw);

// The implicit tags of an entry, from its key: "#env:tenant:entity:identity"
// and "#env:*:entity:identity", so that an event about one entity id (for
// one tenant or for all) finds every projection and version of it by tag.
std::vector<std::string> implicit_tags(std::string_view key);
// The tags an event about (entity, id[, tenant]) purges. A tenant's event
// also reaches entries shared by all tenants ("-"), which hold its data too.
std::vector<std::string> identity_tags(std::string_view environment, std::string_view entity,
                                       std::string_view id,
                                       const std::optional<std::string>& tenant);

constexpr std::size_t kMaxSegmentBytes = 128;

}  // namespace cachecar::cache
