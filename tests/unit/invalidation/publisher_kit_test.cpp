// docs/invalidation.md is the contract publishers code against; its test
// vector is read from the page itself and checked against cachecar's own
// signing and validation, so the page and the code cannot drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "invalidation/event.hpp"

namespace cachecar::invalidation {
namespace {

using nlohmann::json;

json documented_vector() {
  std::ifstream file(std::string(CACHECAR_SOURCE_DIR) + "/docs/invalidation.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string page = text.str();
  const auto marker = page.find("<!-- test-vector -->");
  if (marker == std::string::npos)
    throw std::runtime_error("docs/invalidation.md has no test-vector marker");
  const auto open = page.find("```json\n", marker);
  const auto close = page.find("\n```", open + 8);
  return json::parse(page.substr(open + 8, close - open - 8));
}

TEST(PublisherKit, TheDocumentedTestVectorVerifies) {
  const json vector = documented_vector();
  const std::string secret = vector["secret"];
  json event = vector["event"];
  event["sig"] = vector["sig"];
  ValidationPolicy policy{{{"product", "catalog-service"}}, secret, std::chrono::minutes(5)};
  const auto at = parse_rfc3339(event["ts"].get<std::string>());
  ASSERT_TRUE(at);
  auto verdict = validate_event(event.dump(), policy, *at + std::chrono::seconds(30));
  ASSERT_TRUE(verdict.event) << verdict.detail;
  EXPECT_EQ(signing_text(*verdict.event), vector["signing_text"].get<std::string>());
  EXPECT_EQ(hmac_sha256_hex(secret, vector["signing_text"].get<std::string>()),
            vector["sig"].get<std::string>());
}

TEST(PublisherKit, TheVectorFailsWhenAnySignedFieldChanges) {
  const json vector = documented_vector();
  ValidationPolicy policy{
      {{"product", "catalog-service"}}, vector["secret"], std::chrono::minutes(5)};
  const auto at = *parse_rfc3339(vector["event"]["ts"].get<std::string>());
  for (const char* field : {"id", "tenant", "version", "eid", "tags"}) {
    json event = vector["event"];
    event["sig"] = vector["sig"];
    if (event[field].is_string())
      event[field] = event[field].get<std::string>() + "x";
    else if (event[field].is_number())
      event[field] = event[field].get<long long>() + 1;
    else
      event[field].push_back("extra");
    auto verdict = validate_event(event.dump(), policy, at);
    EXPECT_FALSE(verdict.event) << field;
    EXPECT_EQ(verdict.reason, Rejection::bad_signature) << field;
  }
  json late = vector["event"];
  late["sig"] = vector["sig"];
  EXPECT_EQ(validate_event(late.dump(), policy, at + std::chrono::minutes(6)).reason,
            Rejection::replayed);
}

}  // namespace
}  // namespace cachecar::invalidation
