#include "proxy/stats.hpp"

namespace cachecar::proxy {

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

Stats::Stats(std::size_t workers, std::size_t routes) : routes_(routes) {
  for (std::size_t i = 0; i < workers; ++i) slabs_.push_back(std::make_unique<Slab>(routes));
}

void Stats::count(std::size_t worker, std::size_t route_slot, cache::CacheStatus status) {
  slabs_[worker]->by_route[route_slot][static_cast<std::size_t>(status)].fetch_add(
      1, std::memory_order_relaxed);
}

void Stats::count_stored(std::size_t worker) {
  slabs_[worker]->stored.fetch_add(1, std::memory_order_relaxed);
}

void Stats::count_origin_failure(std::size_t worker, OriginFailure failure) {
  slabs_[worker]->origin_failures[static_cast<std::size_t>(failure)].fetch_add(
      1, std::memory_order_relaxed);
}

std::uint64_t Stats::by_route(std::size_t route_slot, cache::CacheStatus status) const {
  std::uint64_t sum = 0;
  for (const auto& slab : slabs_) {
    sum += slab->by_route[route_slot][static_cast<std::size_t>(status)].load(
        std::memory_order_relaxed);
  }
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

}  // namespace cachecar::proxy
