// cachecar's entry point: arguments, config, then the server (SPEC §2).
#include <sys/resource.h>

#include <filesystem>
#include <iostream>

#include "app/cli.hpp"
#include "app/logging.hpp"
#include "app/server.hpp"
#include "config/config_loader.hpp"

using namespace cachecar;

int main(int argc, char** argv) {
  std::string error;
  auto options = app::parse_cli(std::vector<std::string>(argv + 1, argv + argc), error);
  if (!options) {
    std::cerr << "cachecar: " << error << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << app::usage_text();
    return 0;
  }
  if (options->version) {
    std::cout << "cachecar " << CACHECAR_VERSION << "\n";
    return 0;
  }

  config::LoadResult loaded;
  std::string source = options->config_path;
  const auto purpose = options->check ? config::LoadPurpose::check : config::LoadPurpose::run;
  if (!options->config_given && !std::filesystem::exists(options->config_path)) {
    source = "<embedded default>";
    loaded = config::load_config_text(config::embedded_default_config(), source,
                                      config::process_env, purpose);
  } else {
    loaded = config::load_config_file(options->config_path, config::process_env, purpose);
  }
  for (const auto& diagnostic : loaded.errors)
    std::cerr << config::format_diagnostic(source, diagnostic) << "\n";
  if (!loaded.config) {
    if (!options->check)
      std::cerr << "cachecar: " << loaded.errors.size() << " problem(s) in " << source << "\n";
    return 1;
  }
  if (options->check) {
    std::cout << source << ": ok (" << loaded.config->routes.size() << " routes)\n";
    // Checked without the secrets: say which the run will read.
    for (const auto& need : loaded.runtime_needs)
      std::cout << "  at run time, from the environment: " << need << "\n";
    return 0;
  }
  app::configure_logging(loaded.config->log);
  // A proxy holds two sockets per client in flight: take every descriptor
  // the hard limit allows.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return app::run_server(std::move(*loaded.config));
}
