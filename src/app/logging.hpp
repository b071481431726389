// Process-wide logging set-up from the `log:` config (spdlog to stderr).
#pragma once

#include "config/config.hpp"

namespace cachecar::app {

void configure_logging(const config::LogConfig& log);

}  // namespace cachecar::app
