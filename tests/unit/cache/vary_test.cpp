#include "cache/vary.hpp"

#include <gtest/gtest.h>

#include <map>

#include "cache/field_lines.hpp"

namespace cachecar::cache {
namespace {

using Map = std::map<std::string, std::string>;

class Headers final : public HeaderSource {
 public:
  explicit Headers(Map h) : h_(std::move(h)) {}
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = h_.find(std::string(name));
    if (it == h_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> h_;
};

const std::string kKey = "prod:-:page:home:-:v1";
const std::string kFingerprint = "prod\n-\npage\nhome\n\n";

TEST(Vary, AVariantKeyExtendsTheRouteKeyAndItsFingerprint) {
  auto placement =
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", "en"}}));
  EXPECT_EQ(placement.primary, kKey);
  EXPECT_EQ(placement.key.substr(0, kKey.size() + 1), kKey + "~");
  EXPECT_EQ(placement.key.size(), kKey.size() + 17);
  EXPECT_EQ(placement.fingerprint.substr(0, kFingerprint.size()), kFingerprint);
  EXPECT_NE(placement.fingerprint.find("accept-language:=en"), std::string::npos);
}

TEST(Vary, DifferentValuesAbsentHeadersAndEmptyOnesAreDifferentVariants) {
  auto en =
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", "en"}})).key;
  auto fr =
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", "fr"}})).key;
  auto absent = place(kKey, kFingerprint, {"accept-language"}, Headers(Map{})).key;
  auto empty =
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", ""}})).key;
  EXPECT_NE(en, fr);
  EXPECT_NE(absent, empty);
  EXPECT_EQ(
      en,
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", "en"}})).key);
}

TEST(Vary, PlacingFromAVariantKeyStartsAgainFromTheRouteKey) {
  auto first =
      place(kKey, kFingerprint, {"accept-language"}, Headers(Map{{"accept-language", "en"}}));
  auto again = place(first.key, first.fingerprint, {"accept-language", "x-device"},
                     Headers(Map{{"accept-language", "en"}, {"x-device", "phone"}}));
  EXPECT_EQ(again.primary, kKey);
  EXPECT_EQ(again.key.size(), kKey.size() + 17) << "one suffix, not two";
  EXPECT_EQ(again.fingerprint.find("accept-language:=en"),
            again.fingerprint.rfind("accept-language:=en"));
}

TEST(Vary, NoVaryLeavesKeyAndFingerprintAlone) {
  auto placement = place(kKey, kFingerprint, {}, Headers(Map{}));
  EXPECT_EQ(placement.key, kKey);
  EXPECT_EQ(placement.fingerprint, kFingerprint);
  EXPECT_TRUE(placement.primary.empty());
}

// Issue 10: a header sent on two lines is one list at the origin; keying
// only the first line let "en" + "de" fill the entry plain "en" reads.
TEST(Vary, EveryLineOfAVariedHeaderIsKeyed) {
  const FieldLines::Lines two_lines{{"accept-language", "en"}, {"Accept-Language", "de"}};
  const FieldLines::Lines one_list{{"accept-language", "en, de"}};
  const FieldLines::Lines first_only{{"accept-language", "en"}};
  auto key_of = [](const FieldLines::Lines& lines) {
    return place(kKey, kFingerprint, {"accept-language"}, FieldLines(lines)).key;
  };
  EXPECT_EQ(key_of(two_lines), key_of(one_list));
  EXPECT_NE(key_of(two_lines), key_of(first_only));
}

}  // namespace
}  // namespace cachecar::cache
