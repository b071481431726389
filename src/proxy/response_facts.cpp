#include "proxy/response_facts.hpp"

#include <algorithm>
#include <charconv>

#include "cache/http_date.hpp"
#include "cache/targeted_field.hpp"

namespace cachecar::proxy {
namespace {

using net::sv;

// Folds every line of a (possibly repeated) field into one set of directives.
bool fold_directives(const http::fields& fields, std::string_view name,
                     cache::CacheDirectives& into) {
  bool found = false;
  for (auto it = fields.find(name); it != fields.end() && beast::iequals(it->name_string(), name);
       ++it) {
    cache::parse_cache_control(sv(it->value()), into);
    found = true;
  }
  return found;
}

// A targeted field (RFC 9213) as directives, when present and a valid
// Structured Field Dictionary; an invalid one counts as absent.
bool fold_targeted(const http::fields& fields, std::string_view name,
                   cache::CacheDirectives& into) {
  std::string joined;
  bool found = false;
  for (auto it = fields.find(name); it != fields.end() && beast::iequals(it->name_string(), name);
       ++it) {
    if (found) joined += ", ";
    joined.append(it->value().data(), it->value().size());
    found = true;
  }
  if (!found || !cache::valid_targeted_field(joined)) return false;
  cache::parse_cache_control(joined, into);
  return true;
}

}  // namespace

cache::RequestFacts request_facts(const http::request_header<>& request) {
  cache::RequestFacts facts;
  fold_directives(request, "Cache-Control", facts.cache_control);
  // RFC 9111 §5.4: Pragma: no-cache counts only when Cache-Control is absent.
  if (!facts.cache_control.present && request.find(http::field::pragma) != request.end() &&
      beast::iequals(request[http::field::pragma], "no-cache")) {
    facts.cache_control.no_cache = true;
  }
  facts.has_authorization = request.find(http::field::authorization) != request.end();
  return facts;
}

cache::ResponseFacts response_facts(const http::response_header<>& response,
                                    const config::RoutePolicy& route) {
  cache::ResponseFacts facts;
  facts.status = response.result_int();
  // RFC 9213: the most targeted valid field present is used instead of
  // Cache-Control, all of it (a CDN-Cache-Control: max-age=60 beside
  // Cache-Control: no-store is the origin saying "browsers must not store
  // this; the CDN may").
  if (!fold_targeted(response, "Cachecar-Cache-Control", facts.cache_control) &&
      !fold_targeted(response, "CDN-Cache-Control", facts.cache_control)) {
    fold_directives(response, "Cache-Control", facts.cache_control);
  }
  facts.has_set_cookie = response.find(http::field::set_cookie) != response.end();
  for (auto it = response.find(http::field::vary);
       it != response.end() && it->name() == http::field::vary; ++it) {
    // A Vary list that does not parse cannot be matched: as good as "*".
    if (!http::validate_list(http::opt_token_list{it->value()})) facts.vary_star = true;
    for (auto token : http::token_list(it->value())) {
      std::string_view name = sv(token);
      if (name == "*") {
        facts.vary_star = true;
        continue;
      }
      bool covered = std::any_of(route.vary.begin(), route.vary.end(),
                                 [&](const std::string& v) { return beast::iequals(v, name); }) ||
                     (!route.tenant_header.empty() && beast::iequals(route.tenant_header, name));
      if (!covered) {
        std::string lower(name);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        facts.vary_names.push_back(std::move(lower));
      }
    }
  }
  std::sort(facts.vary_names.begin(), facts.vary_names.end());
  facts.vary_names.erase(std::unique(facts.vary_names.begin(), facts.vary_names.end()),
                         facts.vary_names.end());
  if (auto it = response.find(http::field::date); it != response.end()) {
    facts.date = cache::parse_http_date(sv(it->value()));
  }
  if (auto it = response.find(http::field::last_modified); it != response.end()) {
    facts.last_modified = cache::parse_http_date(sv(it->value()));
  }
  if (auto it = response.find(http::field::expires); it != response.end()) {
    facts.expires = cache::parse_http_date(sv(it->value()));
    facts.expires_invalid = !facts.expires;
  }
  if (auto it = response.find(http::field::age); it != response.end()) {
    // RFC 9111 §5.1: of a list, the first member counts; an invalid value is ignored.
    std::string_view text = sv(it->value());
    text = cache::trim_ows(text.substr(0, text.find(',')));
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc{} && ptr == text.data() + text.size() && seconds > 0)
      facts.age = std::chrono::seconds(seconds);
  }
  return facts;
}

}  // namespace cachecar::proxy
