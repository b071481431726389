// Deliberately breaks the module graph: net/ may not know of caching.
// Built only by the test Build.UpwardIncludeFails, which passes when the
// compiler cannot find this header for a target that links only net.
#include "cache/cache_status.hpp"
#include "net/http_util.hpp"

int main() { return cachecar::cache::to_string(cachecar::cache::CacheStatus::hit).empty(); }
