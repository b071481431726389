#include "cache/cache_control.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace cachecar::cache {
namespace {

std::string_view trim(std::string_view s) { return trim_ows(s); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9111 §1.2.2: delta-seconds; too large saturates, anything invalid is 0.
std::chrono::seconds delta_seconds(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return std::chrono::seconds(2147483648LL);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0)
    return std::chrono::seconds(0);
  return std::chrono::seconds(std::min<std::int64_t>(value, 2147483648LL));
}

// Splits on commas that are not inside a quoted string.
template <typename Fn>
void for_each_directive(std::string_view value, Fn&& fn) {
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] == '"') quoted = !quoted;
    if (i == value.size() || (value[i] == ',' && !quoted)) {
      std::string_view item = trim(value.substr(start, i - start));
      if (!item.empty()) fn(item);
      start = i + 1;
    }
  }
}

// The field names of a qualified no-cache/private argument ("a, b"), lower
// case. False when there are none: the caller then applies the plain form.
bool field_names(std::string_view argument, std::vector<std::string>& into) {
  if (argument.size() >= 2 && argument.front() == '"' && argument.back() == '"') {
    argument = argument.substr(1, argument.size() - 2);
  }
  bool any = false;
  while (!argument.empty()) {
    auto comma = argument.find(',');
    std::string_view name = trim(argument.substr(0, comma));
    argument = comma == std::string_view::npos ? std::string_view{} : argument.substr(comma + 1);
    if (name.empty()) continue;
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(into.begin(), into.end(), lower) == into.end()) into.push_back(std::move(lower));
    any = true;
  }
  return any;
}

}  // namespace

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void parse_cache_control(std::string_view value, CacheDirectives& d) {
  d.present = true;
  for_each_directive(value, [&](std::string_view item) {
    std::string_view name = item, argument;
    // No whitespace around '=' in the grammar: "max-age =60" names no
    // directive we know, and "max-age= 60" has an invalid value.
    if (auto eq = item.find('='); eq != std::string_view::npos) {
      name = item.substr(0, eq);
      argument = item.substr(eq + 1);
    }
    if (iequals(name, "no-store"))
      d.no_store = true;
    else if (iequals(name, "no-cache")) {
      if (argument.empty() || !field_names(argument, d.no_cache_fields)) d.no_cache = true;
    } else if (iequals(name, "private")) {
      if (argument.empty() || !field_names(argument, d.private_fields)) d.is_private = true;
    } else if (iequals(name, "public"))
      d.is_public = true;
    else if (iequals(name, "must-revalidate"))
      d.must_revalidate = true;
    else if (iequals(name, "proxy-revalidate"))
      d.proxy_revalidate = true;
    else if (iequals(name, "only-if-cached"))
      d.only_if_cached = true;
    // A directive given twice: the first occurrence counts (RFC 9111 §4.2.1).
    else if (iequals(name, "max-age"))
      d.max_age = d.max_age.value_or(delta_seconds(argument));
    else if (iequals(name, "s-maxage"))
      d.s_maxage = d.s_maxage.value_or(delta_seconds(argument));
    else if (iequals(name, "stale-while-revalidate"))
      d.stale_while_revalidate = delta_seconds(argument);
    else if (iequals(name, "stale-if-error"))
      d.stale_if_error = delta_seconds(argument);
    else if (iequals(name, "min-fresh"))
      d.min_fresh = delta_seconds(argument);
    else if (iequals(name, "max-stale")) {
      if (argument.empty())
        d.max_stale_any = true;
      else
        d.max_stale = delta_seconds(argument);
    }
  });
}

}  // namespace cachecar::cache
