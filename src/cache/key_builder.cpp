#include "cache/key_builder.hpp"

#include <xxhash.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cstdio>

namespace cachecar::cache {
namespace {

// Appends `value` with '%' ':' ',' encoded; a bare "-" is encoded too, since
// "-" alone means "absent" in a key.
void append_encoded(std::string& out, std::string_view value) {
  if (value == "-") {
    out += "%2D";
    return;
  }
  for (char c : value) {
    switch (c) {
      case ':':
        out += "%3A";
        break;
      case '%':
        out += "%25";
        break;
      default:
        out += c;
    }
  }
}

void append_hex64(std::string& out, std::uint64_t value) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  out.append(hex, 16);
}

// Appends one key segment, hashed when its encoded form is too long.
void append_segment(std::string& key, std::string& fingerprint, std::string_view raw, bool encode) {
  std::size_t start = key.size();
  if (encode)
    append_encoded(key, raw);
  else
    key += raw;
  if (key.size() - start <= kMaxSegmentBytes) return;
  std::string_view long_form(key.data() + start, key.size() - start);
  std::uint64_t hash = XXH64(long_form.data(), long_form.size(), 0);
  fingerprint += long_form;
  fingerprint += '\n';
  key.resize(start);
  key += '~';
  append_hex64(key, hash);
}

struct QueryParam {
  std::string_view name;
  std::string_view pair;  // "name=value" as sent
};
using QueryParams = boost::container::small_vector<QueryParam, 8>;

QueryParams select_query(std::string_view query,
                         const std::optional<std::vector<std::string>>& allowed) {
  QueryParams params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::string_view name = pair.substr(0, pair.find('='));
    if (allowed && !std::binary_search(allowed->begin(), allowed->end(), name)) continue;
    params.push_back({name, pair});
  }
  // Sorted by name; repeated names keep their order, which may carry meaning.
  std::stable_sort(params.begin(), params.end(),
                   [](const QueryParam& a, const QueryParam& b) { return a.name < b.name; });
  return params;
}

// Appends key segments, and, when asked to explain, where each came from
// (callers test `explain` first: the origin strings cost allocations a
// hit must not pay).
struct KeyWriter {
  std::string& key;
  std::string& fingerprint;
  std::vector<KeySegmentOrigin>* explain;

  void note(const char* name, std::size_t from, std::string origin) {
    if (explain) explain->push_back({name, key.substr(from), std::move(origin)});
  }
};

bool append_tenant(KeyWriter& w, const config::RoutePolicy& route, const HeaderSource& headers) {
  const std::size_t from = w.key.size();
  if (route.tenant_header.empty()) {
    w.key += '-';
    if (w.explain) w.note("tenant", from, "route '" + route.name + "' is not tenant-scoped");
    return true;
  }
  auto tenant = headers.header(route.tenant_header);
  if (!tenant || tenant->empty()) return false;
  append_segment(w.key, w.fingerprint, *tenant, true);
  if (w.explain) w.note("tenant", from, "request header " + route.tenant_header);
  return true;
}

// Identity: the path variables in template order, joined by '/'.
void append_identity(KeyWriter& w, const config::RoutePolicy& route,
                     const config::RouteValues& values) {
  const std::size_t from = w.key.size();
  if (values.empty()) {
    w.key += '-';
  } else {
    std::size_t identity_start = w.key.size();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) w.key += '/';
      append_encoded(w.key, values[i]);
    }
    std::string identity = w.key.substr(identity_start);
    w.key.resize(identity_start);
    append_segment(w.key, w.fingerprint, identity, false);
  }
  if (!w.explain) return;
  std::string origin = "path variables";
  auto names = route.path.variable_names();
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    origin += (i ? ", " : " ") + names[i] + "=" + std::string(values[i]);
  }
  w.note("identity", from, values.empty() ? "the route has no path variables" : origin);
}

// The canonical projection, appended to the fingerprint: the selected
// query parameters, the vary headers and the authority.
void append_projection_fields(std::string& fingerprint, const config::RoutePolicy& route,
                              std::string_view query, const HeaderSource& headers,
                              Authority authority) {
  for (const QueryParam& p : select_query(query, route.query)) {
    fingerprint += 'q';
    fingerprint += p.pair;
    fingerprint += '\0';
  }
  for (const std::string& name : route.vary) {
    fingerprint += 'h';
    fingerprint += name;
    fingerprint += ':';
    if (auto value = headers.header(name))
      fingerprint += *value;
    else
      fingerprint += '\x01';  // absent differs from empty
    fingerprint += '\0';
  }
  if (!authority.host.empty()) {
    fingerprint += 'H';
    fingerprint += authority.host;
    fingerprint += '\0';
  }
  if (authority.https) fingerprint += "S\0";
}

