// The command line of SPEC §2, run as a user would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixture.hpp"
#include "support/process.hpp"

namespace cachecar::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(Cli, CheckAcceptsTheShippedConfigs) {
  for (const char* file : {"/config/cachecar.yaml", "/config/examples/full.yaml"}) {
    std::string path = std::string(CACHECAR_SOURCE_DIR) + file;
    auto result = run_command({CACHECAR_BINARY, "--config", path, "--check"}, seconds(10));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, HasSubstr(path + ": ok"));
  }
}

TEST(Cli, CheckPrintsEveryProblemWithLineAndColumn) {
  TempDir dir;
  std::string path = dir.write("broken.yaml",
                               "listen: 127.0.0.1:8080\n"
                               "workers: many\n"
                               "routes:\n"
                               "  - name: product\n"
                               "    match: { path: \"/products/{id:float}\" }\n"
                               "    tll: 5m\n");
  auto result = run_command({CACHECAR_BINARY, "--config", path, "--check"}, seconds(10));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr(path + ":2:10: workers: expected a whole number"));
  EXPECT_THAT(result.output,
              HasSubstr(path + ":5:20: routes[0].match.path: unknown route constraint 'float'"));
  EXPECT_THAT(result.output, HasSubstr(path + ":6:5: unknown key 'routes[0].tll'"));
}

TEST(Cli, RunRefusesABadConfigAndSaysWhy) {
  TempDir dir;
  std::string path = dir.write("bad.yaml", "listen: nowhere\n");
  auto result = run_command({CACHECAR_BINARY, "--config", path}, seconds(10));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr(path + ":1:9: listen: expected host:port"));
}

// Issue 11: a pipeline checks the file where the pod's secrets are not.
TEST(Cli, CheckNeedsNoSecretsAndSaysWhichTheRunWillRead) {
  TempDir dir;
  std::string path = dir.write("pod.yaml",
                               "admin: { listen: 0.0.0.0:9901, token_env: POD_ADMIN_TOKEN }\n"
                               "health: { listen: 0.0.0.0:9902 }\n"
                               "invalidation: { secret_env: POD_BUS_SECRET }\n");
  auto check = run_command({CACHECAR_BINARY, "--config", path, "--check"}, seconds(10));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr(path + ": ok"));
  EXPECT_THAT(
      check.output,
      HasSubstr("POD_ADMIN_TOKEN (the admin token: admin.listen 0.0.0.0:9901 is not a loopback"));
  EXPECT_THAT(check.output, HasSubstr("POD_BUS_SECRET (invalidation.secret_env"));
  // Running it without the token is still refused: the admin port would be open.
  auto run = run_command({CACHECAR_BINARY, "--config", path}, seconds(10));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(
      run.output,
      HasSubstr(path +
                ":1:18: admin.listen: 0.0.0.0 is not a loopback address and POD_ADMIN_TOKEN"));
}

TEST(Cli, CheckStillRejectsListenersThatShareAPort) {
  TempDir dir;
  std::string path =
      dir.write("clash.yaml", "listen: 127.0.0.1:8080\nhealth: { listen: 0.0.0.0:8080 }\n");
  auto check = run_command({CACHECAR_BINARY, "--config", path, "--check"}, seconds(10));
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.output,
              HasSubstr(path + ":2:19: health.listen: 0.0.0.0:8080 takes the port of listen"));
}

TEST(Cli, MissingConfigFileIsAnError) {
  auto result = run_command({CACHECAR_BINARY, "--config", "/nonexistent/cachecar.yaml", "--check"},
                            seconds(10));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("cannot read the config file"));
}

TEST(Cli, WithoutAConfigFileTheEmbeddedDefaultIsUsed) {
  TempDir empty;
  auto result = run_command({CACHECAR_BINARY, "--check"}, seconds(10), empty.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("<embedded default>: ok"));
}

TEST(Cli, VersionHelpAndUnknownArguments) {
  auto version = run_command({CACHECAR_BINARY, "--version"}, seconds(10));
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.output, HasSubstr("cachecar 0."));
  auto help = run_command({CACHECAR_BINARY, "--help"}, seconds(10));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("--check"));
  auto unknown = run_command({CACHECAR_BINARY, "--bogus"}, seconds(10));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown argument '--bogus'"));
}

TEST(Cli, EnvironmentOverridesTheListenAddress) {
  Origin origin;
  std::uint16_t port = free_port();
  Cachecar cachecar(origin.port(), kTestBase,
                    {{"CACHECAR_LISTEN", "127.0.0.1:" + std::to_string(port)}});
  EXPECT_EQ(http_request(port, "GET", "/products/1").status, 200);
}

}  // namespace
}  // namespace cachecar::testing
