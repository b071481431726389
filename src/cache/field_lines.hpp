// A HeaderSource over field lines held as (name, value) pairs, repeats kept
// in order: for requests that are not Beast messages (the admin's explain,
// tests, fuzz targets). It views the lines; they must outlive it.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "cache/key_builder.hpp"

namespace cachecar::cache {

class FieldLines final : public HeaderSource {
 public:
  using Lines = std::vector<std::pair<std::string, std::string>>;

  explicit FieldLines(const Lines& lines) : lines_(lines) {}

  std::optional<std::string_view> header(std::string_view name) const override {
    for (const auto& [n, v] : lines_) {
      if (same_name(n, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
  void values(std::string_view name, FieldValues& out) const override {
    for (const auto& [n, v] : lines_) {
      if (same_name(n, name)) out.push_back(v);
    }
  }

 private:
  static bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }
  const Lines& lines_;
};

}  // namespace cachecar::cache
