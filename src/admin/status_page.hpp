// GET /admin: a small status page for people (HTML, inline style, no
// scripts or external assets, refreshes itself every 5 s): hit ratio,
// requests by route and cache status, tier sizes, bus state, the last
// rejected events. Everything shown comes from the same counters as
// /admin/stats; every text from outside (route names, event details) is
// HTML-escaped.
#pragma once

#include <string>
#include <string_view>

#include "proxy/runtime.hpp"

namespace cachecar::admin {

std::string status_page_html(const proxy::Runtime& runtime);

// `text` with & < > " ' replaced by character references.
std::string html_escape(std::string_view text);

}  // namespace cachecar::admin
