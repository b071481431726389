// Runs cachecar until a signal ends it: one io_context and one thread per
// worker (each with its own SO_REUSEPORT listener, request handler and
// origin pool), the admin endpoint on a thread of its own, and the main
// thread waiting for signals. Returns the process exit code.
#pragma once

#include "config/config.hpp"

namespace cachecar::app {

int run_server(config::Config config);

}  // namespace cachecar::app
