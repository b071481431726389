// One request's passage through the cache (ADR 0013): which phase it is
// in, how it is being served (the RFC 9211 status and detail) and when it
// began. Only the methods below move it, each from the phases it names
// (asserted), so that the Cache-Status header, the stats and the access
// line are all read from here and cannot disagree:
//
//   lookup -> fresh                     a stored entry answers as it is
//          -> stale                     an expired entry is at hand
//          -> miss                      nothing usable is stored
//          -> uncacheable               never cached (bypass, method, ...)
//   stale | miss | uncacheable -> fetching      the origin is asked
//   stale | miss | fetching    -> stored        a fill (ours or a peer's)
//   fetching -> uncacheable                     answered, not stored
//   lookup | stale | fetching -> stale          the stale entry answers
//   any but lookup -> served                    the answer is being written
//
// Its timings: when the request began, and how long the origin took to
// answer it (the access line's duration_ms and origin_ms).
// Pure: no sockets, no clock reads except the start time given to it.
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <initializer_list>
#include <string_view>

#include "cache/cache_status.hpp"

namespace cachecar::cache {

enum class Phase : unsigned char {
  lookup,
  fresh,
  stale,
  miss,
  uncacheable,
  fetching,
  stored,
  served,
};

const char* to_string(Phase phase);

class Transaction {
 public:
  using SteadyClock = std::chrono::steady_clock;

  explicit Transaction(SteadyClock::time_point started = SteadyClock::now()) : started_(started) {}

  // lookup -> uncacheable: `why` is bypass, method or request; `detail`
  // names the refusal ("no-store", "duplicate-keyed-header").
  void not_cacheable(CacheStatus why, std::string_view detail = {});
  // lookup -> fresh: a stored fresh entry answers ("redis": found in
  // the shared tier).
  void found_fresh(std::string_view detail = {});
  // lookup -> stale: an expired (or refused, or doubted) entry; it is
  // fetched again unless it answers. `refused`: the request's directives
  // refused it (status "request"), else "stale".
  void found_expired(bool refused);
  // lookup -> miss; `other_variant`: stored, for other Vary values.
  void found_nothing(bool other_variant);
  // stale | miss | uncacheable -> fetching.
  void fetch();
  // stale | miss | fetching -> stored: served what another request's
  // fetch stored ("collapsed"; `detail` "fleet" for a peer's).
  void collapsed(std::string_view detail = {});
  // fetching -> stored (or uncacheable when the fill was not kept, with
  // `outcome` saying why).
  void filled(bool stored, std::string_view outcome);
  // fetching -> uncacheable: the answer streams through, stored for nobody.
  void not_stored(std::string_view why);
  // lookup | stale | fetching -> stale: an expired entry answers
  // ("stale-while-revalidate", "max-stale", "stale-if-error",
  // "rebuild-rate"); counted and sent as a hit.
  void serve_stale(std::string_view why);
  // No move: an answer of cachecar's own (502, 503, 504) is on its way,
  // and `why` ("origin-timeout", "only-if-cached") becomes the detail.
  void explain(std::string_view why) { detail_ = why; }
  // No move: the origin answered the fetch's request with a head after `took`.
  void origin_answered(SteadyClock::duration took) { origin_time_ = took; }
  // Any phase after lookup, except served -> served: the answer, with this
  // HTTP status, is about to be written. Once per request.
  void answer(unsigned http_status);

  Phase phase() const { return phase_; }
  CacheStatus status() const { return status_; }
  std::string_view detail() const { return detail_; }
  bool stored() const { return stored_; }
  bool is_collapsed() const { return collapsed_; }
  bool answered() const { return http_status_ != 0; }
  unsigned http_status() const { return http_status_; }
  SteadyClock::time_point started() const { return started_; }
  // From the request sent to the origin to its response head; zero when the
  // origin was not asked (a hit, a collapsed request).
  SteadyClock::duration origin_time() const { return origin_time_; }

  // The Cache-Status value for an answer whose entry has `ttl_seconds`
  // left (negative when stale; 0 when nothing is stored); `fwd_status`:
  // the origin's status when it differs from the one sent (0: omitted).
  CacheStatusText header(long long ttl_seconds = 0, unsigned fwd_status = 0) const {
    return CacheStatusText(status_, ttl_seconds, stored_, detail_, collapsed_, fwd_status);
  }

 private:
  void move(Phase to, std::initializer_list<Phase> from);

  Phase phase_ = Phase::lookup;
  CacheStatus status_ = CacheStatus::bypass;
  std::string_view detail_;  // static strings, or views into route names and entries
  bool stored_ = false;
  bool collapsed_ = false;
  unsigned http_status_ = 0;
  SteadyClock::time_point started_;
  SteadyClock::duration origin_time_{};
};

// Inline: each is a store or two, called on every hit.
inline void Transaction::move(Phase to, std::initializer_list<Phase> from) {
  assert(std::find(from.begin(), from.end(), phase_) != from.end() &&
         "a cache transaction moved from a phase that does not lead there");
  (void)from;
  phase_ = to;
}

inline void Transaction::not_cacheable(CacheStatus why, std::string_view detail) {
  assert(why == CacheStatus::bypass || why == CacheStatus::method || why == CacheStatus::request);
  move(Phase::uncacheable, {Phase::lookup});
  status_ = why;
  detail_ = detail;
}

inline void Transaction::found_fresh(std::string_view detail) {
  move(Phase::fresh, {Phase::lookup});
  status_ = CacheStatus::hit;
  detail_ = detail;
}

inline void Transaction::found_expired(bool refused) {
  move(Phase::stale, {Phase::lookup});
  status_ = refused ? CacheStatus::request : CacheStatus::stale;
}

inline void Transaction::found_nothing(bool other_variant) {
  move(Phase::miss, {Phase::lookup});
  status_ = other_variant ? CacheStatus::vary_miss : CacheStatus::miss;
}

inline void Transaction::fetch() {
  move(Phase::fetching, {Phase::stale, Phase::miss, Phase::uncacheable});
}

inline void Transaction::collapsed(std::string_view detail) {
  move(Phase::stored, {Phase::stale, Phase::miss, Phase::fetching});
  collapsed_ = true;
  detail_ = detail;
}

inline void Transaction::filled(bool stored, std::string_view outcome) {
  move(stored ? Phase::stored : Phase::uncacheable, {Phase::fetching});
  stored_ = stored;
  detail_ = outcome;
}

inline void Transaction::not_stored(std::string_view why) {
  move(Phase::uncacheable, {Phase::fetching});
  if (!why.empty()) detail_ = why;
}

inline void Transaction::serve_stale(std::string_view why) {
  move(Phase::stale, {Phase::lookup, Phase::stale, Phase::fetching});
  status_ = CacheStatus::hit;
  detail_ = why;
}

inline void Transaction::answer(unsigned http_status) {
  assert(http_status != 0);
  assert(phase_ != Phase::lookup && phase_ != Phase::served && "answered twice, or before lookup");
  phase_ = Phase::served;
  http_status_ = http_status;
}

}  // namespace cachecar::cache
