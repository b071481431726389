// GET /metrics: the runtime's counters in the Prometheus text exposition
// format (version 0.0.4), every name prefixed cachecar_. Read from the
// per-worker slabs and atomics at scrape time: nothing on the hot path.
#pragma once

#include <string>

#include "proxy/runtime.hpp"

namespace cachecar::admin {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string metrics_text(const proxy::Runtime& runtime);

}  // namespace cachecar::admin
