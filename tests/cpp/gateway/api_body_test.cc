// summarizeApiBody: the one-pass reading of an API body says what the parsed document says,
// and flags what the gateway refuses (a repeated key, nesting past the limit). The cases come
// from the api_body fuzz target (tests/fuzz).
#include "gateway/api_body.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

using Problem = ApiBodySummary::MessageProblem;
using value_t = nlohmann::json::value_t;

TEST(ApiBody, ReadsTheFieldsThatDecideRouting) {
  const ApiBodySummary s =
      summarizeApiBody(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(s.valid);
  EXPECT_EQ(s.root, value_t::object);
  EXPECT_EQ(s.model_value, "m");
  EXPECT_TRUE(s.stream_value);
  EXPECT_EQ(s.message_count, 1u);
  EXPECT_EQ(s.problem, Problem::None);
}

// A repeated key is refused wherever it is: readers disagree on which copy counts (the fuzz
// target found the summary and the document disagreeing before the rule was to refuse).
TEST(ApiBody, ARepeatedKeyAnywhereIsFlaggedWithItsName) {
  struct Case {
    const char* body;
    const char* key;
  };
  for (const Case& c : {Case{R"({"model":"m","stream":true,"stream":null})", "stream"},
                        Case{R"({"model":"first","model":["second"]})", "model"},
                        Case{R"({"model":"m","messages":[{"role":"user"}],"messages":[]})", "messages"},
                        Case{R"({"messages":[{"role":"wizard","role":"user"}]})", "role"},
                        Case{R"({"messages":[{"role":"user","content":{"role":1,"x":2,"role":3}}]})", "role"},
                        Case{R"({"a":{"b":{"c":1,"c":2}}})", "c"}}) {
    const ApiBodySummary s = summarizeApiBody(c.body);
    EXPECT_TRUE(s.duplicate_key) << c.body;
    EXPECT_FALSE(s.valid) << c.body;
    EXPECT_EQ(s.duplicate_key_name, c.key) << c.body;
  }
  // The same key in sibling objects is no repetition.
  const ApiBodySummary s = summarizeApiBody(R"({"messages":[{"role":"user"},{"role":"user"}],"x":{"role":1}})");
  EXPECT_FALSE(s.duplicate_key);
  EXPECT_TRUE(s.valid);
}

TEST(ApiBody, ManyKeysInOneObjectAreCheckedInLinearTime) {
  std::string body = "{";
  for (int i = 0; i < 50000; ++i) body += "\"k" + std::to_string(i) + "\":1,";
  body += "\"k49999\":2}";
  const ApiBodySummary s = summarizeApiBody(body);
  EXPECT_TRUE(s.duplicate_key);
  EXPECT_EQ(s.duplicate_key_name, "k49999");
}

TEST(ApiBody, ReportsTheFirstBadMessage) {
  const ApiBodySummary s = summarizeApiBody(R"({"messages":[{"role":"user"},{"content":"x"},{"role":5}]})");
  EXPECT_EQ(s.problem, Problem::MissingRole);
  EXPECT_EQ(s.problem_index, 1u);
  EXPECT_EQ(s.message_count, 3u);
}

// Copying or dumping a document recurses once per level; a few megabytes of '[' overflowed a
// worker's stack (the model rename's fallback, transforms, guardrails all copy or dump).
TEST(ApiBody, RefusesDocumentsNestedDeeperThanTheLimit) {
  const auto nested = [](int depth) {
    return R"({"model":"m","x":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  ApiBodySummary s = summarizeApiBody(nested(kMaxJsonDepth));
  EXPECT_TRUE(s.valid);
  EXPECT_FALSE(s.too_deep);
  s = summarizeApiBody(nested(kMaxJsonDepth + 1));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.too_deep);
  s = summarizeApiBody(std::string(1 << 20, '['));  // cut short: refused as too deep all the same
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.too_deep);
}

}  // namespace
}  // namespace aigw
