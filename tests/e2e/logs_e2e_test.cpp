// Logs (issue 6): JSON lines by default, one line per notable event with
// its facts as fields, and an access log sampled by log.access_sample.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string logging_config(const char* log) {
  return std::string("workers: 1\ndrain_delay: 0s\nlog: ") + log +
         "\nroutes:\n"
         "  - name: catalog\n"
         "    match: { path: \"/t/{*rest}\" }\n"
         "    ttl: 60s\n";
}

// Every line of the log as JSON (failing the test on one that is not).
std::vector<json> json_lines(const std::string& log) {
  std::vector<json> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = json::parse(line, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << "not a JSON line: " << line;
    if (parsed.is_object()) lines.push_back(parsed);
  }
  return lines;
}

std::vector<json> events(const std::string& log, const std::string& name) {
  std::vector<json> found;
  for (auto& line : json_lines(log)) {
    if (line.value("event", "") == name) found.push_back(line);
  }
  return found;
}

// The access line is written once the answer is out: a client may read
// the log a moment before its own line lands.
std::vector<json> wait_for_events(Cachecar& c, const std::string& name, std::size_t count) {
  eventually([&] { return events(c.log(), name).size() >= count; });
  return events(c.log(), name);
}

TEST(Logs, JsonLinesCarryEventFieldsAndEveryRequestIsLoggedAtSampleOne) {
  Origin origin;
  Cachecar cachecar(origin.port(), logging_config("{ level: info, access_sample: 1.0 }"));
  cachecar.get("/t/logged");
  cachecar.get("/t/logged");
  cachecar.get("/unrouted");
  auto access = wait_for_events(cachecar, "access", 3);
  ASSERT_EQ(access.size(), 3u) << cachecar.log();
  EXPECT_EQ(access[0]["method"], "GET");
  EXPECT_EQ(access[0]["target"], "/t/logged");
  EXPECT_EQ(access[0]["status"], 200);
  EXPECT_EQ(access[0]["route"], "catalog");
  EXPECT_EQ(access[0]["cache"], "miss");
  EXPECT_EQ(access[1]["cache"], "hit");
  EXPECT_THAT(access[1]["key"].get<std::string>(), HasSubstr("catalog"));
  EXPECT_TRUE(access[1]["duration_ms"].is_number());
  EXPECT_TRUE(access[0]["origin_ms"].is_number());  // the miss asked the origin
  EXPECT_FALSE(access[1].contains("origin_ms"));    // the hit did not
  EXPECT_EQ(access[2]["route"], "-");
  EXPECT_TRUE(access[2]["origin_ms"].is_number());
  for (const auto& line : access) {
    EXPECT_TRUE(line.contains("ts"));
    EXPECT_EQ(line["level"], "info");
  }
  // A notable event: the origin gone, the reason and route as fields.
  origin.process().send_signal(SIGKILL);
  origin.process().wait_exit(std::chrono::seconds(5));
  EXPECT_EQ(cachecar.get("/t/unreachable").status, 502);
  auto failures = wait_for_events(cachecar, "origin-failure", 1);
  ASSERT_EQ(failures.size(), 1u) << cachecar.log();
  EXPECT_EQ(failures[0]["route"], "catalog");
  EXPECT_EQ(failures[0]["reason"], "refused");
  EXPECT_EQ(failures[0]["level"], "warning");
  EXPECT_THAT(failures[0]["msg"].get<std::string>(), HasSubstr("refused the connection"));
}

TEST(Logs, TheAccessLogIsSampledAndIndependentOfTheLevel) {
  Origin origin;
  Cachecar none(origin.port(), logging_config("{ level: warn }"));
  for (int i = 0; i < 20; ++i) none.get("/t/quiet");
  EXPECT_TRUE(events(none.log(), "access").empty());

  Cachecar half(origin.port(), logging_config("{ level: warn, access_sample: 0.5 }"));
  constexpr int kRequests = 400;
  for (int i = 0; i < kRequests; ++i) half.get("/t/sampled");
  // (Only the last line can still be in flight: within the bounds' slack.)
  auto sampled = wait_for_events(half, "access", 1).size();
  // Binomial(400, 0.5): 200 ± 10 (one standard deviation); ±80 is 8 of them.
  EXPECT_GT(sampled, 120u);
  EXPECT_LT(sampled, 280u);
}

TEST(Logs, TextFormatPutsTheFieldsAfterTheMessage) {
  Origin origin;
  Cachecar cachecar(origin.port(),
                    logging_config("{ format: text, level: info, access_sample: 1.0 }"));
  cachecar.get("/t/text");
  eventually([&] { return cachecar.log().find("event=access") != std::string::npos; });
  EXPECT_THAT(cachecar.log(), HasSubstr(" event=access "));
  EXPECT_THAT(cachecar.log(), HasSubstr(" route=catalog "));
  EXPECT_THAT(cachecar.log(), HasSubstr(" target=/t/text"));
}

}  // namespace
}  // namespace cachecar::testing
