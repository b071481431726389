// Command-line parsing (SPEC §2). Pure: no I/O beyond what the caller does
// with the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cachecar::app {

inline constexpr const char* kDefaultConfigPath = "config/cachecar.yaml";

struct CliOptions {
  std::string config_path = kDefaultConfigPath;
  bool config_given = false;  // --config was on the command line
  bool check = false;
  bool version = false;
  bool help = false;
};

// nullopt with `error` set on unknown or incomplete arguments.
std::optional<CliOptions> parse_cli(const std::vector<std::string>& args, std::string& error);

const char* usage_text();

}  // namespace cachecar::app