std::string explain_projection(bool empty, const config::RoutePolicy& route, std::string_view query,
                               const HeaderSource& headers, Authority authority) {
  std::string origin = empty ? "no query parameters or vary headers" : "xxh64 of";
  for (const QueryParam& p : select_query(query, route.query))
    origin += " query " + std::string(p.pair) + ";";
  for (const std::string& name : route.vary) {
    auto value = headers.header(name);
    origin += " header " + name + "=" + (value ? std::string(*value) : "(absent)") + ";";
  }
  if (!authority.host.empty())
    origin += " host " + std::string(authority.host) + " (allowed_hosts is not set);";
  if (authority.https) origin += " scheme https (from a trusted proxy);";
  if (!route.query) origin += " (route has no 'query:' list, so every parameter counts)";
  return origin;
}

// Projection: the xxh64 of the canonical projection, or '-' when empty.
void append_projection(KeyWriter& w, const config::RoutePolicy& route, std::string_view query,
                       const HeaderSource& headers, Authority authority) {
  const std::size_t from = w.key.size();
  const std::size_t canonical_start = w.fingerprint.size();
  append_projection_fields(w.fingerprint, route, query, headers, authority);
  std::string_view canonical(w.fingerprint.data() + canonical_start,
                             w.fingerprint.size() - canonical_start);
  if (canonical.empty()) {
    w.key += '-';
  } else {
    append_hex64(w.key, XXH64(canonical.data(), canonical.size(), 0));
  }
  if (w.explain)
    w.note("projection", from,
           explain_projection(canonical.empty(), route, query, headers, authority));
}

}  // namespace

KeyOutcome build_key(const config::RoutePolicy& route, std::string_view environment,
                     const config::RouteValues& values, std::string_view query,
                     const HeaderSource& headers, KeyScratch& out,
                     std::vector<KeySegmentOrigin>* explain, Authority authority) {
  KeyWriter w{out.key, out.fingerprint, explain};
  w.key.clear();
  w.fingerprint.clear();

  std::size_t from = w.key.size();
  append_segment(w.key, w.fingerprint, environment, true);
  if (explain) w.note("environment", from, "config 'environment'");
  w.key += ':';
  if (!append_tenant(w, route, headers)) return KeyOutcome::missing_tenant;
  w.key += ':';
  from = w.key.size();
  append_segment(w.key, w.fingerprint, route.key_entity(), true);
  if (explain)
    w.note("entity", from,
           route.entity.empty() ? "route name '" + route.name + "'" : "route 'entity'");
  w.key += ':';
  append_identity(w, route, values);
  w.key += ':';
  append_projection(w, route, query, headers, authority);
  w.key += ':';
  from = w.key.size();
  w.key += 'v';
  w.key += std::to_string(route.version);
  if (explain) w.note("version", from, "route 'version'");
  return KeyOutcome::built;
}

std::vector<std::string> implicit_tags(std::string_view key) {
  // env:tenant:entity:identity:projection:vN -> the first four segments.
  std::size_t colons[4] = {};
  std::size_t at = 0;
  for (auto& c : colons) {
    at = key.find(':', at);
    if (at == std::string_view::npos) return {};
    c = at++;
  }
  std::string_view env = key.substr(0, colons[0]);
  std::string_view entity_identity = key.substr(colons[1] + 1, colons[3] - colons[1] - 1);
  std::string own = "#" + std::string(key.substr(0, colons[3]));
  std::string any = "#" + std::string(env) + ":*:" + std::string(entity_identity);
  return {own, any};
}

std::vector<std::string> identity_tags(std::string_view environment, std::string_view entity,
                                       std::string_view id,
                                       const std::optional<std::string>& tenant) {
  std::string env = encode_key_segment(environment);
  std::string tail = ":" + encode_key_segment(entity) + ":" + encode_key_segment(id);
  if (!tenant) return {"#" + env + ":*" + tail};
  return {"#" + env + ":" + encode_key_segment(*tenant) + tail, "#" + env + ":-" + tail};
}

std::string encode_key_segment(std::string_view raw) {
  std::string out, unused;
  append_segment(out, unused, raw, true);
  return out;
}

}  // namespace cachecar::cache
