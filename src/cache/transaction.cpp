#include "cache/transaction.hpp"

#include <algorithm>
#include <cassert>

namespace cachecar::cache {

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::lookup:
      return "lookup";
    case Phase::fresh:
      return "fresh";
    case Phase::stale:
      return "stale";
    case Phase::miss:
      return "miss";
    case Phase::uncacheable:
      return "uncacheable";
    case Phase::fetching:
      return "fetching";
    case Phase::stored:
      return "stored";
    case Phase::served:
      return "served";
  }
  return "?";
}

void Transaction::move(Phase to, std::initializer_list<Phase> from) {
  assert(std::find(from.begin(), from.end(), phase_) != from.end() &&
         "a cache transaction moved from a phase that does not lead there");
  (void)from;
  phase_ = to;
}

void Transaction::not_cacheable(CacheStatus why, std::string_view detail) {
  assert(why == CacheStatus::bypass || why == CacheStatus::method || why == CacheStatus::request);
  move(Phase::uncacheable, {Phase::lookup});
  status_ = why;
  detail_ = detail;
}

void Transaction::found_fresh(std::string_view detail) {
  move(Phase::fresh, {Phase::lookup});
  status_ = CacheStatus::hit;
  detail_ = detail;
}

void Transaction::found_expired(bool refused) {
  move(Phase::stale, {Phase::lookup});
  status_ = refused ? CacheStatus::request : CacheStatus::stale;
}

void Transaction::found_nothing(bool other_variant) {
  move(Phase::miss, {Phase::lookup});
  status_ = other_variant ? CacheStatus::vary_miss : CacheStatus::miss;
}

void Transaction::fetch() {
  move(Phase::fetching, {Phase::stale, Phase::miss, Phase::uncacheable});
}

void Transaction::collapsed(std::string_view detail) {
  move(Phase::stored, {Phase::stale, Phase::miss, Phase::fetching});
  collapsed_ = true;
  detail_ = detail;
}

void Transaction::filled(bool stored, std::string_view outcome) {
  move(stored ? Phase::stored : Phase::uncacheable, {Phase::fetching});
  stored_ = stored;
  detail_ = outcome;
}

void Transaction::not_stored(std::string_view why) {
  move(Phase::uncacheable, {Phase::fetching});
  if (!why.empty()) detail_ = why;
}

void Transaction::serve_stale(std::string_view why) {
  move(Phase::stale, {Phase::lookup, Phase::stale, Phase::fetching});
  status_ = CacheStatus::hit;
  detail_ = why;
}

void Transaction::answer(unsigned http_status) {
  assert(http_status != 0);
  assert(phase_ != Phase::lookup && phase_ != Phase::served && "answered twice, or before lookup");
  phase_ = Phase::served;
  http_status_ = http_status;
}

}  // namespace cachecar::cache
