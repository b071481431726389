#include "proxy/worker_context.hpp"

#include <cstdio>

namespace cachecar::proxy {

WorkerContext::WorkerContext(Runtime& runtime, std::size_t stats_slot,
                             net::asio::any_io_executor executor)
    : runtime_(runtime),
      stats_slot_(stats_slot),
      executor_(executor),
      origin_(executor, runtime.origin_endpoint, runtime.config.limits.origin_timeout),
      random_(std::random_device{}()) {
  if (runtime.config.redis) {
    redis_ = std::make_unique<store::RedisTier>(executor, *runtime.config.redis,
                                                runtime.config.memory.max_entry_bytes);
    redis_->start();
    fleet_.emplace(redis_->client(), redis_->key_namespace());
  }
}

std::string WorkerContext::lease_token() {
  char token[17];
  std::snprintf(token, sizeof token, "%016llx",
                static_cast<unsigned long long>(random_()) << 32 ^
                    static_cast<unsigned long long>(random_()));
  return token;
}

}  // namespace cachecar::proxy
