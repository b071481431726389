// Invalidation events (SPEC §5): parsing, validation, ownership and
// signatures. Pure functions of their inputs (the clock reading included);
// a rejected event carries a reason that is counted and logged, and changes
// nothing.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachecar::invalidation {

enum class EventType { entity_updated, entity_deleted, tag_purged };

struct Event {
  EventType type = EventType::entity_updated;
  std::string entity;
  std::optional<std::string> id;      // absent: every entry of the entity
  std::optional<std::string> tenant;  // absent: every tenant
  std::string source;
  std::vector<std::string> tags;
  std::optional<long long> version;
  std::string ts;   // RFC 3339, as sent
  std::string eid;  // unique event id; required when signed: a repeat is ignored
  std::string sig;  // lowercase hex HMAC-SHA256, as sent
  // A cachecar that applied the event PUBLISHes `ack_id` on `ack_to`, so
  // that a write-through waits until the fleet has dropped its old copies.
  // Signed like every field that makes a cachecar act.
  std::string ack_to;
  std::string ack_id;
};

// The source cachecar uses for the events it publishes itself (write-through
// and RFC 9111 §4.4 invalidations) for entities without a configured owner;
// accepted for any entity, and bound by the signature like any other.
inline constexpr const char* kCachecarSource = "cachecar";

enum class Rejection { malformed, unknown_type, missing_field, not_owner, bad_signature, replayed };
inline constexpr std::size_t kRejectionCount = 6;
const char* to_string(Rejection reason);
const char* to_string(EventType type);

struct Verdict {
  std::optional<Event> event;  // set when accepted
  Rejection reason = Rejection::malformed;
  std::string detail;  // one line for the log
};

struct ValidationPolicy {
  std::map<std::string, std::string> owners;  // entity -> the only source allowed
  std::string secret;                         // empty: signatures not required
  std::chrono::milliseconds max_skew{5 * 60'000};
};

// Events larger than this, or nested deeper, are rejected before they are
// parsed into a tree (a 27 MB publish must not cost a gigabyte).
inline constexpr std::size_t kMaxEventBytes = 64 * 1024;
inline constexpr int kMaxEventDepth = 8;

Verdict validate_event(std::string_view json_text, const ValidationPolicy& policy,
                       std::chrono::system_clock::time_point now);

// The text SPEC §5 signs, each line ended by '\n': type, entity, id,
// tenant, source, version, ts, eid, ack_to, ack_id, the number of tags,
// then each tag; absent fields are empty lines. Unambiguous: a tag holding
// a newline is rejected, and the count fixes where the tags end.
std::string signing_text(const Event& event);
// A fresh random event id (32 hex digits).
std::string new_event_id();
// Lowercase hex HMAC-SHA256 of `text` with `secret`.
std::string hmac_sha256_hex(std::string_view secret, std::string_view text);
// The event as SPEC §5 JSON, signed when `secret` is not empty.
std::string to_json(const Event& event, std::string_view secret = {});

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
// "2026-11-26T10:00:00Z" (UTC, whole seconds).
std::string format_rfc3339(std::chrono::system_clock::time_point at);

// An event a cachecar announces itself (a write-through's drop, an admin
// purge), stamped now: its source is the entity's owner when `owners`
// names one (peers accept only the owner), else kCachecarSource.
Event fleet_event(EventType type, std::string entity,
                  const std::map<std::string, std::string>& owners);

}  // namespace cachecar::invalidation
