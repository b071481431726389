// The status page at GET /admin (issue 6): served as self-contained HTML,
// escaped, and rendered by a real browser (Debian's headless Chromium),
// whose screenshot is kept in build/<preset>/test-artifacts/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string page_config(const RedisServer& redis) {
  return std::string(kTestBase) + "store:\n  redis: { url: \"" + redis.url() +
         "\", timeout: 200ms }\n" +
         "invalidation:\n  owners: { product: catalog-service }\n"
         "routes:\n"
         "  - name: product\n"
         "    match: { path: \"/products/{id:int}\" }\n"
         "    entity: product\n"
         "    ttl: 5m\n";
}

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cachecar_.get("/products/1");
    cachecar_.get("/products/1");
    cachecar_.get("/products/1");
    cachecar_.get("/products/2");
    // An event whose detail carries markup: the page must show it as text.
    redis_.command(
        {"PUBLISH", "cachecar:invalidate",
         R"({"type":"entity-updated","entity":"<b>bold</b>","id":"1","source":"intruder"})"});
    eventually([&] {
      return json::parse(
                 cachecar_.admin("GET", "/admin/stats").body)["bus"]["rejected"]["not-owner"] != 0;
    });
  }
  RedisServer redis_;
  Origin origin_;
  Cachecar cachecar_{origin_.port(), page_config(redis_)};
};

TEST_F(StatusPageTest, IsSelfContainedEscapedHtmlWithTheCounters) {
  auto page = cachecar_.admin("GET", "/admin");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page.header("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(page.body, HasSubstr("<td>product</td>"));
  EXPECT_THAT(page.body, HasSubstr("50.0%")) << "two hits of four requests";
  EXPECT_THAT(page.body, HasSubstr("subscribed"));
  EXPECT_THAT(page.body, HasSubstr("not-owner"));
  EXPECT_THAT(page.body, HasSubstr("&lt;b&gt;bold&lt;/b&gt;"));
  EXPECT_THAT(page.body, Not(HasSubstr("<b>bold</b>")));
  EXPECT_THAT(page.body, Not(HasSubstr("<script")));
  EXPECT_THAT(page.body, Not(HasSubstr("src=\"http")));
  EXPECT_EQ(cachecar_.admin("POST", "/admin", "{}").status, 405);
}

TEST_F(StatusPageTest, RendersInHeadlessChromiumAndTheScreenshotIsKept) {
  namespace fs = std::filesystem;
  ASSERT_TRUE(fs::exists("/usr/bin/chromium"))
      << "scripts/install-deps.sh installs Debian's chromium";
  TempDir profile;
  const std::string url = "http://127.0.0.1:" + std::to_string(cachecar_.admin_port()) + "/admin";
  const std::vector<std::string> browser{"/usr/bin/chromium",
                                         "--headless=new",
                                         "--no-sandbox",
                                         "--disable-gpu",
                                         "--disable-dev-shm-usage",
                                         "--no-first-run",
                                         "--user-data-dir=" + profile.path()};
  // The DOM the browser built: the table and cards are there once rendered.
  auto dom_command = browser;
  dom_command.insert(dom_command.end(), {"--dump-dom", url});
  auto dom = run_command(dom_command, std::chrono::seconds(90));
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  EXPECT_THAT(dom.output, HasSubstr("hit ratio"));
  EXPECT_THAT(dom.output, HasSubstr("<td>product</td>"));
  EXPECT_THAT(dom.output, HasSubstr("&lt;b&gt;bold&lt;/b&gt;")) << "rendered as text, not markup";

  fs::create_directories(TEST_ARTIFACT_DIR);
  const std::string shot = std::string(TEST_ARTIFACT_DIR) + "/status-page.png";
  fs::remove(shot);
  auto shot_command = browser;
  shot_command.insert(shot_command.end(), {"--window-size=1280,900", "--screenshot=" + shot, url});
  auto taken = run_command(shot_command, std::chrono::seconds(90));
  ASSERT_EQ(taken.exit_code, 0) << taken.output;
  ASSERT_TRUE(fs::exists(shot)) << taken.output;
  std::ifstream png(shot, std::ios::binary);
  char signature[8] = {};
  png.read(signature, sizeof signature);
  EXPECT_EQ(std::string(signature, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(fs::file_size(shot), 10'000u) << "a blank page would compress to almost nothing";
  std::cout << "[ status page ] screenshot: " << shot << " (" << fs::file_size(shot) << " bytes)\n";
}

}  // namespace
}  // namespace cachecar::testing
