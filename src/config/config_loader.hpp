// YAML file -> validated Config. Every problem is collected with its
// line:col, so one `--check` run reports all of them; a config with any
// problem is never returned.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostic.hpp"

namespace cachecar::config {

struct LoadResult {
  std::optional<Config> config;  // set only when `errors` is empty
  std::vector<Diagnostic> errors;
  // The secrets the file reads from the environment at run time, each as
  // "NAME (what for)", whether or not they are set now.
  std::vector<std::string> runtime_needs;
};

// `check` (cachecar --check) validates where the runtime secrets are not
// set: a secret the file requires is listed in runtime_needs, not an error.
enum class LoadPurpose { run, check };

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (getenv).
std::optional<std::string> process_env(const std::string& name);

// Parses and validates; `env` resolves token_env / secret_env and the
// CACHECAR_* overrides of SPEC §2 (applied after the file, reported at 0:0).
LoadResult load_config_text(std::string_view yaml, const std::string& source_path,
                            const EnvLookup& env, LoadPurpose purpose = LoadPurpose::run);
LoadResult load_config_file(const std::string& path, const EnvLookup& env,
                            LoadPurpose purpose = LoadPurpose::run);

// The config compiled into the binary (config/cachecar.yaml at build time),
// used when no --config is given and the default path does not exist.
std::string_view embedded_default_config();

}  // namespace cachecar::config
