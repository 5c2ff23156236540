#include "guardrails/moderation.h"

#include <gtest/gtest.h>

namespace aigw::guardrails {
namespace {

TEST(Moderation, FlaggedResultsBlockAndNameTheirCategories) {
  const CheckResult r = ModerationGuardrail::verdictFor(
      200, R"({"results":[{"flagged":false},{"flagged":true,"categories":{"violence":true,"hate":false,"self-harm":true}}]})");
  EXPECT_EQ(r.verdict, Verdict::Block);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.reason, "flagged by moderation (self-harm, violence)");
}

TEST(Moderation, UnflaggedResultsAllow) {
  const CheckResult r = ModerationGuardrail::verdictFor(200, R"({"results":[{"flagged":false,"categories":{}}]})");
  EXPECT_EQ(r.verdict, Verdict::Allow);
  EXPECT_FALSE(r.error);
}

TEST(Moderation, ErrorsAndOddAnswersCannotDecide) {
  EXPECT_TRUE(ModerationGuardrail::verdictFor(500, R"({"error":{}})").error);
  EXPECT_TRUE(ModerationGuardrail::verdictFor(404, "").error);
  EXPECT_TRUE(ModerationGuardrail::verdictFor(200, "not json").error);
  EXPECT_TRUE(ModerationGuardrail::verdictFor(200, R"({"id":"x"})").error);
  EXPECT_EQ(ModerationGuardrail::verdictFor(200, R"({"results":[{"flagged":"yes"},7]})").verdict, Verdict::Allow);
}

}  // namespace
}  // namespace aigw::guardrails
