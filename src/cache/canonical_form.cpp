#include "cache/canonical_form.hpp"

#include <algorithm>
#include <array>
#include <boost/container/small_vector.hpp>
#include <cctype>
#include <optional>

namespace cachecar::cache {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// application/x-www-form-urlencoded name decoding ('+' is a space); false
// when a '%' is not followed by two hex digits.
bool decode_name(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '+') {
      out += ' ';
    } else if (raw[i] == '%') {
      if (i + 2 >= raw.size()) return false;
      const int high = hex_value(raw[i + 1]), low = hex_value(raw[i + 2]);
      if (high < 0 || low < 0) return false;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return true;
}

struct Param {
  std::string_view name;   // as it will be forwarded
  std::string_view value;  // as sent, with its '=' ("" when the pair had none)
};
using Params = boost::container::small_vector<Param, 8>;

std::string_view last_list_member(std::string_view value) {
  auto comma = value.rfind(',');
  if (comma != std::string_view::npos) value = value.substr(comma + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// The last value of the last field line of `name`, or nullopt.
std::optional<std::string_view> last_value(const HeaderSource& headers, std::string_view name) {
  FieldValues lines;
  headers.values(name, lines);
  if (lines.empty()) return std::nullopt;
  return last_list_member(lines.back());
}

// The host a Host value names: no port, no trailing dot; case as sent.
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

}  // namespace

const char* to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::none:
      return "";
    case Refusal::duplicate_keyed_header:
      return "duplicate-keyed-header";
    case Refusal::keyed_header_hop_by_hop:
      return "keyed-header-hop-by-hop";
    case Refusal::ambiguous_query:
      return "ambiguous-query";
    case Refusal::host_not_allowed:
      return "host-not-allowed";
    case Refusal::bad_forwarded_header:
      return "bad-forwarded-header";
    case Refusal::missing_tenant:
      return "no-tenant";
  }
  return "?";
}

Refusal canonical_target(const config::RoutePolicy& route, const config::RouteValues& values,
                         std::string_view query, std::string& out) {
  out.clear();
  route.path.append_canonical_path(values, out);
  if (!route.query) {
    // Every parameter is keyed (sorted by name, repeated names in their
    // order): the query goes on as sent, since the key tells apart every
    // query the origin could tell apart.
    if (!query.empty()) {
      out += '?';
      out += query;
    }
    return Refusal::none;
  }
  Params params;
  std::string decoded;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto equals = pair.find('=');
    std::string_view name = pair.substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view{} : pair.substr(equals);
    if (!decode_name(name, decoded)) return Refusal::ambiguous_query;
    auto allowed = std::find_if(route.query->begin(), route.query->end(),
                                [&](const std::string& keyed) { return iequals(keyed, decoded); });
    if (allowed != route.query->end()) params.push_back({*allowed, value});
  }
  // Sorted by name; repeated names keep their order, which may carry meaning.
  std::stable_sort(params.begin(), params.end(),
                   [](const Param& a, const Param& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < params.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += params[i].name;
    out += params[i].value;
  }
  return Refusal::none;
}

ForwardedAuthority forwarded_authority(const HeaderSource& headers, bool trusted_peer) {
  ForwardedAuthority authority;
  authority.host = headers.header("Host").value_or(std::string_view{});
  if (!trusted_peer) return authority;
  if (auto host = last_value(headers, "X-Forwarded-Host"); host && !host->empty())
    authority.host = *host;
  if (auto scheme = last_value(headers, "X-Forwarded-Proto"); scheme && !scheme->empty())
    authority.scheme = *scheme;
  return authority;
}

Refusal check_keyed_fields(const config::RoutePolicy& route,
                           const config::ForwardingConfig& forwarding, const HeaderSource& headers,
                           const ForwardedAuthority& authority, std::string& host_key) {
  FieldValues lines;
  auto sent_more_than_once = [&](std::string_view name) {
    lines.clear();
    headers.values(name, lines);
    return lines.size() > 1;
  };
  if (!route.tenant_header.empty() && sent_more_than_once(route.tenant_header)) {
    return Refusal::duplicate_keyed_header;
  }
  for (const auto& name : route.vary) {
    if (sent_more_than_once(name)) return Refusal::duplicate_keyed_header;
  }
  // Fields named in Connection are removed before forwarding (hop-by-hop):
  // a keyed one would be in the key but not at the origin.
  lines.clear();
  headers.values("Connection", lines);
  for (std::string_view line : lines) {
    while (!line.empty()) {
      auto comma = line.find(',');
      std::string_view token = last_list_member(line.substr(0, comma));
      line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
      const bool keyed = iequals(token, "host") || iequals(token, route.tenant_header) ||
                         std::any_of(route.vary.begin(), route.vary.end(),
                                     [&](const std::string& name) { return iequals(token, name); });
      if (!token.empty() && keyed) return Refusal::keyed_header_hop_by_hop;
    }
  }
  if (authority.scheme != "http" && authority.scheme != "https")
    return Refusal::bad_forwarded_header;
  if (!forwarding.allows_host(host_without_port(authority.host))) return Refusal::host_not_allowed;
  host_key.clear();
  if (!forwarding.allowed_hosts) {
    // Into a buffer the caller reuses: no allocation per request once warm.
    for (char c : authority.host)
      host_key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return Refusal::none;
}

Refusal key_canonical_request(const config::RoutePolicy& route, std::string_view environment,
                              const config::ForwardingConfig& forwarding,
                              config::RouteValues& values, std::string_view query,
                              const HeaderSource& headers, const ForwardedAuthority& authority,
                              KeyScratch& scratch, std::vector<KeySegmentOrigin>* explain) {
  if (auto refusal = check_keyed_fields(route, forwarding, headers, authority, scratch.host);
      refusal != Refusal::none) {
    return refusal;
  }
  if (auto refusal = canonical_target(route, values, query, scratch.target);
      refusal != Refusal::none)
    return refusal;
  std::string_view canonical = scratch.target;
  auto question = canonical.find('?');
  std::string_view canonical_query =
      question == std::string_view::npos ? std::string_view{} : canonical.substr(question + 1);
  // The canonical path matches by construction (append_canonical_path).
  route.path.match(canonical.substr(0, question), values);
  const Authority keyed{scratch.host, authority.scheme == "https"};
  if (build_key(route, environment, values, canonical_query, headers, scratch, explain, keyed) ==
      KeyOutcome::missing_tenant) {
    return Refusal::missing_tenant;
  }
  return Refusal::none;
}

std::span<const std::string_view> target_rewriting_fields() {
  // Forwarded (RFC 7239) too: its host and proto are unkeyed; the
  // X-Forwarded-* fields cachecar writes carry what is keyed.
  static constexpr std::array<std::string_view, 15> kFields = {
      "X-Original-URL",     "X-Rewrite-URL",     "X-Original-URI",    "X-HTTP-Method-Override",
      "X-HTTP-Method",      "X-Method-Override", "X-Original-Method", "X-Forwarded-Prefix",
      "X-Forwarded-Path",   "X-Forwarded-Uri",   "X-Original-Host",   "X-Host",
      "X-Forwarded-Server", "X-Forwarded-Port",  "Forwarded"};
  return kFields;
}

}  // namespace cachecar::cache
