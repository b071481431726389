// Config reload (SIGHUP, POST /admin/reload, a change to the file): reads
// and validates the file again; on success the new route table (routes and
// defaults) is published for new requests while requests in flight finish
// on the old one, and log.level / log.access_sample change at once. A file
// with problems changes nothing. Settings that shape the process (listen,
// admin, origin, store, limits, invalidation...) are reported as needing a
// restart rather than half-applied. Control thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/runtime.hpp"
#include "proxy/warmer.hpp"

namespace cachecar::reload {

struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> errors;            // PATH:LINE:COL: message
  std::vector<std::string> restart_required;  // settings that changed but apply only at start
  std::uint64_t generation = 0;               // of the route table in force afterwards
  std::size_t routes = 0;
};

class Reloader {
 public:
  Reloader(proxy::Runtime& runtime, proxy::Warmer& warmer) : runtime_(runtime), warmer_(warmer) {}

  // `trigger` says why, for the log: "SIGHUP", "admin", "file change".
  ReloadOutcome reload(std::string_view trigger);

 private:
  proxy::Runtime& runtime_;
  proxy::Warmer& warmer_;
};

// The process-wide settings that differ between `running` and `next`, by
// their config names.
std::vector<std::string> settings_needing_restart(const config::Config& running,
                                                  const config::Config& next);

}  // namespace cachecar::reload
