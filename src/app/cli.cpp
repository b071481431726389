#include "app/cli.hpp"

namespace cachecar::app {

std::optional<CliOptions> parse_cli(const std::vector<std::string>& args, std::string& error) {
  CliOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= args.size()) {
        error = arg + " needs a file path";
        return std::nullopt;
      }
      options.config_path = args[++i];
      options.config_given = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      options.config_path = arg.substr(9);
      options.config_given = true;
    } else if (arg == "--check") {
      options.check = true;
    } else if (arg == "--version" || arg == "-V") {
      options.version = true;
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else {
      error = "unknown argument '" + arg + "' (see --help)";
      return std::nullopt;
    }
  }
  return options;
}

const char* usage_text() {
  return R"(cachecar: a caching sidecar for HTTP APIs

usage:
  cachecar [--config PATH]          run (default: config/cachecar.yaml; if that file
                                    does not exist, the embedded default config)
  cachecar --config PATH --check    validate the file; print every problem as
                                    PATH:LINE:COL: message; exit 0 valid, 1 invalid.
                                    Needs no secrets: it lists the environment
                                    variables the run will read
  cachecar --version | --help

environment overrides:
  CACHECAR_LISTEN, CACHECAR_ORIGIN, CACHECAR_REDIS_URL, CACHECAR_ADMIN_TOKEN,
  CACHECAR_ADMIN_LISTEN, CACHECAR_HEALTH_LISTEN (host:port or off),
  CACHECAR_LOG_LEVEL

signals:
  SIGTERM/SIGINT  drain (readyz 503 for drain_delay), stop accepting, finish
                  in-flight requests within shutdown_grace, exit 0
)";
}

}  // namespace cachecar::app
