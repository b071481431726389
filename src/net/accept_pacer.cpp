#include "net/accept_pacer.hpp"

#include <algorithm>

namespace cachecar::net {

std::atomic<std::uint64_t> AcceptPacer::failures_{0};

asio::awaitable<void> AcceptPacer::failed() {
  failures_.fetch_add(1, std::memory_order_relaxed);
  timer_.expires_after(wait_);
  co_await timer_.async_wait(use_tuple);
  wait_ = std::min(wait_ * 2, kMaxWait);
}

}  // namespace cachecar::net
