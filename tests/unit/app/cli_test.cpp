#include "app/cli.hpp"

#include <gtest/gtest.h>

namespace cachecar::app {
namespace {

TEST(Cli, DefaultsToTheDefaultConfigPath) {
  std::string error;
  auto options = parse_cli({}, error);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config_path, kDefaultConfigPath);
  EXPECT_FALSE(options->config_given);
  EXPECT_FALSE(options->check);
}

TEST(Cli, ReadsConfigAndCheck) {
  std::string error;
  auto options = parse_cli({"--config", "x.yaml", "--check"}, error);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config_path, "x.yaml");
  EXPECT_TRUE(options->config_given);
  EXPECT_TRUE(options->check);
}

TEST(Cli, RejectsUnknownAndIncompleteArguments) {
  std::string error;
  EXPECT_FALSE(parse_cli({"--frobnicate"}, error));
  EXPECT_NE(error.find("--frobnicate"), std::string::npos);
  EXPECT_FALSE(parse_cli({"--config"}, error));
  EXPECT_NE(error.find("needs a file path"), std::string::npos);
}

}  // namespace
}  // namespace cachecar::app
