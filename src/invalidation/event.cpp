#include "invalidation/event.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

namespace cachecar::invalidation {

using nlohmann::json;

const char* to_string(Rejection reason) {
  switch (reason) {
    case Rejection::malformed:
      return "malformed";
    case Rejection::unknown_type:
      return "unknown-type";
    case Rejection::missing_field:
      return "missing-field";
    case Rejection::not_owner:
      return "not-owner";
    case Rejection::bad_signature:
      return "bad-signature";
    case Rejection::replayed:
      return "replayed";
  }
  return "?";
}

const char* to_string(EventType type) {
  switch (type) {
    case EventType::entity_updated:
      return "entity-updated";
    case EventType::entity_deleted:
      return "entity-deleted";
    case EventType::tag_purged:
      return "tag-purged";
  }
  return "?";
}

namespace {

Verdict reject(Rejection reason, std::string detail) {
  Verdict v;
  v.reason = reason;
  v.detail = std::move(detail);
  return v;
}

// The deepest nesting of objects and arrays in `text`, read without
// building anything (strings, and escapes inside them, skipped).
int nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      deepest = std::max(deepest, ++depth);
    else if (c == '}' || c == ']')
      --depth;
  }
  return deepest;
}

// A string field, or a number written as one (ids are often numeric).
std::optional<std::string> text_field(const json& doc, const char* name, bool& wrong_type) {
  if (!doc.contains(name) || doc[name].is_null()) return std::nullopt;
  const json& v = doc[name];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  wrong_type = true;
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::string copy(text);
  std::tm tm{};
  const char* rest = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {  // fractional seconds: ignored (the skew window is minutes)
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  long offset_seconds = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int hours = 0, minutes = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset_seconds = (hours * 3600L + minutes * 60L) * (*rest == '+' ? 1 : -1);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm) - offset_seconds);
}

std::string signing_text(const Event& e) {
  std::string text;
  auto line = [&](std::string_view value) {
    text += value;
    text += '\n';
  };
  line(to_string(e.type));
  line(e.entity);
  line(e.id.value_or(""));
  line(e.tenant.value_or(""));
  line(e.source);
  line(e.version ? std::to_string(*e.version) : "");
  line(e.ts);
  line(e.eid);
  line(e.ack_to);
  line(e.ack_id);
  line(std::to_string(e.tags.size()));
  for (const auto& tag : e.tags) line(tag);
  return text;
}

std::string new_event_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // No entropy: fall back on the clock and a counter (unique, if guessable:
    // an eid is a replay marker, not a secret).
    static std::atomic<std::uint64_t> counter{0};
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    std::uint64_t parts[2] = {static_cast<std::uint64_t>(now), counter.fetch_add(1)};
    std::memcpy(bytes, parts, sizeof bytes);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string to_json(const Event& e, std::string_view secret) {
  json doc = {{"type", to_string(e.type)}, {"source", e.source}};
  if (!e.entity.empty()) doc["entity"] = e.entity;
  if (e.id) doc["id"] = *e.id;
  if (e.tenant) doc["tenant"] = *e.tenant;
  if (!e.tags.empty()) doc["tags"] = e.tags;
  if (e.version) doc["version"] = *e.version;
  if (!e.ts.empty()) doc["ts"] = e.ts;
  if (!e.eid.empty()) doc["eid"] = e.eid;
  if (!e.ack_to.empty()) doc["ack_to"] = e.ack_to;
  if (!e.ack_id.empty()) doc["ack_id"] = e.ack_id;
  if (!secret.empty()) doc["sig"] = hmac_sha256_hex(secret, signing_text(e));
  return doc.dump();
}

