// Hot reload (issue 6): SIGHUP, POST /admin/reload and a change to the file
// (a plain rename, and a ConfigMap's ..data swap) bring in a new route
// table for new requests; requests in flight finish under the old one; a
// file with problems changes nothing and says where; under load no request
// fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Steady = std::chrono::steady_clock;

std::string routes_config(const std::string& route_body) {
  return std::string(kTestBase) +
         "admin: { token_env: RELOAD_TEST_TOKEN }\n"
         "routes:\n"
         "  - name: catalog\n"
         "    match: { path: \"/t/{*rest}\" }\n" +
         route_body;
}
const std::string kCaching = routes_config("    ttl: 60s\n");
const std::string kBypass = routes_config("    mode: bypass\n");
const std::map<std::string, std::string> kTokenEnv{{"RELOAD_TEST_TOKEN", "reload-s3cret"}};
const Headers kAuth{{"Authorization", "Bearer reload-s3cret"}};

std::string route_mode(Cachecar& c) {
  return json::parse(c.admin("GET", "/admin/routes", {}, kAuth).body)["routes"][0]["mode"]
      .get<std::string>();
}

std::uint64_t reloads(Cachecar& c, const std::string& result) {
  return c.metric("cachecar_config_reloads_total{result=\"" + result + "\"}");
}

TEST(Reload, SighupBringsInTheNewRoutesWhileARequestInFlightFinishesOnTheOld) {
  Origin origin;
  Cachecar cachecar(origin.port(), kCaching, kTokenEnv);
  auto in_flight =
      std::async(std::launch::async, [&] { return cachecar.get("/t/slow?delay_ms=700"); });
  ASSERT_TRUE(eventually([&] { return origin.stats()["in_flight"].get<int>() >= 1; }));

  cachecar.rewrite_config(kBypass);
  // The file watcher may see the rename first; SIGHUP reloads regardless.
  ASSERT_TRUE(eventually([&] { return route_mode(cachecar) == "bypass"; }));
  const auto before = reloads(cachecar, "ok");
  cachecar.process().send_signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return reloads(cachecar, "ok") == before + 1; }));
  EXPECT_EQ(cachecar.get("/t/new").header("Cache-Status"), "cachecar; fwd=bypass");

  auto old = in_flight.get();
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(old.header("Cache-Status"), "cachecar; fwd=miss; stored")
      << "begun under the caching route";
  EXPECT_EQ(reloads(cachecar, "failed"), 0u);
  EXPECT_TRUE(cachecar.process().running());
}

TEST(Reload, AConfigMapSymlinkSwapIsPickedUpAndABadFileChangesNothing) {
  Origin origin;
  Cachecar cachecar(origin.port(), kCaching, kTokenEnv, /*configmap_layout=*/true);
  ASSERT_EQ(cachecar.get("/t/a").header("Cache-Status"), "cachecar; fwd=miss; stored");

  cachecar.rewrite_config(kBypass);
  ASSERT_TRUE(eventually([&] { return route_mode(cachecar) == "bypass"; })) << cachecar.log();
  EXPECT_EQ(cachecar.get("/t/a").header("Cache-Status"), "cachecar; fwd=bypass");
  EXPECT_EQ(
      json::parse(cachecar.admin("GET", "/admin/config", {}, kAuth).body)["routes_generation"], 2);

  // Line 12 of the composed file (kTestBase, then the route) is the route's ttl.
  cachecar.rewrite_config(routes_config("    mode: cache-aside\n    ttl: 5 parsecs\n"));
  ASSERT_TRUE(eventually([&] { return reloads(cachecar, "failed") >= 1; })) << cachecar.log();
  EXPECT_EQ(route_mode(cachecar), "bypass") << "the running config stays";
  EXPECT_EQ(cachecar.get("/t/b").header("Cache-Status"), "cachecar; fwd=bypass");

  auto refused = cachecar.admin("POST", "/admin/reload", "", kAuth);
  EXPECT_EQ(refused.status, 422);
  auto body = json::parse(refused.body);
  ASSERT_FALSE(body["errors"].empty());
  EXPECT_THAT(body["errors"][0].get<std::string>(), StartsWith(cachecar.config_path() + ":12:"));
  EXPECT_THAT(body["errors"][0].get<std::string>(), HasSubstr("parsecs"));
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("the running config stays"));
  EXPECT_EQ(body["generation"], 2);
  EXPECT_THAT(cachecar.log(), HasSubstr("parsecs"));
}

TEST(Reload, AdminReloadNeedsTheTokenAndNamesSettingsThatNeedARestart) {
  Origin origin;
  Cachecar cachecar(origin.port(), kCaching, kTokenEnv);
  EXPECT_EQ(cachecar.admin("POST", "/admin/reload").status, 401);
  EXPECT_EQ(cachecar.admin("POST", "/admin/reload", "", {{"Authorization", "Bearer reload-s3creT"}})
                .status,
            401);
  EXPECT_EQ(cachecar.admin("GET", "/admin/reload").status, 405);

  auto same = cachecar.admin("POST", "/admin/reload", "", kAuth);
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(json::parse(same.body)["restart_required"], json::array());

  cachecar.rewrite_config(kCaching + "limits: { origin_timeout: 3s }\n");
  auto reloaded = cachecar.admin("POST", "/admin/reload", "", kAuth);
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;
  auto body = json::parse(reloaded.body);
  EXPECT_EQ(body["reloaded"], true);
  EXPECT_EQ(body["routes"], 1);
  EXPECT_THAT(body["restart_required"], Contains("limits"));
  EXPECT_EQ(json::parse(
                cachecar.admin("GET", "/admin/config", {}, kAuth).body)["limits"]["origin_timeout"],
            "5s")
      << "limits apply from the next start";
  // What is filled now says which route table it was filled under.
  cachecar.get("/t/after-reload");
  auto key = json::parse(
      cachecar.admin("GET", "/admin/keys/explain?path=/t/after-reload", {}, kAuth).body)["key"];
  std::string encoded;
  for (char ch : key.get<std::string>())
    encoded += ch == ':' ? std::string("%3A") : std::string(1, ch);
  auto entry = json::parse(cachecar.admin("GET", "/admin/entries/" + encoded, {}, kAuth).body);
  EXPECT_EQ(entry["memory"]["generation"], body["generation"]) << entry.dump();
}

TEST(Reload, UnderLoadNoRequestFails) {
  Origin origin;
  Cachecar cachecar(origin.port(), kCaching, kTokenEnv);
  const std::string url = "http://127.0.0.1:" + std::to_string(cachecar.port()) + "/t/load";
  auto load = std::async(std::launch::async, [&] {
    return run_command({"/usr/bin/wrk", "-t1", "-c16", "-d3s", url}, std::chrono::seconds(20));
  });
  // Reload again and again while wrk runs, switching the route's policy.
  int reloaded = 0;
  const auto until = Steady::now() + std::chrono::milliseconds(2500);
  while (Steady::now() < until) {
    cachecar.rewrite_config(reloaded % 2 == 0 ? kBypass : kCaching);
    if (cachecar.admin("POST", "/admin/reload", "", kAuth).status == 200) ++reloaded;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto result = load.get();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("requests in"));
  EXPECT_EQ(result.output.find("Non-2xx or 3xx responses"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("Socket errors"), std::string::npos) << result.output;
  EXPECT_GE(reloaded, 20);
  EXPECT_EQ(reloads(cachecar, "failed"), 0u);
  std::cout << "[ reload under load ] " << reloaded << " reloads during wrk:\n" << result.output;
}

}  // namespace
}  // namespace cachecar::testing
