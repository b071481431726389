#include "proxy/runtime.hpp"

#include <random>

namespace cachecar::proxy {

Runtime::Runtime(config::Config config_in, std::size_t worker_count, boost::asio::ip::tcp::endpoint origin)
    : config(std::move(config_in)),
      routes(config.routes),
      workers(worker_count),
      origin_endpoint(origin),
      memory(config.memory.max_bytes, config.memory.max_entry_bytes),
      stats(worker_count + 1, config.routes.size()),
      rebuild_budgets([this] {
        std::vector<std::optional<double>> rates;
        for (const auto& route : config.routes) rates.push_back(route.rebuild_rate);
        return rates;
      }()),
      acks("cachecar:ack:" + std::to_string(std::random_device{}()) + std::to_string(std::random_device{}())) {}

}  // namespace cachecar::proxy