namespace {

using Refusal = std::optional<Verdict>;  // set: the event is rejected, and why

Refusal read_type(const json& doc, Event& e, bool& wrong_type) {
  auto type = text_field(doc, "type", wrong_type);
  if (!type) return reject(Rejection::missing_field, "no type");
  if (*type == "entity-updated")
    e.type = EventType::entity_updated;
  else if (*type == "entity-deleted")
    e.type = EventType::entity_deleted;
  else if (*type == "tag-purged")
    e.type = EventType::tag_purged;
  else
    return reject(Rejection::unknown_type, "unknown type '" + *type + "'");
  return std::nullopt;
}

Refusal read_fields(const json& doc, Event& e) {
  bool wrong_type = false;
  if (auto refusal = read_type(doc, e, wrong_type)) return refusal;
  e.entity = text_field(doc, "entity", wrong_type).value_or("");
  e.id = text_field(doc, "id", wrong_type);
  e.tenant = text_field(doc, "tenant", wrong_type);
  e.source = text_field(doc, "source", wrong_type).value_or("");
  e.ts = text_field(doc, "ts", wrong_type).value_or("");
  e.eid = text_field(doc, "eid", wrong_type).value_or("");
  e.sig = text_field(doc, "sig", wrong_type).value_or("");
  e.ack_to = text_field(doc, "ack_to", wrong_type).value_or("");
  e.ack_id = text_field(doc, "ack_id", wrong_type).value_or("");
  if (doc.contains("version") && !doc["version"].is_null()) {
    if (!doc["version"].is_number_integer())
      return reject(Rejection::malformed, "version is not an integer");
    e.version = doc["version"].get<long long>();
  }
  if (doc.contains("tags")) {
    if (!doc["tags"].is_array()) return reject(Rejection::malformed, "tags is not a list");
    for (const auto& t : doc["tags"]) {
      if (!t.is_string()) return reject(Rejection::malformed, "tags must be strings");
      e.tags.push_back(t.get<std::string>());
      if (e.tags.back().find('\n') != std::string::npos)
        return reject(Rejection::malformed, "a tag holds a newline");
    }
  }
  if (wrong_type) return reject(Rejection::malformed, "a field has the wrong type");
  if (e.source.empty()) return reject(Rejection::missing_field, "no source");
  return std::nullopt;
}

Refusal check_owner(const Event& e, const ValidationPolicy& policy) {
  if (e.type == EventType::tag_purged) {
    if (e.tags.empty()) return reject(Rejection::missing_field, "tag-purged without tags");
    // Tags span entities: any configured owner may purge them, and so may
    // the fleet itself (an operator's tag purge on one cachecar).
    bool known_source = e.source == kCachecarSource;
    for (const auto& [entity, owner] : policy.owners)
      known_source = known_source || owner == e.source;
    if (!known_source)
      return reject(Rejection::not_owner, "source '" + e.source + "' owns no entity");
    return std::nullopt;
  }
  if (e.entity.empty()) return reject(Rejection::missing_field, "no entity");
  auto owner = policy.owners.find(e.entity);
  if (owner == policy.owners.end()) {
    // The fleet's own write-through events for an entity nobody owns.
    if (e.source == kCachecarSource) return std::nullopt;
    return reject(Rejection::not_owner,
                  "entity '" + e.entity + "' has no owner in invalidation.owners");
  }
  if (owner->second != e.source) {
    return reject(Rejection::not_owner, "source '" + e.source + "' does not own '" + e.entity +
                                            "' (owner: " + owner->second + ")");
  }
  return std::nullopt;
}

Refusal check_signature(const Event& e, const ValidationPolicy& policy,
                        std::chrono::system_clock::time_point now) {
  if (policy.secret.empty()) return std::nullopt;
  if (e.eid.empty()) return reject(Rejection::missing_field, "a signed event needs an eid");
  std::string expected = hmac_sha256_hex(policy.secret, signing_text(e));
  if (e.sig.size() != expected.size() ||
      CRYPTO_memcmp(e.sig.data(), expected.data(), expected.size()) != 0) {
    return reject(Rejection::bad_signature, "signature does not match");
  }
  auto at = parse_rfc3339(e.ts);
  if (!at) return reject(Rejection::replayed, "signed event without a valid ts");
  auto skew = at > now ? *at - now : now - *at;
  if (skew > policy.max_skew)
    return reject(Rejection::replayed, "ts " + e.ts + " is outside invalidation.max_skew");
  return std::nullopt;
}

}  // namespace

Verdict validate_event(std::string_view json_text, const ValidationPolicy& policy,
                       std::chrono::system_clock::time_point now) {
  if (json_text.size() > kMaxEventBytes) {
    return reject(Rejection::malformed, "larger than " + std::to_string(kMaxEventBytes) + " bytes");
  }
  if (nesting_depth(json_text) > kMaxEventDepth) {
    return reject(Rejection::malformed,
                  "nested deeper than " + std::to_string(kMaxEventDepth) + " levels");
  }
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return reject(Rejection::malformed, "not a JSON object");
  Event e;
  if (auto refusal = read_fields(doc, e)) return std::move(*refusal);
  if (auto refusal = check_owner(e, policy)) return std::move(*refusal);
  if (auto refusal = check_signature(e, policy, now)) return std::move(*refusal);
  Verdict v;
  v.event = std::move(e);
  return v;
}

std::string format_rfc3339(std::chrono::system_clock::time_point at) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Event fleet_event(EventType type, std::string entity,
                  const std::map<std::string, std::string>& owners) {
  Event event;
  event.type = type;
  auto owner = owners.find(entity);
  event.source = owner != owners.end() ? owner->second : kCachecarSource;
  event.entity = std::move(entity);
  event.ts = format_rfc3339(std::chrono::system_clock::now());
  event.eid = new_event_id();
  return event;
}

}  // namespace cachecar::invalidation
