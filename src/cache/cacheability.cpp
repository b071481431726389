#include "cache/cacheability.hpp"

#include <algorithm>

namespace cachecar::cache {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

const char* to_string(StoreVerdict verdict) {
  switch (verdict) {
    case StoreVerdict::store:
      return "stored";
    case StoreVerdict::no_store:
      return "no-store";
    case StoreVerdict::is_private:
      return "private";
    case StoreVerdict::set_cookie:
      return "set-cookie";
    case StoreVerdict::authorization:
      return "authorization";
    case StoreVerdict::no_cache:
      return "no-cache";
    case StoreVerdict::status:
      return "status";
    case StoreVerdict::vary:
      return "vary";
    case StoreVerdict::no_freshness:
      return "no-freshness";
    case StoreVerdict::expired:
      return "expired";
  }
  return "?";
}

bool is_heuristically_cacheable(unsigned status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

namespace {

// RFC 9111 §4.2.1, shared-cache order: s-maxage, max-age, Expires - Date.
std::optional<milliseconds> origin_lifetime(const ResponseFacts& r, Clock::time_point now) {
  const CacheDirectives& cc = r.cache_control;
  if (cc.s_maxage) return duration_cast<milliseconds>(*cc.s_maxage);
  if (cc.max_age) return duration_cast<milliseconds>(*cc.max_age);
  if (r.expires_invalid) return milliseconds(0);
  if (r.expires) {
    auto lifetime = duration_cast<milliseconds>(*r.expires - r.date.value_or(now));
    return lifetime.count() > 0 ? lifetime : milliseconds(0);
  }
  return std::nullopt;
}

// The fields no-cache="..." and private="..." name, each once: stored
// without them.
std::vector<std::string> omitted_fields(const CacheDirectives& cc) {
  std::vector<std::string> omitted;
  for (const auto* names : {&cc.no_cache_fields, &cc.private_fields}) {
    for (const auto& name : *names) {
      if (std::find(omitted.begin(), omitted.end(), name) == omitted.end()) omitted.push_back(name);
    }
  }
  return omitted;
}

// What rules the response out whatever its lifetime; store when nothing does.
StoreVerdict refusal(const RequestFacts& request, const ResponseFacts& response,
                     const std::vector<std::string>& omitted) {
  const CacheDirectives& cc = response.cache_control;
  if (request.cache_control.no_store || cc.no_store) return StoreVerdict::no_store;
  if (cc.is_private) return StoreVerdict::is_private;
  const bool cookie_omitted =
      std::find(omitted.begin(), omitted.end(), "set-cookie") != omitted.end();
  if (response.has_set_cookie && !cookie_omitted) return StoreVerdict::set_cookie;
  // RFC 9111 §3.5: a response to an authorized request is shared only when
  // the origin says so explicitly.
  if (request.has_authorization && !(cc.is_public || cc.s_maxage || cc.must_revalidate))
    return StoreVerdict::authorization;
  if (cc.no_cache) return StoreVerdict::no_cache;
  // Vary: * (or a list that does not parse) can never be matched by a
  // later request; other Vary headers are stored per variant.
  if (response.vary_star) return StoreVerdict::vary;
  return StoreVerdict::store;
}

struct Lifetime {
  std::optional<milliseconds> value;
  // Measured from the response's creation, so the time it already spent
  // elsewhere (Age) is used up.
  bool counts_age = false;
};

Lifetime lifetime_for(const ResponseFacts& response, const config::RoutePolicy& policy,
                      Clock::time_point now) {
  const bool route_overrides =
      policy.origin_cache_control == config::OriginCacheControl::ignore && policy.ttl;
  if (route_overrides) return {*policy.ttl, false};
  if (auto from_origin = origin_lifetime(response, now)) return {from_origin, true};
  if (!is_heuristically_cacheable(response.status)) return {};
  if (policy.ttl) return {*policy.ttl, false};
  if (!response.last_modified) return {};
  // RFC 9111 §4.2.2: a tenth of the time since the last modification,
  // capped at a day, when neither the origin nor the route gives one.
  auto since = response.date.value_or(now) - *response.last_modified;
  if (since.count() <= 0) return {};
  return {std::min<milliseconds>(duration_cast<milliseconds>(since) / 10, std::chrono::hours(24)),
          true};
}

// How long past expiry it may still serve; the route's setting wins.
void set_stale_windows(StorageDecision& d, const CacheDirectives& cc,
                       const config::RoutePolicy& policy) {
  using std::chrono::seconds;
  if (policy.stale_if_error.count() > 0) {
    d.stale_if_error = duration_cast<seconds>(policy.stale_if_error);
  } else if (cc.stale_if_error) {
    d.stale_if_error = *cc.stale_if_error;
  }
  if (policy.stale_while_revalidate.count() > 0) {
    d.stale_while_revalidate = duration_cast<seconds>(policy.stale_while_revalidate);
  } else if (cc.stale_while_revalidate) {
    d.stale_while_revalidate = *cc.stale_while_revalidate;
  }
}

}  // namespace

StorageDecision decide_storage(const RequestFacts& request, const ResponseFacts& response,
                               const config::RoutePolicy& policy, Clock::time_point now,
                               double jitter_draw) {
  StorageDecision d;
  const CacheDirectives& cc = response.cache_control;
  // Fields are named for omission only in a response that may be stored at all.
  if (!(request.cache_control.no_store || cc.no_store || cc.is_private))
    d.omitted_fields = omitted_fields(cc);
  d.verdict = refusal(request, response, d.omitted_fields);
  if (d.verdict != StoreVerdict::store) return d;
  const Lifetime lifetime = lifetime_for(response, policy, now);
  if (!lifetime.value) {
    d.verdict = is_heuristically_cacheable(response.status) ? StoreVerdict::no_freshness
                                                            : StoreVerdict::status;
    return d;
  }
  if (response.status == 206 || response.status < 200) {
    d.verdict = StoreVerdict::status;
    return d;
  }
  double kept = 1.0 - policy.ttl_jitter * jitter_draw;
  auto jittered = milliseconds(
      static_cast<milliseconds::rep>(static_cast<double>(lifetime.value->count()) * kept));
  d.time_to_live =
      lifetime.counts_age ? jittered - duration_cast<milliseconds>(response.age) : jittered;
  d.verdict = d.time_to_live.count() > 0 ? StoreVerdict::store : StoreVerdict::expired;
  d.must_revalidate = cc.must_revalidate || cc.proxy_revalidate;
  if (!d.must_revalidate) set_stale_windows(d, cc, policy);
  return d;
}

}  // namespace cachecar::cache
