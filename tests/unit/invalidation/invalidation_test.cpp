#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cache/key_builder.hpp"
#include "invalidation/event.hpp"
#include "invalidation/gap.hpp"
#include "invalidation/log.hpp"
#include "invalidation/replay_guard.hpp"
#include "invalidation/scope.hpp"

namespace cachecar::invalidation {
namespace {

using Clock = std::chrono::system_clock;
const Clock::time_point kNow = *parse_rfc3339("2026-11-26T10:00:00Z");

ValidationPolicy policy(std::string secret = {}) {
  return {{{"product", "catalog-service"}, {"user-profile", "profile-service"}},
          std::move(secret),
          std::chrono::minutes(5)};
}

TEST(Event, AcceptsTheSpecExample) {
  auto v = validate_event(
      R"({"type": "entity-updated", "entity": "product", "id": "42", "tenant": "acme",
          "source": "catalog-service", "tags": ["category:3"], "version": 7, "ts": "2026-11-26T10:00:00Z"})",
      policy(), kNow);
  ASSERT_TRUE(v.event) << v.detail;
  EXPECT_EQ(v.event->type, EventType::entity_updated);
  EXPECT_EQ(v.event->id, "42");
  EXPECT_EQ(v.event->tenant, "acme");
  EXPECT_EQ(v.event->tags, std::vector<std::string>{"category:3"});
  EXPECT_EQ(v.event->version, 7);
}

TEST(Event, NumericIdsAreAccepted) {
  auto v = validate_event(
      R"({"type":"entity-deleted","entity":"product","id":42,"source":"catalog-service"})",
      policy(), kNow);
  ASSERT_TRUE(v.event);
  EXPECT_EQ(v.event->id, "42");
}

struct RejectCase {
  const char* name;
  const char* json;
  Rejection reason;
};

class EventRejection : public ::testing::TestWithParam<RejectCase> {};

