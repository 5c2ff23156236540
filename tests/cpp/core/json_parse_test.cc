// parseJson: the same documents, with the same number types, as nlohmann's parser, and the
// same refusals. Each case states what it expects and is also checked against nlohmann.
#include "core/json_parse.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <clocale>
#include <string>

namespace aigw {
namespace {

using json = nlohmann::json;

struct Case {
  const char* name;
  std::string text;
  bool ok;
  json::value_t type = json::value_t::discarded;  // of the root, when ok
};

class JsonParseCases : public ::testing::TestWithParam<Case> {};

TEST_P(JsonParseCases, AgreesWithNlohmann) {
  const Case& c = GetParam();
  const json ours = parseJson(c.text);
  const json theirs = json::parse(c.text, nullptr, false);
  EXPECT_EQ(!ours.is_discarded(), c.ok);
  EXPECT_EQ(theirs.is_discarded(), ours.is_discarded());
  if (c.ok) {
    EXPECT_EQ(ours.type(), c.type);
    EXPECT_EQ(ours.dump(), theirs.dump());
  }
}

const Case kCases[] = {
    {"object", R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})", true, json::value_t::object},
    {"spaces", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", true, json::value_t::object},
    {"empty_containers", R"([{},[],{"a":{}}])", true, json::value_t::array},
    {"unsigned", "18446744073709551615", true, json::value_t::number_unsigned},
    {"unsigned_overflow_is_float", "18446744073709551616", true, json::value_t::number_float},
    {"negative", "-9223372036854775808", true, json::value_t::number_integer},
    {"negative_overflow_is_float", "-9223372036854775809", true, json::value_t::number_float},
    {"minus_zero_integer", "-0", true, json::value_t::number_integer},
    {"float", "-1.25e-3", true, json::value_t::number_float},
    {"float_overflow", "1e400", false},
    {"float_underflow", "1e-400", true, json::value_t::number_float},
    {"leading_zero", "01", false},
    {"bare_point", "1.", false},
    {"bare_exponent", "1e", false},
    {"lone_minus", "-", false},
    {"plus_sign", "+1", false},
    {"escapes", R"("\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000")", true, json::value_t::string},
    {"lone_high_surrogate", R"("\ud800")", false},
    {"lone_low_surrogate", R"("\udc00")", false},
    {"high_then_no_low", R"("\ud800\u0041")", false},
    {"bad_escape", R"("\x")", false},
    {"short_unicode_escape", R"("\u00")", false},
    {"control_character", "\"a\tb\"", false},
    {"utf8_valid", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"", true, json::value_t::string},
    {"utf8_overlong", "\"\xc0\xaf\"", false},
    {"utf8_surrogate", "\"\xed\xa0\x80\"", false},
    {"utf8_above_max", "\"\xf4\x90\x80\x80\"", false},
    {"utf8_truncated", "\"\xe2\x82\"", false},
    {"long_ascii_run", "\"" + std::string(1000, 'x') + "\\n" + std::string(17, 'y') + "\"", true,
     json::value_t::string},
    {"unterminated_string", "\"abc", false},
    {"byte_order_mark", "\xef\xbb\xbf{}", true, json::value_t::object},
    {"half_byte_order_mark", "\xef\xbb{}", false},
    {"trailing_comma", "[1,]", false},
    {"trailing_garbage", "{} x", false},
    {"two_values", "1 2", false},
    {"missing_colon", R"({"a" 1})", false},
    {"key_not_string", "{1:2}", false},
    {"unclosed", R"({"a":[1,2)", false},
    {"mismatched", "[1}", false},
    {"empty", "", false},
    {"only_space", "  ", false},
    {"literal_prefix", "tru", false},
    {"literal_suffix", "nullx", false},
    {"nul_inside", std::string("[1,\0]", 5), false},
    {"nul_ends_the_text", std::string("{\"a\":12}\0 trailing", 15), true, json::value_t::object},
    {"nul_after_a_number", std::string("12\0x", 4), true, json::value_t::number_unsigned},
};

INSTANTIATE_TEST_SUITE_P(All, JsonParseCases, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(JsonParse, RepeatedKeyKeepsTheLastValue) {
  const json doc = parseJson(R"({"a":{"x":1},"b":2,"a":[3]})");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.dump(), R"({"a":[3],"b":2})");
}

TEST(JsonParse, DeepNestingNeedsNoRecursion) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const json doc = parseJson(deep);
  EXPECT_TRUE(doc.is_array());
}

TEST(JsonParse, FloatsIgnoreTheProcessLocale) {
  // A locale with a decimal comma must not change how "1.5" reads (nlohmann swaps in the
  // locale's point for its strtod; parseJson reads in the C locale).
  const char* was = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = was != nullptr ? was : "C";
  const bool switched = std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr;
  const json doc = parseJson("[1.5]");
  std::setlocale(LC_NUMERIC, saved.c_str());
  ASSERT_TRUE(doc.is_array());
  EXPECT_DOUBLE_EQ(doc[0].get<double>(), 1.5);
  if (!switched) GTEST_LOG_(INFO) << "de_DE.UTF-8 is not installed: checked in the C locale only";
}

}  // namespace
}  // namespace aigw
