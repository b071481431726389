#include "proxy/route_set.hpp"

namespace cachecar::proxy {
namespace {

std::vector<std::optional<double>> rebuild_rates(const config::Config& config) {
  std::vector<std::optional<double>> rates;
  for (const auto& route : config.routes) rates.push_back(route.rebuild_rate);
  return rates;
}

}  // namespace

RouteSet::RouteSet(std::shared_ptr<const config::Config> config_in, std::vector<std::size_t> slots,
                   std::uint64_t generation_in)
    : config(std::move(config_in)),
      table(config->routes),
      stats_slots(std::move(slots)),
      generation(generation_in),
      rebuild_budgets(rebuild_rates(*config)) {}

}  // namespace cachecar::proxy
