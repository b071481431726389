#include "config/route_loader.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "config/config_keys.hpp"

namespace cachecar::config {
namespace {

const std::set<std::string, std::less<>> kMethods = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"};

bool valid_route_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool methods_intersect(const RoutePolicy& a, const RoutePolicy& b) {
  if (a.methods.empty() || b.methods.empty()) return true;
  return std::any_of(a.methods.begin(), a.methods.end(), [&](const std::string& m) {
    return std::find(b.methods.begin(), b.methods.end(), m) != b.methods.end();
  });
}

// A route's own key wins over the same key in `defaults:`.
class MergedPolicy {
 public:
  MergedPolicy(const YAML::Node& route, const YAML::Node& defaults)
      : route_(route), defaults_(defaults) {}
  // An undefined node (false in a condition) when neither has the key.
  YAML::Node operator[](const char* key) const {
    const YAML::Node& route = route_;
    YAML::Node own = route[key];
    if (own || !defaults_.IsDefined() || !defaults_.IsMap()) return own;
    const YAML::Node& defaults = defaults_;
    YAML::Node inherited = defaults[key];
    return inherited ? inherited : own;
  }

 private:
  YAML::Node route_;
  YAML::Node defaults_;
};

void load_match(YamlReader& r, const YAML::Node& match, const std::string& where,
                RoutePolicy& route, bool& ok) {
  if (!r.expect_map(match, where + ".match")) {
    ok = false;
    return;
  }
  r.reject_unknown_keys(match, keys_of("routes[].match"), where + ".match");
  if (match["method"]) {
    if (auto methods = r.string_list(match["method"], where + ".match.method", true)) {
      for (auto& m : *methods) {
        std::transform(m.begin(), m.end(), m.begin(),
                       [](unsigned char c) { return std::toupper(c); });
        if (!kMethods.count(m)) {
          r.error(match["method"], where + ".match.method: '" + m + "' is not an HTTP method");
          ok = false;
        }
      }
      route.methods = *methods;
    }
  }
  if (!match["path"]) {
    r.error(match, where + ".match.path is required");
    ok = false;
    return;
  }
  if (auto text = r.string(match["path"], where + ".match.path")) {
    std::string reason;
    if (auto parsed = RouteTemplate::parse(*text, reason))
      route.path = std::move(*parsed);
    else {
      r.error(match["path"], where + ".match.path: " + reason);
      ok = false;
    }
  } else {
    ok = false;
  }
}

// What the route is: its mode and what its keys are made of.
void load_identity(YamlReader& r, const MergedPolicy& p, const std::string& where,
                   RoutePolicy& route) {
  auto key = [&](const char* name) { return where + "." + name; };
  if (auto n = p["mode"]) {
    if (auto v = r.choice<RouteMode>(n, key("mode"),
                                     {{"cache-aside", RouteMode::cache_aside},
                                      {"stale-while-revalidate", RouteMode::stale_while_revalidate},
                                      {"write-through", RouteMode::write_through},
                                      {"bypass", RouteMode::bypass}}))
      route.mode = *v;
  }
  if (auto n = p["entity"]) {
    if (auto v = r.string(n, key("entity"))) route.entity = *v;
  }
  if (auto n = p["tenant"]) {
    if (r.expect_map(n, key("tenant"))) {
      r.reject_unknown_keys(n, keys_of("policy.tenant"), key("tenant"));
      if (!n["header"])
        r.error(n, key("tenant") + ".header is required");
      else if (auto v = r.string(n["header"], key("tenant.header")))
        route.tenant_header = *v;
    }
  }
  if (auto n = p["version"]) {
    if (auto v = r.integer(n, key("version"), 0, 1'000'000)) route.version = static_cast<int>(*v);
  }
}

// How long what it stores stays fresh, and how long stale.
void load_freshness(YamlReader& r, const MergedPolicy& p, const std::string& where,
                    RoutePolicy& route) {
  auto key = [&](const char* name) { return where + "." + name; };
  if (auto n = p["ttl"]) route.ttl = r.duration(n, key("ttl"));
  if (auto n = p["origin_cache_control"]) {
    if (auto v = r.choice<OriginCacheControl>(
            n, key("origin_cache_control"),
            {{"respect", OriginCacheControl::respect}, {"ignore", OriginCacheControl::ignore}}))
      route.origin_cache_control = *v;
  }
  if (auto n = p["ttl_jitter"]) {
    if (auto v = r.percent(n, key("ttl_jitter"))) route.ttl_jitter = *v;
  }
  if (auto n = p["stale_while_revalidate"]) {
    if (auto v = r.duration(n, key("stale_while_revalidate"))) route.stale_while_revalidate = *v;
  }
  if (auto n = p["stale_if_error"]) {
    if (auto v = r.duration(n, key("stale_if_error"))) route.stale_if_error = *v;
  }
  if (auto n = p["max_stale"]) route.max_stale = r.duration(n, key("max_stale"));
}

// Which parts of the request key it, and what it tags and warms.
void load_projection(YamlReader& r, const MergedPolicy& p, const std::string& where,
                     RoutePolicy& route) {
  auto key = [&](const char* name) { return where + "." + name; };
  if (auto n = p["query"]) {
    if (n.IsNull())
      route.query = std::vector<std::string>{};
    else
      route.query = r.string_list(n, key("query"), false);
    if (route.query) std::sort(route.query->begin(), route.query->end());
  }
  if (auto n = p["vary"]) {
    if (auto v = r.string_list(n, key("vary"), false)) route.vary = *v;
  }
  if (auto n = p["tags"]) {
    if (auto v = r.string_list(n, key("tags"), false)) route.tags = *v;
  }
  if (auto n = p["warm"]) {
    if (auto v = r.string_list(n, key("warm"), false)) {
      route.warm = *v;
      RouteValues values;
      for (const auto& path : route.warm) {
        auto query = path.find('?');
        if (!route.path.match(std::string_view(path).substr(0, query), values)) {
          r.error(n, key("warm") + ": '" + path + "' does not match the route's path '" +
                         route.path.text() + "'");
        }
      }
    }
  }
}

// How the origin is asked: rate, early refresh, coalescing, write-through.
void load_fetching(YamlReader& r, const MergedPolicy& p, const std::string& where,
                   RoutePolicy& route) {
  auto key = [&](const char* name) { return where + "." + name; };
  if (auto n = p["rebuild_rate"]) route.rebuild_rate = r.rate(n, key("rebuild_rate"));
  if (auto n = p["early_refresh"]) {
    if (auto v = r.choice<EarlyRefresh>(
            n, key("early_refresh"),
            {{"off", EarlyRefresh::off}, {"probabilistic", EarlyRefresh::probabilistic}}))
      route.early_refresh = *v;
  }
  if (auto n = p["coalesce"]) {
    if (auto v = r.boolean(n, key("coalesce"))) route.coalesce = *v;
  }
  if (auto n = p["refreshes"]) {
    if (auto v = r.string(n, key("refreshes"))) route.refreshes = *v;
  }
  if (auto n = p["refresh_from"]) {
    if (auto v = r.choice<RefreshFrom>(
            n, key("refresh_from"),
            {{"refetch", RefreshFrom::refetch}, {"response", RefreshFrom::response}}))
      route.refresh_from = *v;
  }
  if (auto n = p["on_cache_error"]) {
    if (auto v = r.choice<OnCacheError>(
            n, key("on_cache_error"),
            {{"invalidate", OnCacheError::invalidate}, {"ignore", OnCacheError::ignore}}))
      route.on_cache_error = *v;
  }
}

void load_policy(YamlReader& r, const MergedPolicy& p, const std::string& where,
                 RoutePolicy& route) {
  load_identity(r, p, where, route);
  load_freshness(r, p, where, route);
  load_projection(r, p, where, route);
  load_fetching(r, p, where, route);
}

// Checks that need the whole route, after its keys are read.
void validate_route(YamlReader& r, const YAML::Node& node, const MergedPolicy& p,
                    const std::string& where, const RoutePolicy& route) {
  if (route.ttl && route.ttl->count() == 0 && route.stale_while_revalidate.count() > 0) {
    r.error(p["ttl"], where +
                          ".ttl: 0 with stale_while_revalidate would serve every request stale; "
                          "set a ttl above 0");
  }
  // (Warm paths of a tenant-scoped route are allowed, as SPEC's example has
  // them, but a warm request carries no tenant: the warmer says so and
  // skips them; POST /admin/warm can send the tenant header.)
  if (!route.warm.empty() &&
      (route.mode == RouteMode::bypass || route.mode == RouteMode::write_through)) {
    r.error(p["warm"], where + ".warm: a " + std::string(to_string(route.mode)) +
                           " route caches nothing to warm");
  }
  if (route.mode == RouteMode::stale_while_revalidate &&
      route.stale_while_revalidate.count() == 0) {
    r.error(
        node,
        where +
            ": mode stale-while-revalidate needs 'stale_while_revalidate: DURATION' (how long a "
            "stale entry may be served while it is refreshed)");
  }
  if (route.mode == RouteMode::write_through) {
    if (route.refreshes.empty())
      r.error(node, where + ": mode write-through needs 'refreshes: <read route>'");
    bool reads =
        route.methods.empty() || std::any_of(route.methods.begin(), route.methods.end(),
                                             [](auto& m) { return m == "GET" || m == "HEAD"; });
    if (reads) {
      r.error(node["match"],
              where +
                  ": a write-through route takes writes; set match.method to unsafe methods "
                  "such as [PUT, PATCH, DELETE]");
    }
  } else if (!route.refreshes.empty()) {
    r.error(p["refreshes"], where + ".refreshes: only write-through routes refresh another route");
  }
  if (!route.tenant_header.empty() &&
      route.tenant_header.find_first_of(" :") != std::string::npos) {
    r.error(p["tenant"],
            where + ".tenant.header: '" + route.tenant_header + "' is not a header name");
  }
}

void check_cross_route(YamlReader& r, const YAML::Node& list,
                       const std::vector<RoutePolicy>& routes,
                       const std::vector<std::size_t>& node_index) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const YAML::Node node = list[node_index[i]];
    for (std::size_t j = 0; j < i; ++j) {
      if (routes[i].name == routes[j].name) {
        r.error(node["name"], "routes[" + std::to_string(node_index[i]) + "].name: '" +
                                  routes[i].name + "' is already used by an earlier route");
      }
      if (!methods_intersect(routes[i], routes[j])) continue;
      auto relation = compare_templates(routes[i].path, routes[j].path);
      if (relation == TemplateRelation::identical || relation == TemplateRelation::ambiguous) {
        r.error(node["match"]["path"], "route '" + routes[i].name + "' (" + routes[i].path.text() +
                                           ") overlaps route '" + routes[j].name + "' (" +
                                           routes[j].path.text() +
                                           ") and neither is more specific");
      }
    }
    if (routes[i].mode != RouteMode::write_through || routes[i].refreshes.empty()) continue;
    auto target = std::find_if(routes.begin(), routes.end(), [&](const RoutePolicy& other) {
      return other.name == routes[i].refreshes;
    });
    const YAML::Node at = node["refreshes"] ? node["refreshes"] : node;
    if (target == routes.end()) {
      r.error(at, "route '" + routes[i].name + "' refreshes '" + routes[i].refreshes +
                      "', which is not a route");
      continue;
    }
    if (target->mode == RouteMode::write_through || target->mode == RouteMode::bypass) {
      r.error(at, "route '" + routes[i].name + "' refreshes '" + target->name +
                      "', which does not cache reads");
    }
    for (const auto& variable : target->path.variable_names()) {
      if (!routes[i].path.has_variable(variable)) {
        r.error(node["match"]["path"], "template variable {" + variable + "} of route '" +
                                           target->name + "' is not in the path of '" +
                                           routes[i].name + "'");
      }
    }
  }
}

}  // namespace

