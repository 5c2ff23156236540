// extractUsage: token counts picked out of response bodies and stream events.
#include "providers/usage.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

TEST(ExtractUsage, OpenAiChatCompletionBody) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,
               "prompt_tokens_details":{"cached_tokens":0}}})",
                           &u));
  EXPECT_EQ(u.prompt_tokens, 12);
  EXPECT_EQ(u.completion_tokens, 3);
}

TEST(ExtractUsage, EmbeddingsBodyWithoutCompletionTokens) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}})", &u));
  EXPECT_EQ(u.prompt_tokens, 8);
  EXPECT_EQ(u.completion_tokens, -1);
}

TEST(ExtractUsage, StreamChunkWithUsage) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"id":"c","object":"chat.completion.chunk","choices":[],)"
                           R"("usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})",
                           &u));
  EXPECT_EQ(u.prompt_tokens, 5);
  EXPECT_EQ(u.completion_tokens, 7);
}

TEST(ExtractUsage, NullUsageLeavesEarlierCountsAlone) {
  CallUsage u{4, 9};
  EXPECT_FALSE(extractUsage(R"({"choices":[{"delta":{"content":"x"}}],"usage":null})", &u));
  EXPECT_FALSE(extractUsage(R"({"usage" :  null })", &u));
  EXPECT_EQ(u.prompt_tokens, 4);
  EXPECT_EQ(u.completion_tokens, 9);
}

TEST(ExtractUsage, WhitespaceAroundColon) {
  CallUsage u;
  EXPECT_TRUE(extractUsage("{\"usage\"\n :\r\n\t{ \"prompt_tokens\" : 1 , \"completion_tokens\" : 2 }}", &u));
  EXPECT_EQ(u.prompt_tokens, 1);
  EXPECT_EQ(u.completion_tokens, 2);
}

TEST(ExtractUsage, AnthropicStyleInputAndOutputTokens) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"type":"message","content":[{"type":"text","text":"hi"}],)"
                           R"("usage":{"input_tokens":25,"output_tokens":11,"cache_read_input_tokens":0}})",
                           &u));
  EXPECT_EQ(u.prompt_tokens, 25);
  EXPECT_EQ(u.completion_tokens, 11);
}

// Anthropic streams report input tokens in message_start and output tokens in message_delta:
// the second event must not wipe the first one's count.
TEST(ExtractUsage, PartialUsageKeepsCountsItDoesNotMention) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}})", &u));
  EXPECT_TRUE(extractUsage(R"({"type":"message_delta","delta":{},"usage":{"output_tokens":15}})", &u));
  EXPECT_EQ(u.prompt_tokens, 25);
  EXPECT_EQ(u.completion_tokens, 15);
}

TEST(ExtractUsage, UsageWithoutTokenCountsIsNotUsage) {
  CallUsage u{3, 4};
  EXPECT_FALSE(extractUsage(R"({"usage":{"total_tokens":7}})", &u));
  EXPECT_FALSE(extractUsage(R"({"usage":{"prompt_tokens":"12"}})", &u));
  EXPECT_EQ(u.prompt_tokens, 3);
  EXPECT_EQ(u.completion_tokens, 4);
}

TEST(ExtractUsage, BracesAndQuotesInsideStringsDoNotConfuseTheScan) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(
      R"({"choices":[{"message":{"content":"a } brace and \"usage\": {\"prompt_tokens\": 999} in text"}}],)"
      R"("usage":{"note":"}{ \" \\","prompt_tokens":6,"completion_tokens":2}})",
      &u));
  EXPECT_EQ(u.prompt_tokens, 6);
  EXPECT_EQ(u.completion_tokens, 2);
}

TEST(ExtractUsage, UsageWordAsAValueIsSkipped) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"usage":{"prompt_tokens":1,"completion_tokens":2},"kind":"usage"})", &u));
  EXPECT_EQ(u.prompt_tokens, 1);
  EXPECT_EQ(u.completion_tokens, 2);
}

TEST(ExtractUsage, LastUsageObjectWins) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"choices":[{"usage":{"prompt_tokens":1}}],"usage":{"prompt_tokens":2,"completion_tokens":3}})",
                           &u));
  EXPECT_EQ(u.prompt_tokens, 2);
}

TEST(ExtractUsage, TruncatedJsonGivesNothing) {
  const std::string body = R"({"id":"x","usage":{"prompt_tokens":12,"completion_tokens":3}})";
  for (size_t len = 0; len < body.size() - 1; ++len) {
    CallUsage u;
    EXPECT_FALSE(extractUsage(std::string_view(body).substr(0, len), &u)) << len;
    EXPECT_EQ(u.prompt_tokens, -1) << len;
    EXPECT_EQ(u.completion_tokens, -1) << len;
  }
}

TEST(ExtractUsage, MalformedUsageObjectGivesNothing) {
  CallUsage u;
  EXPECT_FALSE(extractUsage(R"({"usage":{"prompt_tokens":12,,}})", &u));
  EXPECT_FALSE(extractUsage(R"({"usage":[1,2]})", &u));
  EXPECT_FALSE(extractUsage(R"({"usage")", &u));
  EXPECT_FALSE(extractUsage("", &u));
  EXPECT_FALSE(extractUsage("not json at all", &u));
  EXPECT_EQ(u.prompt_tokens, -1);
}

TEST(ExtractUsage, CachedPromptTokens) {
  CallUsage u;
  EXPECT_TRUE(extractUsage(R"({"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
      "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0}}})",
                           &u));
  EXPECT_EQ(u.prompt_tokens, 2006);
  EXPECT_EQ(u.cached_tokens, 1920);
  CallUsage d;  // DeepSeek
  EXPECT_TRUE(extractUsage(
      R"({"usage":{"prompt_tokens":50,"completion_tokens":5,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18}})",
      &d));
  EXPECT_EQ(d.cached_tokens, 32);
  CallUsage none;
  EXPECT_TRUE(extractUsage(R"({"usage":{"prompt_tokens":5,"completion_tokens":7}})", &none));
  EXPECT_EQ(none.cached_tokens, -1);
}

TEST(ExtractUsage, BodyWithoutUsage) {
  CallUsage u;
  EXPECT_FALSE(extractUsage(R"({"error":{"message":"rate limited","type":"rate_limit_error"}})", &u));
}

}  // namespace
}  // namespace aigw
