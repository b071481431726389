// Key building through the canonical form (canonical_form.hpp) on fixed
// routes, with the path, query and header lines taken from the input.
// Invariants: the canonical target is a fixed point (canonicalising it
// again gives it back, with the same key), and keys have six segments.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/canonical_form.hpp"
#include "cache/field_lines.hpp"

namespace {

using namespace cachecar;

std::vector<config::RoutePolicy> make_routes() {
  std::vector<config::RoutePolicy> routes(3);
  std::string error;
  routes[0].name = "product";
  routes[0].path = *config::RouteTemplate::parse("/products/{id:int}", error);
  routes[0].query = std::vector<std::string>{"currency", "lang"};
  routes[1].name = "profile";
  routes[1].path = *config::RouteTemplate::parse("/users/{id}/orders/{order:guid}", error);
  routes[1].tenant_header = "X-Tenant-Id";
  routes[1].vary = {"Accept-Language"};
  routes[2].name = "files";
  routes[2].path = *config::RouteTemplate::parse("/files/{*rest}", error);
  return routes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto routes = make_routes();
  static const config::ForwardingConfig open{};
  static const config::ForwardingConfig allowed = [] {
    config::ForwardingConfig f;
    f.allowed_hosts = std::vector<std::string>{"catalog", "*.shop.example"};
    return f;
  }();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Line 1: the target; the other lines: "Name: value" fields.
  auto first = input.find('\n');
  std::string_view target = input.substr(0, first);
  cache::FieldLines::Lines lines;
  for (std::string_view rest = first == std::string_view::npos ? std::string_view{}
                                                               : input.substr(first + 1);
       !rest.empty();) {
    auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    lines.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  const cache::FieldLines headers(lines);
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  for (const auto& route : routes) {
    for (const auto* forwarding : {&open, &allowed}) {
      config::RouteValues values;
      if (!route.path.match(path, values)) continue;
      cache::KeyScratch first_key;
      auto authority = cache::forwarded_authority(headers, size % 2 == 0);
      if (cache::key_canonical_request(route, "prod", *forwarding, values, query, headers,
                                       authority, first_key) != cache::Refusal::none) {
        continue;
      }
      if (std::count(first_key.key.begin(), first_key.key.end(), ':') != 5) __builtin_trap();
      const std::string canonical = first_key.target;
      std::string_view canonical_path = std::string_view(canonical).substr(0, canonical.find('?'));
      auto q = canonical.find('?');
      std::string_view canonical_query =
          q == std::string::npos ? std::string_view{} : std::string_view(canonical).substr(q + 1);
      config::RouteValues again;
      if (!route.path.match(canonical_path, again)) __builtin_trap();
      cache::KeyScratch second_key;
      if (cache::key_canonical_request(route, "prod", *forwarding, again, canonical_query, headers,
                                       authority, second_key) != cache::Refusal::none) {
        __builtin_trap();
      }
      if (second_key.target != canonical || second_key.key != first_key.key) __builtin_trap();
    }
  }
  return 0;
}
