// appendJsonString / appendJsonNumber: the hand-written JSON encoding used on the hot path must
// always produce a document a strict parser accepts, whatever bytes it is given.
#include "core/json_text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <string>

namespace aigw {
namespace {

std::string encoded(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

// Parses the encoded string back with nlohmann (which rejects ill-formed UTF-8).
std::string roundTrip(std::string_view s) { return nlohmann::json::parse(encoded(s)).get<std::string>(); }

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(encoded("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(encoded("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(encoded(std::string("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(encoded("\x7f"), "\"\x7f\"");
  EXPECT_EQ(roundTrip(std::string("x\0y", 3)), std::string("x\0y", 3));
}

TEST(JsonText, PassesValidUtf8Through) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8";
  EXPECT_EQ(encoded(text), "\"" + text + "\"");
  EXPECT_EQ(roundTrip(text), text);
}

TEST(JsonText, ReplacesIllFormedUtf8SoTheOutputIsValidJson) {
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(roundTrip("a\xff" "b"), "a" + replacement + "b");
  EXPECT_EQ(roundTrip("\x80"), replacement);                       // lone continuation byte
  EXPECT_EQ(roundTrip("\xc3"), replacement);                       // truncated at the end
  EXPECT_EQ(roundTrip("\xc3" "A"), replacement + "A");             // truncated before ASCII
  EXPECT_EQ(roundTrip("\xc0\xaf"), replacement + replacement);     // overlong '/'
  EXPECT_EQ(roundTrip("\xed\xa0\x80"), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(roundTrip("\xf4\x90\x80\x80").size(), 4 * replacement.size());       // above U+10FFFF
  EXPECT_EQ(roundTrip("\xe2\x82" "\"x"), replacement + "\"x");     // truncated before a quote
}

TEST(JsonText, NumbersAreValidJson) {
  std::string out;
  appendJsonNumber(out, int64_t{-42});
  out += ",";
  appendJsonNumber(out, std::numeric_limits<int64_t>::min());
  out += ",";
  appendJsonNumber(out, 0.25);
  out += ",";
  appendJsonNumber(out, std::numeric_limits<double>::quiet_NaN());
  out += ",";
  appendJsonNumber(out, std::numeric_limits<double>::infinity());
  auto j = nlohmann::json::parse("[" + out + "]");
  EXPECT_EQ(j[0], -42);
  EXPECT_EQ(j[1], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(j[2], 0.25);
  EXPECT_EQ(j[3], 0);
  EXPECT_EQ(j[4], 0);
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

// Found by the api_body fuzz target: only the first copy was replaced, so a parser that keeps
// the last one (nlohmann, Python) still read the client's name.
TEST(ReplaceTopLevelString, ReplacesEveryCopyOfARepeatedKey) {
  std::string out;
  ASSERT_TRUE(replaceTopLevelString(R"({"model":"a","messages":[],"model":"b"})", "model", "up", &out));
  EXPECT_EQ(out, R"({"model":"up","messages":[],"model":"up"})");
}

// A key spelled with escapes may be the key itself; the caller re-encodes instead.
TEST(ReplaceTopLevelString, RefusesKeysSpelledWithEscapes) {
  std::string out = "unchanged";
  EXPECT_FALSE(replaceTopLevelString(R"({"mo\u0064el":"a","model":"b"})", "model", "up", &out));
  EXPECT_FALSE(replaceTopLevelString(R"({"model":"b","x\"y":1})", "model", "up", &out));
  EXPECT_EQ(out, "unchanged");
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
