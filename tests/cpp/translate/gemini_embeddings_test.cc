// Gemini embeddings: OpenAI embedding requests to batchEmbedContents and the answers back (and,
// for the mock, the other way).
#include "translate/gemini_embeddings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::translate {
namespace {

using nlohmann::json;

struct EmbedCase {
  const char* name;
  const char* openai;
  const char* gemini;  // nullptr: refused
  const char* refused_field = "";
  std::vector<std::string> drop_params = {};
};

class GeminiEmbeddingsEncoding : public ::testing::TestWithParam<EmbedCase> {};

TEST_P(GeminiEmbeddingsEncoding, Translates) {
  const EmbedCase& c = GetParam();
  RequestOptions options;
  options.drop_params = c.drop_params;
  json out;
  const Translation t = GeminiEmbeddingsEncoder(options).encode(json::parse(c.openai), "text-embedding-004", out);
  if (c.gemini == nullptr) {
    ASSERT_FALSE(t.ok) << out.dump();
    EXPECT_EQ(t.error.field, c.refused_field) << t.error.message;
    return;
  }
  ASSERT_TRUE(t.ok) << t.error.message;
  EXPECT_EQ(out, json::parse(c.gemini)) << out.dump();
}

const EmbedCase kCases[] = {
    {"OneString", R"({"model":"e","input":"hi","encoding_format":"float"})",
     R"({"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"hi"}]}}]})"},
    {"StringsWithDimensions", R"({"model":"e","input":["a","b"],"dimensions":256,"encoding_format":"base64"})",
     R"({"requests":[{"model":"models/text-embedding-004","outputDimensionality":256,"content":{"parts":[{"text":"a"}]}},
        {"model":"models/text-embedding-004","outputDimensionality":256,"content":{"parts":[{"text":"b"}]}}]})"},
    {"UserDropped", R"({"input":"a","user":"u"})",
     R"({"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}}]})", "", {"user"}},
    {"UserRefused", R"({"input":"a","user":"u"})", nullptr, "user"},
    {"TokenArraysRefused", R"({"input":[[1,2,3]]})", nullptr, "input[0]"},
    {"TokensRefused", R"({"input":[1,2,3]})", nullptr, "input[0]"},
    {"EmptyInputRefused", R"({"input":[]})", nullptr, "input"},
    {"UnknownFormatRefused", R"({"input":"a","encoding_format":"int8"})", nullptr, "encoding_format"},
};

INSTANTIATE_TEST_SUITE_P(Cases, GeminiEmbeddingsEncoding, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(GeminiEmbeddingsEncoding, KeepsAModelPathAsItIs) {
  json out;
  ASSERT_TRUE(GeminiEmbeddingsEncoder(RequestOptions{}).encode(json::parse(R"({"input":"a"})"), "models/x", out).ok);
  EXPECT_EQ(out["requests"][0]["model"], "models/x");
}

TEST(GeminiEmbeddingsDecoding, FloatsAndBase64) {
  const json answer = json::parse(R"({"embeddings":[{"values":[1.0,-2.5]},{"values":[0.5]}]})");
  std::string out;
  ASSERT_TRUE(decodeGeminiEmbeddings(answer, "e", out).ok);
  EXPECT_EQ(json::parse(out), json::parse(R"({"object":"list","data":[
      {"object":"embedding","index":0,"embedding":[1.0,-2.5]},{"object":"embedding","index":1,"embedding":[0.5]}],
      "model":"e","usage":{"prompt_tokens":0,"total_tokens":0}})"));
  out.clear();
  ASSERT_TRUE(decodeGeminiEmbeddings(answer, "e", out, nullptr, true).ok);
  const json b = json::parse(out);
  // 1.0f = 00 00 80 3f, -2.5f = 00 00 20 c0; 0.5f = 00 00 00 3f
  EXPECT_EQ(b["data"][0]["embedding"], "AACAPwAAIMA=");
  EXPECT_EQ(b["data"][1]["embedding"], "AAAAPw==");
}

TEST(GeminiEmbeddingsDecoding, RefusesWhatIsNoAnswer) {
  std::string out;
  EXPECT_FALSE(decodeGeminiEmbeddings(json::parse(R"({"embedding":{}})"), "e", out).ok);
  EXPECT_FALSE(decodeGeminiEmbeddings(json::parse(R"({"embeddings":[{"values":"x"}]})"), "e", out).ok);
}

TEST(GeminiEmbeddingsEncoding, MockAnswerRoundTrips) {
  const json list = json::parse(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,1.0]}],
      "model":"e","usage":{"prompt_tokens":0,"total_tokens":0}})");
  std::string gemini, openai;
  ASSERT_TRUE(encodeGeminiEmbeddings(list, gemini).ok);
  EXPECT_EQ(json::parse(gemini), json::parse(R"({"embeddings":[{"values":[0.25,1.0]}]})"));
  ASSERT_TRUE(decodeGeminiEmbeddings(json::parse(gemini), "e", openai).ok);
  EXPECT_EQ(json::parse(openai), list);
}

}  // namespace
}  // namespace aigw::translate
