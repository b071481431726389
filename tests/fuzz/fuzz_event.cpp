// Invalidation events: parsing, validation and signature checks on any
// payload, with and without a secret. An accepted signed event re-serialised
// and re-signed must be accepted again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "invalidation/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachecar::invalidation;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto now = *parse_rfc3339("2026-11-26T10:00:00Z");
  ValidationPolicy open{{{"product", "catalog-service"}}, "", std::chrono::minutes(5)};
  ValidationPolicy signed_policy{{{"product", "catalog-service"}}, "k", std::chrono::minutes(5)};
  auto verdict = validate_event(payload, open, now);
  validate_event(payload, signed_policy, now);
  if (verdict.event) {
    Event event = *verdict.event;
    event.ts = "2026-11-26T10:00:00Z";
    if (event.eid.empty()) event.eid = "e";
    if (!validate_event(to_json(event, "k"), signed_policy, now).event) __builtin_trap();
  }
  return 0;
}
