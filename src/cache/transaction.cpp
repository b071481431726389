#include "cache/transaction.hpp"

namespace cachecar::cache {

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::lookup:
      return "lookup";
    case Phase::fresh:
      return "fresh";
    case Phase::stale:
      return "stale";
    case Phase::miss:
      return "miss";
    case Phase::uncacheable:
      return "uncacheable";
    case Phase::fetching:
      return "fetching";
    case Phase::stored:
      return "stored";
    case Phase::served:
      return "served";
  }
  return "?";
}

}  // namespace cachecar::cache
