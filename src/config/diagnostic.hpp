// A configuration problem located in its file (1-based line and column).
#pragma once

#include <string>

namespace cachecar::config {

struct Diagnostic {
  int line = 0;
  int column = 0;
  std::string message;
};

// "PATH:LINE:COL: message", the form `cachecar --check` prints (SPEC §2).
inline std::string format_diagnostic(const std::string& path, const Diagnostic& d) {
  return path + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
}

}  // namespace cachecar::config
