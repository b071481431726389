// Issue 10, finding 9: a bus that cannot be bent. Events are signed here by
// the test's own reading of SPEC §5 (not cachecar's code), published on a
// real redis-server, and heard by two cachecars that require signatures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <ctime>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kSecret = "bus-s3cret";

std::string bus_config(const RedisServer& redis) {
  return std::string(kTestBase) + "store:\n  redis: { url: \"" + redis.url() +
         "\", timeout: 200ms, pool: 2 }\n" +
         "invalidation:\n  owners: { product: catalog-service }\n  secret_env: "
         "CACHECAR_BUS_SECRET\n"
         "routes:\n"
         "  - name: product\n"
         "    match: { method: GET, path: \"/products/{id:int}\" }\n"
         "    entity: product\n"
         "    ttl: 5m\n"
         "    tags: [\"shelf:{id}\"]\n";
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// SPEC §5: each line ended by '\n': type, entity, id, tenant, source,
// version, ts, eid, ack_to, ack_id, the number of tags, each tag.
std::string sign(const json& e) {
  auto field = [&](const char* name) {
    if (!e.contains(name)) return std::string();
    return e[name].is_string() ? e[name].get<std::string>() : e[name].dump();
  };
  std::string text;
  for (const char* name :
       {"type", "entity", "id", "tenant", "source", "version", "ts", "eid", "ack_to", "ack_id"}) {
    text += field(name) + "\n";
  }
  const json tags = e.contains("tags") ? e["tags"] : json::array();
  text += std::to_string(tags.size()) + "\n";
  for (const auto& tag : tags) text += tag.get<std::string>() + "\n";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(std::string_view(kSecret).size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

json signed_event(json e) {
  e["ts"] = now_rfc3339();
  e["sig"] = sign(e);
  return e;
}

json stats(Cachecar& c) { return json::parse(c.admin("GET", "/admin/stats").body); }

bool in_memory(Cachecar& c, const std::string& path) {
  return json::parse(c.admin("GET", "/admin/keys/explain?path=" + path).body)["in_memory"] == true;
}

class BusIntegrity : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(eventually([&] {
      return stats(a_)["bus"]["subscribed"] == true && stats(b_)["bus"]["subscribed"] == true;
    }));
  }
  long long publish(const json& event) {
    auto reply = redis_.command({"PUBLISH", "cachecar:invalidate", event.dump()});
    return std::stoll(reply.substr(1));
  }
  // Waits until both cachecars have decided `count` events in all: applied
  // or rejected (an event counts as received before it is applied).
  void await_received(int count) {
    auto decided = [](Cachecar& c) {
      auto bus = stats(c)["bus"];
      long long n = bus["applied"].get<long long>();
      for (const auto& [reason, rejected] : bus["rejected"].items()) n += rejected.get<long long>();
      return n;
    };
    ASSERT_TRUE(eventually([&] { return decided(a_) == count && decided(b_) == count; }))
        << stats(a_)["bus"].dump();
  }

  RedisServer redis_;
  Origin origin_;
  std::map<std::string, std::string> env_{{"CACHECAR_BUS_SECRET", kSecret}};
  Cachecar a_{origin_.port(), bus_config(redis_), env_};
  Cachecar b_{origin_.port(), bus_config(redis_), env_};
};

TEST_F(BusIntegrity, ASignedEventIsAppliedOnceAndItsReplayChangesNothing) {
  a_.get("/products/42");
  b_.get("/products/42");
  const json event = signed_event({{"type", "entity-updated"},
                                   {"entity", "product"},
                                   {"id", "42"},
                                   {"source", "catalog-service"},
                                   {"eid", "e-1"}});
  EXPECT_EQ(publish(event), 2);
  await_received(1);
  EXPECT_EQ(stats(a_)["bus"]["applied"], 1);
  EXPECT_FALSE(in_memory(a_, "/products/42"));
  // Filled again, then the captured event is published again.
  a_.get("/products/42");
  b_.get("/products/42");
  publish(event);
  await_received(2);
  for (Cachecar* c : {&a_, &b_}) {
    auto bus = stats(*c)["bus"];
    EXPECT_EQ(bus["applied"], 1);
    EXPECT_EQ(bus["rejected"]["replayed"], 1);
    EXPECT_TRUE(in_memory(*c, "/products/42")) << "a replay must not purge";
  }
}

TEST_F(BusIntegrity, AnAckChannelAddedToACapturedEventBreaksItsSignature) {
  a_.get("/products/43");
  json captured = signed_event({{"type", "entity-updated"},
                                {"entity", "product"},
                                {"id", "43"},
                                {"source", "catalog-service"},
                                {"eid", "e-2"}});
  captured["ack_to"] = "cachecar:invalidate";  // every receiver would publish again: an amplifier
  captured["ack_id"] = captured.dump();
  publish(captured);
  await_received(1);
  for (Cachecar* c : {&a_, &b_}) {
    auto bus = stats(*c)["bus"];
    EXPECT_EQ(bus["applied"], 0);
    EXPECT_EQ(bus["rejected"]["bad-signature"], 1);
  }
  EXPECT_TRUE(in_memory(a_, "/products/43"));
  // Nothing was published back: one event received each, and no echo
  // arrives within a while (an ack on the bus would be one within a ms).
  EXPECT_FALSE(eventually(
      [&] { return stats(a_)["bus"]["received"] != 1 || stats(b_)["bus"]["received"] != 1; },
      std::chrono::milliseconds(300)));
}

TEST_F(BusIntegrity, SignedAckFieldsAreHonoured) {
  // The same fields, signed by the owner: acknowledged on the named channel.
  json event = {{"type", "entity-updated"},
                {"entity", "product"},
                {"id", "44"},
                {"source", "catalog-service"},
                {"eid", "e-3"},
                {"ack_to", "test:acks"},
                {"ack_id", "w-1"}};
  event = signed_event(event);
  publish(event);
  await_received(1);
  EXPECT_EQ(stats(a_)["bus"]["applied"], 1);
  EXPECT_EQ(stats(b_)["bus"]["applied"], 1);
}

TEST_F(BusIntegrity, TagsCannotBeRegroupedUnderOneSignature) {
  a_.get("/products/45");
  json event = signed_event({{"type", "tag-purged"},
                             {"source", "catalog-service"},
                             {"tags", {"shelf:4", "5"}},
                             {"eid", "e-4"}});
  event["tags"] = {"shelf:4,5"};
  publish(event);
  await_received(1);
  EXPECT_EQ(stats(a_)["bus"]["rejected"]["bad-signature"], 1);
  json no_eid =
      signed_event({{"type", "tag-purged"}, {"source", "catalog-service"}, {"tags", {"shelf:45"}}});
  publish(no_eid);
  await_received(2);
  EXPECT_EQ(stats(a_)["bus"]["rejected"]["missing-field"], 1);
  EXPECT_TRUE(in_memory(a_, "/products/45"));
}

TEST_F(BusIntegrity, AHugeDeeplyNestedPublishIsRejectedWithoutParsingIt) {
  a_.get("/products/46");
  const auto before = resident_bytes(a_.process().pid());
  std::string bomb = "{\"type\":\"tag-purged\",\"source\":\"catalog-service\",\"x\":";
  const std::size_t depth = 13'000'000;  // about 27 MB of brackets
  bomb.append(depth, '[');
  bomb.append(depth, ']');
  bomb += "}";
  redis_.command({"PUBLISH", "cachecar:invalidate", bomb});
  await_received(1);
  const auto after = resident_bytes(a_.process().pid());
  auto bus = stats(a_)["bus"];
  EXPECT_EQ(bus["rejected"]["malformed"], 1);
  EXPECT_THAT(a_.log(), HasSubstr("larger than 65536 bytes"));
  // The message itself passes through once (27 MB); a parsed tree of it
  // cost over 600 MB before (issue 10). Under AddressSanitizer RSS holds
  // its quarantine of freed blocks, so there the figure says nothing.
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(after, before + 150u * 1024 * 1024) << "RSS grew from " << before << " to " << after;
#endif
  std::printf("27 MB nested publish: RSS %.1f MB -> %.1f MB\n", before / 1048576.0,
              after / 1048576.0);
  EXPECT_TRUE(in_memory(a_, "/products/46"));
}

}  // namespace
}  // namespace cachecar::testing
