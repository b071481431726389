#include "metrics/stats.hpp"

#include <cassert>

#include "metrics/refresh_counters.hpp"

namespace cachecar::metrics {

const char* to_string(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::stored:
      return "stored";
    case RefreshOutcome::fleet_busy:
      return "fleet-busy";
    case RefreshOutcome::over_budget:
      return "over-budget";
    case RefreshOutcome::not_stored:
      return "not-stored";
    case RefreshOutcome::origin_error:
      return "origin-error";
  }
  return "?";
}

const char* to_string(OriginFailure failure) {
  switch (failure) {
    case OriginFailure::refused:
      return "refused";
    case OriginFailure::timeout:
      return "timeout";
    case OriginFailure::broken:
      return "broken";
  }
  return "?";
}

Stats::Stats(std::size_t workers, std::size_t routes, std::size_t statuses)
    : routes_(routes), statuses_(statuses) {
  for (std::size_t i = 0; i < workers; ++i)
    slabs_.push_back(std::make_unique<Slab>(routes, statuses));
}

void Stats::count(std::size_t worker, std::size_t route_slot, std::size_t status) {
  assert(route_slot <= routes_ && status < statuses_);
  slabs_[worker]->by_route[route_slot * statuses_ + status].fetch_add(1, std::memory_order_relaxed);
}

void Stats::count_stored(std::size_t worker) {
  slabs_[worker]->stored.fetch_add(1, std::memory_order_relaxed);
}

void Stats::count_origin_failure(std::size_t worker, OriginFailure failure) {
  slabs_[worker]->origin_failures[static_cast<std::size_t>(failure)].fetch_add(
      1, std::memory_order_relaxed);
}

std::uint64_t Stats::by_route(std::size_t route_slot, std::size_t status) const {
  std::uint64_t sum = 0;
  for (const auto& slab : slabs_)
    sum += slab->by_route[route_slot * statuses_ + status].load(std::memory_order_relaxed);
  return sum;
}

std::uint64_t Stats::stored() const {
  std::uint64_t sum = 0;
  for (const auto& slab : slabs_) sum += slab->stored.load(std::memory_order_relaxed);
  return sum;
}

std::uint64_t Stats::origin_failures(OriginFailure failure) const {
  std::uint64_t sum = 0;
  for (const auto& slab : slabs_) {
    sum += slab->origin_failures[static_cast<std::size_t>(failure)].load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace cachecar::metrics
