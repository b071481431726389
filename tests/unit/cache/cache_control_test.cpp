#include "cache/cache_control.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "cache/http_date.hpp"
#include "cache/targeted_field.hpp"

namespace cachecar::cache {
namespace {

using std::chrono::seconds;

TEST(CacheControl, ParsesDirectivesCaseInsensitively) {
  auto d = parse_cache_control("Public, MAX-AGE=60, s-maxage=\"120\", must-revalidate");
  EXPECT_TRUE(d.present);
  EXPECT_TRUE(d.is_public);
  EXPECT_EQ(d.max_age, seconds(60));
  EXPECT_EQ(d.s_maxage, seconds(120));
  EXPECT_TRUE(d.must_revalidate);
  EXPECT_FALSE(d.no_store);
}

TEST(CacheControl, InvalidDeltaSecondsReadAsZero) {
  EXPECT_EQ(parse_cache_control("max-age=abc").max_age, seconds(0));
  EXPECT_EQ(parse_cache_control("max-age=-5").max_age, seconds(0));
  EXPECT_EQ(parse_cache_control("max-age=99999999999999999999").max_age, seconds(2147483648LL));
}

TEST(CacheControl, Rfc5861Extensions) {
  auto d = parse_cache_control("max-age=1, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_EQ(d.stale_while_revalidate, seconds(30));
  EXPECT_EQ(d.stale_if_error, seconds(600));
}

struct DirectiveCase {
  const char* name;
  const char* field;
  std::optional<long long> max_age, s_maxage, min_fresh, max_stale;
  bool no_store, no_cache, is_private, max_stale_any;
};

class DirectiveTable : public ::testing::TestWithParam<DirectiveCase> {};

TEST_P(DirectiveTable, Parses) {
  const auto& c = GetParam();
  auto d = parse_cache_control(c.field);
  auto secs = [](std::optional<long long> v) {
    return v ? std::optional<seconds>(seconds(*v)) : std::nullopt;
  };
  EXPECT_EQ(d.max_age, secs(c.max_age)) << c.field;
  EXPECT_EQ(d.s_maxage, secs(c.s_maxage)) << c.field;
  EXPECT_EQ(d.min_fresh, secs(c.min_fresh)) << c.field;
  EXPECT_EQ(d.max_stale, secs(c.max_stale)) << c.field;
  EXPECT_EQ(d.no_store, c.no_store) << c.field;
  EXPECT_EQ(d.no_cache, c.no_cache) << c.field;
  EXPECT_EQ(d.is_private, c.is_private) << c.field;
  EXPECT_EQ(d.max_stale_any, c.max_stale_any) << c.field;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9111, DirectiveTable,
    ::testing::Values(
        DirectiveCase{"plain", "max-age=60", 60, {}, {}, {}, false, false, false, false},
        DirectiveCase{
            "quoted_number", "max-age=\"60\"", 60, {}, {}, {}, false, false, false, false},
        DirectiveCase{
            "spaces", "  max-age=60 ,  no-store ", 60, {}, {}, {}, true, false, false, false},
        DirectiveCase{
            "upper_case", "NO-CACHE, S-MAXAGE=9", {}, 9, {}, {}, false, true, false, false},
        DirectiveCase{"duplicate_first_wins",
                      "max-age=10, max-age=20",
                      10,
                      {},
                      {},
                      {},
                      false,
                      false,
                      false,
                      false},
        DirectiveCase{"negative_is_zero", "s-maxage=-1", {}, 0, {}, {}, false, false, false, false},
        DirectiveCase{"fraction_is_zero", "max-age=1.5", 0, {}, {}, {}, false, false, false, false},
        DirectiveCase{"empty_value_is_zero", "max-age=", 0, {}, {}, {}, false, false, false, false},
        DirectiveCase{"private_with_fields",
                      "private=\"a, b\", max-age=5",
                      5,
                      {},
                      {},
                      {},
                      false,
                      false,
                      false,
                      false},
        DirectiveCase{
            "private_empty_list", "private=\"\"", {}, {}, {}, {}, false, false, true, false},
        DirectiveCase{"no_cache_with_field",
                      "no-cache=\"Set-Cookie\"",
                      {},
                      {},
                      {},
                      {},
                      false,
                      false,
                      false,
                      false},
        DirectiveCase{
            "no_cache_comma_only", "no-cache=\" , \"", {}, {}, {}, {}, false, true, false, false},
        DirectiveCase{
            "request_min_fresh", "min-fresh=30", {}, {}, 30, {}, false, false, false, false},
        DirectiveCase{
            "request_max_stale_any", "max-stale", {}, {}, {}, {}, false, false, false, true},
        DirectiveCase{
            "request_max_stale_n", "max-stale=120", {}, {}, {}, 120, false, false, false, false},
        DirectiveCase{"unknown_ignored",
                      "foo=bar, max-age=7, baz",
                      7,
                      {},
                      {},
                      {},
                      false,
                      false,
                      false,
                      false},
        DirectiveCase{"empty_items", ",,max-age=8,,", 8, {}, {}, {}, false, false, false, false},
        DirectiveCase{
            "space_before_equals", "max-age =60", {}, {}, {}, {}, false, false, false, false},
        DirectiveCase{
            "space_after_equals", "max-age= 60", 0, {}, {}, {}, false, false, false, false},
        DirectiveCase{"quoted_lookalike",
                      "ext=\"max-age=3600\", max-age=1",
                      1,
                      {},
                      {},
                      {},
                      false,
                      false,
                      false,
                      false},
        DirectiveCase{
            "leading_zeros", "max-age=003600", 3600, {}, {}, {}, false, false, false, false},
        DirectiveCase{
            "single_quotes", "max-age='3600'", 0, {}, {}, {}, false, false, false, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CacheControl, QualifiedFormsListTheirFieldsInLowerCase) {
  auto d = parse_cache_control(
      "private=\"Set-Cookie, X-User\", no-cache=\"X-Trace\", no-cache=\"x-trace\"");
  EXPECT_EQ(d.private_fields, (std::vector<std::string>{"set-cookie", "x-user"}));
  EXPECT_EQ(d.no_cache_fields, (std::vector<std::string>{"x-trace"}))
      << "a name listed twice counts once";
  EXPECT_FALSE(d.is_private);
  EXPECT_FALSE(d.no_cache);
  // A comma inside the quotes does not split the directive list.
  auto quoted = parse_cache_control("private=\"a, b\", max-age=5");
  EXPECT_EQ(quoted.private_fields.size(), 2u);
  EXPECT_EQ(quoted.max_age, seconds(5));
}

struct TargetedCase {
  const char* name;
  const char* field;
  bool valid;
};

class TargetedFieldTable : public ::testing::TestWithParam<TargetedCase> {};

TEST_P(TargetedFieldTable, IsAStructuredFieldDictionaryWithTypedDirectives) {
  EXPECT_EQ(valid_targeted_field(GetParam().field), GetParam().valid) << GetParam().field;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9213, TargetedFieldTable,
    ::testing::Values(TargetedCase{"max_age", "max-age=3600", true},
                      TargetedCase{"several",
                                   "max-age=60, stale-while-revalidate=30, must-revalidate", true},
                      TargetedCase{"extension", "foobar, max-age=3600", true},
                      TargetedCase{"no_store", "no-store", true},
                      TargetedCase{"private_fields", "private=\"set-cookie\"", true},
                      TargetedCase{"parameters", "max-age=60;x=1, ext=(a b);y", true},
                      TargetedCase{"empty", "", true},
                      TargetedCase{"garbage_member", "max-age=10000, &&&&&", false},
                      TargetedCase{"string_max_age", "max-age=\"10000\"", false},
                      TargetedCase{"decimal_max_age", "max-age=1.5", false},
                      TargetedCase{"valued_no_store", "no-store=1", false},
                      TargetedCase{"upper_case_key", "MaX-aGe=3600", false},
                      TargetedCase{"space_before_equals", "max-age =100", false},
                      TargetedCase{"space_after_equals", "max-age= 100", false},
                      TargetedCase{"trailing_comma", "max-age=1,", false},
                      TargetedCase{"unterminated_string", "ext=\"abc", false},
                      TargetedCase{"too_many_digits", "max-age=9999999999999999", false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CacheControl, RepeatedFieldLinesFold) {
  CacheDirectives d;
  parse_cache_control("no-store", d);
  parse_cache_control("max-age=3", d);
  EXPECT_TRUE(d.no_store);
  EXPECT_EQ(d.max_age, seconds(3));
}

TEST(HttpDate, ParsesTheThreeFormats) {
  auto expected = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("0"));
}

}  // namespace
}  // namespace cachecar::cache
