// Typed configuration values: durations, sizes, percentages and rates.
// Pure parsing functions; each returns nullopt and fills `error` with a
// one-line reason a person can act on.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachecar::config {

using Duration = std::chrono::milliseconds;

// "250ms", "10s", "5m", "1h", "1.5s"; a bare "0" is accepted as zero.
std::optional<Duration> parse_duration(std::string_view text, std::string& error);
// "512B", "16KiB", "8MiB", "1GiB"; a bare "0" is accepted as zero.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error);
// "10%" -> 0.10; 0% to 100%.
std::optional<double> parse_percent(std::string_view text, std::string& error);
// "50/s" -> 50.0 per second; "600/m" -> 10.0 per second.
std::optional<double> parse_rate(std::string_view text, std::string& error);

std::string format_duration(Duration d);
std::string format_size(std::uint64_t bytes);

}  // namespace cachecar::config
