#include "core/json_text.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

TEST(JsonText, EscapesControlCharactersQuotesAndBackslashes) {
  std::string out;
  appendJsonString(out, std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(ReplaceTopLevelString, SplicesTheValueAndKeepsEveryOtherByte) {
  const std::string body = R"({"seed": 18446744073709551616, "model" : "a", "z":[1,{"model":"x"}]})";
  std::string out;
  ASSERT_TRUE(replaceTopLevelString(body, "model", "gpt-up", &out));
  EXPECT_EQ(out, R"({"seed": 18446744073709551616, "model" : "gpt-up", "z":[1,{"model":"x"}]})");
}

TEST(ReplaceTopLevelString, IgnoresNestedKeysAndKeysInsideStrings) {
  const std::string body = R"({"messages":[{"model":"n"}],"note":"\"model\": \"q\"","model":"a"})";
  std::string out;
  ASSERT_TRUE(replaceTopLevelString(body, "model", "b", &out));
  EXPECT_EQ(out, R"({"messages":[{"model":"n"}],"note":"\"model\": \"q\"","model":"b"})");
}

TEST(ReplaceTopLevelString, ReplacesNonStringValuesAndEscapesTheNewOne) {
  std::string out;
  ASSERT_TRUE(replaceTopLevelString(R"({"model":null})", "model", "a\"b", &out));
  EXPECT_EQ(out, R"({"model":"a\"b"})");
}

TEST(ReplaceTopLevelString, FailsWithoutTheKeyOrOnMalformedInput) {
  std::string out = "unchanged";
  EXPECT_FALSE(replaceTopLevelString(R"({"a":1})", "model", "x", &out));
  EXPECT_FALSE(replaceTopLevelString(R"([{"model":"a"}])", "model", "x", &out));
  EXPECT_FALSE(replaceTopLevelString(R"({"a":"unterminated)", "model", "x", &out));
  EXPECT_FALSE(replaceTopLevelString("", "model", "x", &out));
  EXPECT_EQ(out, "unchanged");
}

}  // namespace
}  // namespace aigw
