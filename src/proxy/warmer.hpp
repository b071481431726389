// Warming (SPEC §3 `warm:`): each route's warm paths are fetched at start,
// in parallel, and /readyz waits for the first attempt of each; then each
// path is fetched again before its entry expires (at 90% of its lifetime,
// or after a backoff when a fetch failed), so that a warm path is always a
// hit. POST /admin/warm fetches the paths it is given now. Runs on the
// control thread with an origin pool and Redis tier of its own.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proxy/filler.hpp"
#include "proxy/runtime.hpp"

namespace cachecar::proxy {

class Warmer {
 public:
  Warmer(Runtime& runtime, net::asio::any_io_executor executor);

  // Registers the start-up task (when there are warm paths) and starts the
  // keep-fresh loops.
  void start();
  // After a reload: paths newly listed under `warm:` are kept fresh from
  // now on; those no longer listed stop at their next turn.
  void reloaded();

  struct Result {
    std::string outcome;  // "stored", or why not
    bool stored = false;
  };
  // Fetches `target` (path and query) into the cache now, whatever it
  // holds, sending `headers` too (a tenant header, say).
  net::asio::awaitable<Result> warm(std::string target,
                                    std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  // The route, key and request for warming `target`; nullopt with `why`
  // when it cannot be warmed.
  struct Job {
    FillTarget fill;
    net::Request request;
  };
  std::optional<Job> job_for(const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string& why) const;
  net::asio::awaitable<Result> fetch(Job job);
  // The Host a warm request names: the first literal allowed_hosts entry,
  // else the origin's host:port.
  std::string warm_host() const;
  // The entry cached for the job now (memory, else Redis, promoted).
  net::asio::awaitable<store::EntryPtr> cached(const Job& job);
  net::asio::awaitable<void> keep_fresh(std::string target, bool at_start = true);
  bool still_listed(const std::string& target) const;
  void first_attempt_over();

  Runtime& runtime_;
  net::asio::any_io_executor executor_;
  WorkerContext context_;  // the control thread's origin pool and Redis tier
  Filler filler_;
  std::size_t starting_ = 0;    // warm paths whose first fetch has not ended
  std::set<std::string> kept_;  // paths a keep_fresh loop looks after (control thread only)
};

}  // namespace cachecar::proxy
