// summarizeApiBody: the one-pass reading of an API body says what the parsed document says,
// repeated keys included (the last copy counts, as in the document later stages and most
// upstreams read). The cases come from the api_body fuzz target (tests/fuzz).
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

TEST(ApiBody, ARepeatedStreamKeyCountsOnlyItsLastValue) {
  const ApiBodySummary s = summarizeApiBody(R"({"model":"m","stream":true,"stream":null})");
  EXPECT_EQ(s.stream.type, value_t::null);
  EXPECT_FALSE(s.stream_value);
}

TEST(ApiBody, ARepeatedModelKeyCountsOnlyItsLastValue) {
  const ApiBodySummary s = summarizeApiBody(R"({"model":"first","model":["second"]})");
  EXPECT_EQ(s.model.type, value_t::array);
  EXPECT_EQ(s.model_value, "");
}

TEST(ApiBody, ARepeatedMessagesKeyCountsOnlyItsLastArray) {
  ApiBodySummary s = summarizeApiBody(R"({"model":"m","messages":[{"role":"user"}],"messages":[]})");
  EXPECT_EQ(s.message_count, 0u);
  s = summarizeApiBody(R"({"messages":[1],"messages":[{"role":"user"}]})");
  EXPECT_EQ(s.message_count, 1u);
  EXPECT_EQ(s.problem, Problem::None);
  s = summarizeApiBody(R"({"messages":[{"role":"user"}],"messages":[{"role":"user"},5]})");
  EXPECT_EQ(s.problem, Problem::NotObject);
  EXPECT_EQ(s.problem_index, 1u);
}

TEST(ApiBody, ARepeatedRoleCountsOnlyItsLastValue) {
  ApiBodySummary s = summarizeApiBody(R"({"messages":[{"role":"wizard","role":"user"}]})");
  EXPECT_EQ(s.problem, Problem::None);
  s = summarizeApiBody(R"({"messages":[{"role":"user"},{"role":"user","content":{"role":1},"role":"wizard"}]})");
  EXPECT_EQ(s.problem, Problem::RoleInvalid);
  EXPECT_EQ(s.problem_index, 1u);
  EXPECT_EQ(s.problem_role, "wizard");
  s = summarizeApiBody(R"({"messages":[{"role":"user","role":{"x":1}}]})");
  EXPECT_EQ(s.problem, Problem::RoleNotString);
  EXPECT_EQ(s.problem_type, value_t::object);
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
