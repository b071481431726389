#include "admin/status_page.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "admin/admin_views.hpp"
#include "cache/cache_status.hpp"
#include "invalidation/event.hpp"

namespace cachecar::admin {
namespace {

using nlohmann::json;

constexpr const char* kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#f6f7f9}"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:24px 0 8px}"
    ".muted{color:#667085}.cards{display:flex;gap:12px;flex-wrap:wrap}"
    ".card{background:#fff;border:1px solid #d8dde6;border-radius:6px;padding:10px "
    "14px;min-width:150px}"
    ".big{font-size:22px;font-weight:600}table{border-collapse:collapse;background:#fff}"
    "th,td{border:1px solid #d8dde6;padding:4px "
    "10px;text-align:right}th:first-child,td:first-child{text-align:left}"
    "th{background:#eef1f5}.text td,.text th{text-align:left}.bad{color:#b42318}";

std::string number(const json& value) { return value.is_number() ? value.dump() : "0"; }

std::string percent(double part, double whole) {
  if (whole <= 0) return "–";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * part / whole);
  return text;
}

std::string card(std::string_view label, std::string_view value, std::string_view note = {}) {
  std::string out = "<div class=\"card\"><div class=\"muted\">" + html_escape(label) +
                    "</div><div class=\"big\">" + html_escape(value) + "</div>";
  if (!note.empty()) out += "<div class=\"muted\">" + html_escape(note) + "</div>";
  return out + "</div>";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::vector<std::string> status_names() {
  std::vector<std::string> statuses;
  for (std::size_t i = 0; i < cache::kCacheStatusCount; ++i)
    statuses.emplace_back(cache::to_string(static_cast<cache::CacheStatus>(i)));
  return statuses;
}

// Requests by route and status, as table rows; and the hit ratio over
// every request.
struct RouteTable {
  std::string rows;
  double hits = 0;
  double total = 0;
};

RouteTable route_rows(const json& stats, const std::vector<std::string>& statuses) {
  RouteTable table;
  auto row = [&](const std::string& name, const json& counts, bool muted) {
    double route_total = 0;
    for (const auto& s : statuses) route_total += counts.value(s, 0.0);
    table.hits += counts.value("hit", 0.0);
    table.total += route_total;
    table.rows += muted ? "<tr class=\"muted\">" : "<tr>";
    table.rows += "<td>" + html_escape(name) + "</td>";
    for (const auto& s : statuses)
      table.rows += "<td>" + number(counts.value(s, json(0))) + "</td>";
    table.rows += "<td>" + percent(counts.value("hit", 0.0), route_total) + "</td></tr>";
  };
  for (const auto& [name, counts] : stats["routes"].items()) row(name, counts, false);
  row("(no route)", stats["unmatched"], true);
  return table;
}

std::string overview_cards(const json& stats, const RouteTable& table) {
  const json& memory = stats["tiers"]["memory"];
  const json& bus = stats["bus"];
  std::string html = "<h2>Overview</h2><div class=\"cards\">";
  html += card("hit ratio", percent(table.hits, table.total),
               std::to_string(static_cast<long long>(table.total)) + " requests");
  html += card("memory tier", number(memory["entries"]) + " entries",
               number(memory["bytes"]) + " bytes · " + number(memory["evictions"]) + " evictions");
  if (stats["tiers"].contains("redis")) {
    const json& redis = stats["tiers"]["redis"];
    html += card("redis tier", redis.value("degraded", false) ? "degraded" : "ok",
                 number(redis["hits"]) + " hits · " + number(redis["errors"]) + " errors");
  } else {
    html += card("redis tier", "not configured");
  }
  std::string bus_state = !bus.value("enabled", false)     ? "off"
                          : bus.value("subscribed", false) ? "subscribed"
                                                           : "down";
  html += card("invalidation bus", bus_state,
               number(bus["received"]) + " received · " + number(bus["applied"]) + " applied");
  html += card("origin failures",
               std::to_string(stats["origin_failures"].value("refused", 0) +
                              stats["origin_failures"].value("timeout", 0) +
                              stats["origin_failures"].value("broken", 0)),
               "stored " + number(stats["stored"]));
  return html + "</div>";
}

std::string rejected_events(const proxy::Runtime& runtime) {
  std::string html = "<h2>Rejected invalidation events</h2>";
  auto recent = runtime.bus.recent_rejections();
  if (recent.empty()) return html + "<p class=\"muted\">None since start.</p>";
  html += "<table class=\"text\"><tr><th>when</th><th>reason</th><th>detail</th></tr>";
  for (const auto& r : recent) {
    html += "<tr><td>" + html_escape(invalidation::format_rfc3339(r.at)) +
            "</td><td class=\"bad\">" + html_escape(r.reason) + "</td><td>" +
            html_escape(r.detail) + "</td></tr>";
  }
  return html + "</table>";
}

}  // namespace

std::string status_page_html(const proxy::Runtime& runtime) {
  const json stats = stats_view(runtime);
  const auto statuses = status_names();
  const RouteTable table = route_rows(stats, statuses);
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"5\"><title>cachecar status</title><style>";
  html += kStyle;
  html += "</style></head><body><h1>cachecar " + html_escape(CACHECAR_VERSION) +
          "</h1><div class=\"muted\">up " + number(stats["uptime_seconds"]) + " s · " +
          number(stats["workers"]) + " worker(s) · config " +
          html_escape(runtime.config.source_path) + " (generation " +
          std::to_string(runtime.routes()->generation) + ") · refreshes every 5 s</div>";
  html += overview_cards(stats, table);
  html += "<h2>Requests by route and cache status</h2><table><tr><th>route</th>";
  for (const auto& s : statuses) html += "<th>" + html_escape(s) + "</th>";
  html += "<th>hit ratio</th></tr>" + table.rows + "</table>";
  html += rejected_events(runtime);
  html +=
      "<p class=\"muted\">JSON: <a href=\"/admin/stats\">/admin/stats</a> · Prometheus: "
      "<a href=\"/metrics\">/metrics</a></p></body></html>\n";
  return html;
}

}  // namespace cachecar::admin
