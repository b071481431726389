#include "config/units.hpp"

#include <charconv>
#include <cmath>

namespace cachecar::config {
namespace {

// Splits "12.5KiB" into 12.5 and "KiB"; fails on an empty or malformed number.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  std::size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
    ++end;
  }
  if (end == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
  if (ec != std::errc{} || ptr != text.data() + end) return false;
  unit = text.substr(end);
  return std::isfinite(number);
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text, std::string& error) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit)) {
    error = "expected a duration like 250ms, 10s, 5m or 1h, got '" + std::string(text) + "'";
    return std::nullopt;
  }
  double millis = 0;
  if (unit == "ms")
    millis = number;
  else if (unit == "s")
    millis = number * 1000;
  else if (unit == "m")
    millis = number * 60'000;
  else if (unit == "h")
    millis = number * 3'600'000;
  else if (unit.empty() && number == 0)
    millis = 0;
  else {
    error = "duration '" + std::string(text) + "' needs a unit: ms, s, m or h";
    return std::nullopt;
  }
  return Duration(static_cast<Duration::rep>(std::llround(millis)));
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit)) {
    error = "expected a size like 512B, 16KiB, 8MiB or 1GiB, got '" + std::string(text) + "'";
    return std::nullopt;
  }
  double bytes = 0;
  if (unit == "B")
    bytes = number;
  else if (unit == "KiB")
    bytes = number * 1024;
  else if (unit == "MiB")
    bytes = number * 1024 * 1024;
  else if (unit == "GiB")
    bytes = number * 1024 * 1024 * 1024;
  else if (unit.empty() && number == 0)
    bytes = 0;
  else {
    error = "size '" + std::string(text) + "' needs a unit: B, KiB, MiB or GiB";
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::optional<double> parse_percent(std::string_view text, std::string& error) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit) || unit != "%") {
    error = "expected a percentage like 10%, got '" + std::string(text) + "'";
    return std::nullopt;
  }
  if (number > 100) {
    error = "percentage '" + std::string(text) + "' is over 100%";
    return std::nullopt;
  }
  return number / 100.0;
}

std::optional<double> parse_rate(std::string_view text, std::string& error) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit) || (unit != "/s" && unit != "/m")) {
    error = "expected a rate like 50/s or 600/m, got '" + std::string(text) + "'";
    return std::nullopt;
  }
  if (number <= 0) {
    error = "rate '" + std::string(text) + "' must be above zero";
    return std::nullopt;
  }
  return unit == "/s" ? number : number / 60.0;
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes != 0 && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "GiB";
  if (bytes != 0 && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
  return std::to_string(bytes) + "B";
}

}  // namespace cachecar::config
