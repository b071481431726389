#include "config/units.hpp"

#include <gtest/gtest.h>

namespace cachecar::config {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
  const char* text;
  std::optional<long long> millis;
};

class DurationTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, Parses) {
  std::string error;
  auto value = parse_duration(GetParam().text, error);
  if (GetParam().millis) {
    ASSERT_TRUE(value) << error;
    EXPECT_EQ(value->count(), *GetParam().millis);
  } else {
    EXPECT_FALSE(value);
    EXPECT_FALSE(error.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Units, DurationTest,
    ::testing::Values(DurationCase{"250ms", 250}, DurationCase{"10s", 10'000},
                      DurationCase{"5m", 300'000}, DurationCase{"1h", 3'600'000},
                      DurationCase{"1.5s", 1'500}, DurationCase{"0", 0},
                      DurationCase{"10", std::nullopt}, DurationCase{"s", std::nullopt},
                      DurationCase{"10 s", std::nullopt}, DurationCase{"-1s", std::nullopt},
                      DurationCase{"10d", std::nullopt}));

TEST(Units, Sizes) {
  std::string error;
  EXPECT_EQ(parse_size("512B", error), 512u);
  EXPECT_EQ(parse_size("16KiB", error), 16u * 1024);
  EXPECT_EQ(parse_size("8MiB", error), 8u * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB", error), 1024ull * 1024 * 1024);
  EXPECT_FALSE(parse_size("16KB", error));
  EXPECT_NE(error.find("KiB"), std::string::npos);
  EXPECT_FALSE(parse_size("lots", error));
}

TEST(Units, PercentagesAndRates) {
  std::string error;
  EXPECT_DOUBLE_EQ(*parse_percent("10%", error), 0.10);
  EXPECT_DOUBLE_EQ(*parse_percent("0%", error), 0.0);
  EXPECT_FALSE(parse_percent("10", error));
  EXPECT_FALSE(parse_percent("101%", error));
  EXPECT_DOUBLE_EQ(*parse_rate("50/s", error), 50.0);
  EXPECT_DOUBLE_EQ(*parse_rate("600/m", error), 10.0);
  EXPECT_FALSE(parse_rate("50", error));
  EXPECT_FALSE(parse_rate("0/s", error));
}

TEST(Units, FormatsRoundTrip) {
  EXPECT_EQ(format_duration(milliseconds(300'000)), "5m");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(format_size(16 * 1024), "16KiB");
  EXPECT_EQ(format_size(1000), "1000B");
}

}  // namespace
}  // namespace cachecar::config