TEST_P(EventRejection, ChangesNothingAndSaysWhy) {
  auto v = validate_event(GetParam().json, policy(), kNow);
  EXPECT_FALSE(v.event);
  EXPECT_EQ(v.reason, GetParam().reason) << v.detail;
  EXPECT_FALSE(v.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, EventRejection,
    ::testing::Values(
        RejectCase{"not_json", "{nope", Rejection::malformed},
        RejectCase{"array", "[1]", Rejection::malformed},
        RejectCase{"unknown_type",
                   R"({"type":"entity-born","entity":"product","source":"catalog-service"})",
                   Rejection::unknown_type},
        RejectCase{"no_source", R"({"type":"entity-updated","entity":"product","id":"1"})",
                   Rejection::missing_field},
        RejectCase{"no_entity", R"({"type":"entity-updated","source":"catalog-service"})",
                   Rejection::missing_field},
        RejectCase{
            "not_owner",
            R"({"type":"entity-updated","entity":"product","id":"1","source":"profile-service"})",
            Rejection::not_owner},
        RejectCase{"unowned_entity",
                   R"({"type":"entity-updated","entity":"order","id":"1","source":"x"})",
                   Rejection::not_owner},
        RejectCase{"tags_without_tags", R"({"type":"tag-purged","source":"catalog-service"})",
                   Rejection::missing_field},
        RejectCase{"tags_from_stranger",
                   R"({"type":"tag-purged","tags":["a"],"source":"stranger"})",
                   Rejection::not_owner},
        RejectCase{"bad_tags", R"({"type":"tag-purged","tags":"a","source":"catalog-service"})",
                   Rejection::malformed},
        RejectCase{
            "bad_version",
            R"({"type":"entity-updated","entity":"product","source":"catalog-service","version":"7"})",
            Rejection::malformed}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Event, TheFleetMayPurgeTagsAndUnownedEntitiesButNotOwnedOnes) {
  EXPECT_TRUE(
      validate_event(R"({"type":"tag-purged","tags":["a"],"source":"cachecar"})", policy(), kNow)
          .event);
  EXPECT_TRUE(
      validate_event(R"({"type":"entity-updated","entity":"order","id":"1","source":"cachecar"})",
                     policy(), kNow)
          .event);
  EXPECT_EQ(
      validate_event(R"({"type":"entity-updated","entity":"product","id":"1","source":"cachecar"})",
                     policy(), kNow)
          .reason,
      Rejection::not_owner);
}

TEST(Event, SignaturesFollowTheSpecAndAreChecked) {
  Event e;
  e.type = EventType::entity_updated;
  e.entity = "product";
  e.id = "42";
  e.source = "catalog-service";
  e.tags = {"a", "b"};
  e.version = 7;
  e.ts = "2026-11-26T10:00:00Z";
  e.eid = "e-1";
  EXPECT_EQ(signing_text(e),
            "entity-updated\nproduct\n42\n\ncatalog-service\n7\n2026-11-26T10:00:00Z\ne-"
            "1\n\n\n2\na\nb\n");
  // RFC 4231 test case 2 pins the HMAC itself.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string signed_json = to_json(e, "s3cret");
  EXPECT_TRUE(validate_event(signed_json, policy("s3cret"), kNow).event);
  EXPECT_EQ(validate_event(signed_json, policy("other"), kNow).reason, Rejection::bad_signature);
  EXPECT_EQ(validate_event(to_json(e), policy("s3cret"), kNow).reason, Rejection::bad_signature);
  auto tampered = nlohmann::json::parse(signed_json);
  tampered["id"] = "43";
  EXPECT_EQ(validate_event(tampered.dump(), policy("s3cret"), kNow).reason,
            Rejection::bad_signature);
}

// Issue 10, finding 9: every field that makes a cachecar act is signed, and
// the signed text has one reading only.
TEST(Event, TheSignatureCoversAcksAndTagBoundaries) {
  Event e;
  e.type = EventType::tag_purged;
  e.source = "catalog-service";
  e.tags = {"a", "b"};
  e.ts = "2026-11-26T10:00:00Z";
  e.eid = "e-2";
  const auto signed_doc = nlohmann::json::parse(to_json(e, "k"));
  auto redirected = signed_doc;
  redirected["ack_to"] = "cachecar:invalidate";
  redirected["ack_id"] = "x";
  EXPECT_EQ(validate_event(redirected.dump(), policy("k"), kNow).reason, Rejection::bad_signature);
  auto joined = signed_doc;
  joined["tags"] = {"a,b"};
  EXPECT_EQ(validate_event(joined.dump(), policy("k"), kNow).reason, Rejection::bad_signature);
  auto split = signed_doc;
  split["tags"] = {"a\nb"};
  EXPECT_EQ(validate_event(split.dump(), policy("k"), kNow).reason, Rejection::malformed);
  auto other_eid = signed_doc;
  other_eid["eid"] = "e-3";
  EXPECT_EQ(validate_event(other_eid.dump(), policy("k"), kNow).reason, Rejection::bad_signature);
  e.eid.clear();
  EXPECT_EQ(validate_event(to_json(e, "k"), policy("k"), kNow).reason, Rejection::missing_field);
}

TEST(Event, OversizedOrDeeplyNestedEventsAreRejectedUnparsed) {
  std::string big = R"({"type":"tag-purged","source":"catalog-service","tags":[")" +
                    std::string(kMaxEventBytes, 'x') + R"("]})";
  auto v = validate_event(big, policy(), kNow);
  EXPECT_EQ(v.reason, Rejection::malformed);
  EXPECT_NE(v.detail.find("bytes"), std::string::npos);
  std::string deep = R"({"type":"tag-purged","source":"catalog-service","tags":["a"],"x":)" +
                     std::string(8, '[') + std::string(8, ']') + "}";
  v = validate_event(deep, policy(), kNow);
  EXPECT_EQ(v.reason, Rejection::malformed);
  EXPECT_NE(v.detail.find("nested"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(validate_event(
                  R"({"type":"tag-purged","source":"catalog-service","tags":["[[[[[[[[[[\"]]"]})",
                  policy(), kNow)
                  .event);
}

TEST(ReplayGuard, AnEidIsAppliedOnceWithinTheWindow) {
  ReplayGuard guard(std::chrono::minutes(5), 3);
  EXPECT_TRUE(guard.first_sighting("a", kNow));
  EXPECT_FALSE(guard.first_sighting("a", kNow + std::chrono::minutes(9)));
  EXPECT_TRUE(guard.first_sighting(
      "a", kNow + std::chrono::minutes(11)));  // its ts is long refused by then
  EXPECT_TRUE(guard.first_sighting("b", kNow + std::chrono::minutes(11)));
  EXPECT_TRUE(guard.first_sighting("c", kNow + std::chrono::minutes(11)));
  EXPECT_TRUE(guard.first_sighting("d", kNow + std::chrono::minutes(11)));
  EXPECT_LE(guard.remembered(), 3u);
}

TEST(Event, SignedEventsOutsideMaxSkewAreReplays) {
  Event e;
  e.entity = "product";
  e.source = "catalog-service";
  e.eid = "e-4";
  e.ts = "2026-11-26T09:50:00Z";  // ten minutes before kNow
  EXPECT_EQ(validate_event(to_json(e, "k"), policy("k"), kNow).reason, Rejection::replayed);
  e.ts = "2026-11-26T09:58:00+00:00";
  EXPECT_TRUE(validate_event(to_json(e, "k"), policy("k"), kNow).event);
  e.ts = "";
  EXPECT_EQ(validate_event(to_json(e, "k"), policy("k"), kNow).reason, Rejection::replayed);
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  auto zulu = parse_rfc3339("2026-11-26T10:00:00Z");
  ASSERT_TRUE(zulu);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.250+02:00"), zulu);
  EXPECT_FALSE(parse_rfc3339("2026-11-26 10:00:00"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(Scope, AnEntityIdEventCoversEveryProjectionVersionAndTheSharedEntries) {
  Event e;
  e.entity = "product";
  e.id = "42";
  e.tenant = "acme";
  Scope scope = scope_of(e, "prod");
  for (const char* key :
       {"prod:acme:product:42:-:v1", "prod:acme:product:42:9f00aa:v2", "prod:-:product:42:-:v1"}) {
    EXPECT_TRUE(scope.covers(key, cache::implicit_tags(key))) << key;
  }
  for (const char* key : {"prod:globex:product:42:-:v1", "prod:acme:product:43:-:v1",
                          "prod:acme:order:42:-:v1", "staging:acme:product:42:-:v1"}) {
    EXPECT_FALSE(scope.covers(key, cache::implicit_tags(key))) << key;
  }
}

TEST(Scope, WithoutTenantEveryTenantIsCovered) {
  Event e;
  e.entity = "product";
  e.id = "42";
  Scope scope = scope_of(e, "prod");
  EXPECT_TRUE(scope.covers("prod:globex:product:42:-:v1",
                           cache::implicit_tags("prod:globex:product:42:-:v1")));
  EXPECT_TRUE(
      scope.covers("prod:-:product:42:-:v1", cache::implicit_tags("prod:-:product:42:-:v1")));
}

TEST(Scope, WithoutIdTheWholeEntityIsCovered) {
  Event e;
  e.entity = "product";
  Scope scope = scope_of(e, "prod");
  EXPECT_TRUE(scope.covers("prod:acme:product:7:-:v1", {}));
  EXPECT_FALSE(scope.covers("prod:acme:order:7:-:v1", {}));
  EXPECT_EQ(scope.redis_glob("prod"), "prod:*:product:*");
}

TEST(Scope, TagEventsCoverTaggedEntries) {
  Event e;
  e.type = EventType::tag_purged;
  e.tags = {"category:3"};
  Scope scope = scope_of(e, "prod");
  EXPECT_TRUE(scope.covers("prod:-:product:1:-:v1", {"category:3"}));
  EXPECT_FALSE(scope.covers("prod:-:product:1:-:v1", {"category:4"}));
  EXPECT_TRUE(scope.redis_glob("prod").empty());
}

TEST(InvalidationLog, AFillSeesInvalidationsRecordedAfterItBegan) {
  InvalidationLog log;
  std::string key = "prod:-:product:42:-:v1";
  auto tags = cache::implicit_tags(key);
  auto before = log.begin_fill();
  Event other;
  other.entity = "product";
  other.id = "41";
  log.record(scope_of(other, "prod"));
  EXPECT_FALSE(log.invalidated_since(before, key, tags));
  Event mine = other;
  mine.id = "42";
  log.record(scope_of(mine, "prod"));
  EXPECT_TRUE(log.invalidated_since(before, key, tags));
  EXPECT_FALSE(log.invalidated_since(log.begin_fill(), key, tags))
      << "a fill that began after it is fine";
}

TEST(InvalidationLog, AnEntryStoredBeforeAnInvalidationOfItIsDeadWhereverItIsRead) {
  InvalidationLog log;
  std::string key = "prod:-:product:42:-:v1";
  auto tags = cache::implicit_tags(key);
  auto stored_before = std::chrono::system_clock::now() - std::chrono::milliseconds(5);
  EXPECT_FALSE(log.invalidated_after(stored_before, key, tags)) << "nothing recorded";
  Event mine;
  mine.entity = "product";
  mine.id = "42";
  log.record(scope_of(mine, "prod"));
  EXPECT_TRUE(log.invalidated_after(stored_before, key, tags));
  EXPECT_FALSE(log.invalidated_after(
      std::chrono::system_clock::now() + std::chrono::milliseconds(5), key, tags))
      << "stored after the invalidation: fine";
  EXPECT_FALSE(log.invalidated_after(stored_before, "prod:-:product:43:-:v1",
                                     cache::implicit_tags("prod:-:product:43:-:v1")))
      << "another id";
}

TEST(InvalidationLog, ForgottenHistoryCountsAsInvalidated) {
  InvalidationLog log(std::chrono::seconds(60), 2);
  auto before = log.begin_fill();
  for (int i = 0; i < 5; ++i) {
    Scope s;
    s.key = "unrelated" + std::to_string(i);
    log.record(s);
  }
  EXPECT_TRUE(log.invalidated_since(before, "prod:-:product:1:-:v1", {}));
}

TEST(GapState, EntriesFromBeforeADropExpireWithMaxStaleAndAreRefetchedAfter) {
  GapState gap;
  auto t0 = Clock::now();
  using std::chrono::seconds;
  EXPECT_TRUE(gap.servable(t0, t0, seconds(0))) << "no bus, no rule";
  gap.enable(t0);
  gap.mark_subscribed(t0, false);
  EXPECT_TRUE(gap.servable(t0, t0 + seconds(100), seconds(0)));
  gap.mark_down(t0 + seconds(10));
  EXPECT_TRUE(gap.servable(t0, t0 + seconds(30), seconds(60)));
  EXPECT_FALSE(gap.servable(t0, t0 + seconds(71), seconds(60)));
  EXPECT_FALSE(gap.servable(t0, t0 + seconds(11), seconds(0)));
  gap.mark_subscribed(t0 + seconds(80), true);
  EXPECT_FALSE(gap.servable(t0 + seconds(79), t0 + seconds(81), seconds(60)))
      << "filled before the return";
  EXPECT_TRUE(gap.servable(t0 + seconds(81), t0 + seconds(82), seconds(0)));
}

TEST(GapState, StreamModeTracksTheSubscriptionButHoldsNothingBack) {
  GapState gap;
  auto t0 = Clock::now();
  using std::chrono::seconds;
  gap.enable(t0, /*apply_rule=*/false);
  EXPECT_TRUE(gap.enabled());
  EXPECT_FALSE(gap.subscribed()) << "down until the first subscription";
  gap.mark_subscribed(t0, false);
  EXPECT_TRUE(gap.subscribed());
  gap.mark_down(t0 + seconds(10));
  EXPECT_FALSE(gap.subscribed());
  EXPECT_TRUE(gap.servable(t0, t0 + seconds(100), seconds(0)))
      << "the stream replays what was missed";
  gap.mark_subscribed(t0 + seconds(80), true);
  EXPECT_TRUE(gap.servable(t0, t0 + seconds(81), seconds(0)));
}

TEST(ImplicitTags, ComeFromTheKey) {
  EXPECT_EQ(cache::implicit_tags("prod:acme:product:42:ab:v2"),
            (std::vector<std::string>{"#prod:acme:product:42", "#prod:*:product:42"}));
  EXPECT_EQ(cache::identity_tags("prod", "product", "42", std::nullopt),
            std::vector<std::string>{"#prod:*:product:42"});
  EXPECT_EQ(cache::identity_tags("prod", "product", "42", std::string("acme")),
            (std::vector<std::string>{"#prod:acme:product:42", "#prod:-:product:42"}));
}

}  // namespace
}  // namespace cachecar::invalidation