std::vector<RoutePolicy> load_routes(YamlReader& r, const YAML::Node& list,
                                     const YAML::Node& defaults) {
  std::vector<RoutePolicy> routes;
  std::vector<std::size_t> node_index;
  if (!list.IsSequence()) {
    r.error(list, "routes: expected a list of routes");
    return routes;
  }
  if (defaults && defaults.IsMap()) r.reject_unknown_keys(defaults, keys_of("policy"), "defaults");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    const std::string where = "routes[" + std::to_string(i) + "]";
    if (!r.expect_map(node, where)) continue;
    std::vector<std::string_view> allowed(keys_of("policy"));
    allowed.insert(allowed.end(), keys_of("routes[]").begin(), keys_of("routes[]").end());
    r.reject_unknown_keys(node, allowed, where);
    RoutePolicy route;
    bool ok = true;
    if (!node["name"]) {
      r.error(node, where + ".name is required");
      ok = false;
    } else if (auto name = r.string(node["name"], where + ".name")) {
      route.name = *name;
      if (!valid_route_name(route.name)) {
        r.error(node["name"],
                where + ".name: '" + route.name + "' must be letters, digits, '-', '_' or '.'");
      }
    }
    if (!node["match"]) {
      r.error(node, where + ".match is required");
      ok = false;
    } else {
      load_match(r, node["match"], where, route, ok);
    }
    if (!ok) continue;
    MergedPolicy policy(node, defaults);
    load_policy(r, policy, where, route);
    validate_route(r, node, policy, where, route);
    routes.push_back(std::move(route));
    node_index.push_back(i);
  }
  check_cross_route(r, list, routes, node_index);
  return routes;
}

const char* to_string(RouteMode mode) {
  switch (mode) {
    case RouteMode::cache_aside:
      return "cache-aside";
    case RouteMode::stale_while_revalidate:
      return "stale-while-revalidate";
    case RouteMode::write_through:
      return "write-through";
    case RouteMode::bypass:
      return "bypass";
  }
  return "?";
}

bool RoutePolicy::allows_method(std::string_view method) const {
  return methods.empty() || std::find(methods.begin(), methods.end(), method) != methods.end();
}

}  // namespace cachecar::config
