// extractUsage: token counts picked out of response bodies and stream events. Each case reads
// one or more JSON texts, in order, into one CallUsage. estimatePromptTokens: the rough input
// estimate the mock and the limits guardrail use.
#include "providers/usage.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace aigw {
namespace {

struct Read {
  const char* json;
  bool found;  // what extractUsage answers
};

struct UsageCase {
  const char* name;
  std::vector<Read> reads;
  CallUsage before;
  // What the counts are after the reads (nullopt: the case is not about that count).
  std::optional<int64_t> prompt;
  std::optional<int64_t> completion;
  std::optional<int64_t> cached = std::nullopt;
};

class ExtractUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(ExtractUsage, Reads) {
  const UsageCase& c = GetParam();
  CallUsage u = c.before;
  for (const Read& r : c.reads) EXPECT_EQ(extractUsage(r.json, &u), r.found) << r.json;
  if (c.prompt) EXPECT_EQ(u.prompt_tokens, *c.prompt);
  if (c.completion) EXPECT_EQ(u.completion_tokens, *c.completion);
  if (c.cached) EXPECT_EQ(u.cached_tokens, *c.cached);
}

const CallUsage kNone;
constexpr std::nullopt_t kAny = std::nullopt;

INSTANTIATE_TEST_SUITE_P(
    ExtractUsage, ExtractUsage,
    ::testing::Values(
        UsageCase{"OpenAiChatCompletionBody",
                  {{R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,
               "prompt_tokens_details":{"cached_tokens":0}}})",
                    true}},
                  kNone, 12, 3},
        UsageCase{"EmbeddingsBodyWithoutCompletionTokens",
                  {{R"({"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}})", true}},
                  kNone, 8, -1},
        UsageCase{"StreamChunkWithUsage",
                  {{R"({"id":"c","object":"chat.completion.chunk","choices":[],)"
                    R"("usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})",
                    true}},
                  kNone, 5, 7},
        UsageCase{"NullUsageLeavesEarlierCountsAlone",
                  {{R"({"choices":[{"delta":{"content":"x"}}],"usage":null})", false},
                   {R"({"usage" :  null })", false}},
                  CallUsage{4, 9}, 4, 9},
        UsageCase{"WhitespaceAroundColon",
                  {{"{\"usage\"\n :\r\n\t{ \"prompt_tokens\" : 1 , \"completion_tokens\" : 2 }}", true}},
                  kNone, 1, 2},
        UsageCase{"AnthropicStyleInputAndOutputTokens",
                  {{R"({"type":"message","content":[{"type":"text","text":"hi"}],)"
                    R"("usage":{"input_tokens":25,"output_tokens":11,"cache_read_input_tokens":0}})",
                    true}},
                  kNone, 25, 11},
        // Anthropic streams report input tokens in message_start and output tokens in
        // message_delta: the second event must not wipe the first one's count.
        UsageCase{"PartialUsageKeepsCountsItDoesNotMention",
                  {{R"({"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}})", true},
                   {R"({"type":"message_delta","delta":{},"usage":{"output_tokens":15}})", true}},
                  kNone, 25, 15},
        UsageCase{"UsageWithoutTokenCountsIsNotUsage",
                  {{R"({"usage":{"total_tokens":7}})", false}, {R"({"usage":{"prompt_tokens":"12"}})", false}},
                  CallUsage{3, 4}, 3, 4},
        UsageCase{"BracesAndQuotesInsideStringsDoNotConfuseTheScan",
                  {{R"({"choices":[{"message":{"content":"a } brace and \"usage\": {\"prompt_tokens\": 999} in text"}}],)"
                    R"("usage":{"note":"}{ \" \\","prompt_tokens":6,"completion_tokens":2}})",
                    true}},
                  kNone, 6, 2},
        UsageCase{"UsageWordAsAValueIsSkipped",
                  {{R"({"usage":{"prompt_tokens":1,"completion_tokens":2},"kind":"usage"})", true}},
                  kNone, 1, 2},
        UsageCase{"LastUsageObjectWins",
                  {{R"({"choices":[{"usage":{"prompt_tokens":1}}],"usage":{"prompt_tokens":2,"completion_tokens":3}})",
                    true}},
                  kNone, 2, kAny},
        UsageCase{"MalformedUsageObjectGivesNothing",
                  {{R"({"usage":{"prompt_tokens":12,,}})", false},
                   {R"({"usage":[1,2]})", false},
                   {R"({"usage")", false},
                   {"", false},
                   {"not json at all", false}},
                  kNone, -1, kAny},
        UsageCase{"CachedPromptTokens",
                  {{R"({"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
      "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0}}})",
                    true}},
                  kNone, 2006, kAny, 1920},
        UsageCase{"DeepSeekCachedPromptTokens",
                  {{R"({"usage":{"prompt_tokens":50,"completion_tokens":5,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18}})",
                    true}},
                  kNone, kAny, kAny, 32},
        UsageCase{"NoCachedPromptTokens",
                  {{R"({"usage":{"prompt_tokens":5,"completion_tokens":7}})", true}},
                  kNone, kAny, kAny, -1},
        UsageCase{"BodyWithoutUsage",
                  {{R"({"error":{"message":"rate limited","type":"rate_limit_error"}})", false}},
                  kNone, kAny, kAny}),
    [](const ::testing::TestParamInfo<UsageCase>& info) { return info.param.name; });

TEST(ExtractUsage, TruncatedJsonGivesNothing) {
  const std::string body = R"({"id":"x","usage":{"prompt_tokens":12,"completion_tokens":3}})";
  for (size_t len = 0; len < body.size() - 1; ++len) {
    CallUsage u;
    EXPECT_FALSE(extractUsage(std::string_view(body).substr(0, len), &u)) << len;
    EXPECT_EQ(u.prompt_tokens, -1) << len;
    EXPECT_EQ(u.completion_tokens, -1) << len;
  }
}

TEST(EstimatePromptTokens, ChatCountsFourBytesATokenPlusFourPerMessageAndThree) {
  // "Hello" = 2 tokens, "12345678" = 2; 4 per message, 3 per request.
  const auto body = nlohmann::json::parse(R"({"messages":[{"role":"system","content":"Hello"},
      {"role":"user","content":[{"type":"text","text":"12345678"},{"type":"image_url"}]}, "odd"]})");
  EXPECT_EQ(estimatePromptTokens(Endpoint::ChatCompletions, body), (4 + 2) + (4 + 2 + 85) + 4 + 3);
  EXPECT_EQ(estimatePromptTokens(Endpoint::ChatCompletions, nlohmann::json::object()), 3);
}

TEST(EstimatePromptTokens, CompletionsAndEmbeddingsCountTheirInput) {
  EXPECT_EQ(estimatePromptTokens(Endpoint::Completions, nlohmann::json::parse(R"({"prompt":"abcde"})")), 2);
  EXPECT_EQ(estimatePromptTokens(Endpoint::Embeddings,
                                 nlohmann::json::parse(R"({"input":["abcd","",7,[1,2,3]]})")),
            1 + 0 + 1 + 3);
  EXPECT_EQ(estimatePromptTokens(Endpoint::Embeddings, nlohmann::json::parse(R"({"prompt":"x"})")), 0);
}

}  // namespace
}  // namespace aigw
