#include "guardrails/text_views.h"

#include <gtest/gtest.h>

namespace aigw::guardrails {
namespace {

using nlohmann::json;

std::vector<std::string> values(const TextRefs& refs) {
  std::vector<std::string> out;
  for (const std::string* s : refs) out.push_back(*s);
  return out;
}

TEST(TextViews, ChatMessagesStringsAndTextParts) {
  json doc = json::parse(R"({"model":"m","messages":[
      {"role":"system","content":"be nice"},
      {"role":"user","content":[{"type":"text","text":"hello"},{"type":"image_url","image_url":{"url":"u"}}]},
      {"role":"assistant","content":null,"tool_calls":[]}]})");
  TextRefs refs;
  requestTexts(Endpoint::ChatCompletions, doc, refs);
  EXPECT_EQ(values(refs), (std::vector<std::string>{"be nice", "hello"}));
  *refs[1] = "HELLO";
  EXPECT_EQ(doc["messages"][1]["content"][0]["text"], "HELLO");
}

TEST(TextViews, CompletionsPromptAndEmbeddingsInput) {
  json a = json::parse(R"({"prompt":["one","two",[1,2]]})");
  TextRefs refs;
  requestTexts(Endpoint::Completions, a, refs);
  EXPECT_EQ(values(refs), (std::vector<std::string>{"one", "two"}));
  json b = json::parse(R"({"input":"solo"})");
  refs.clear();
  requestTexts(Endpoint::Embeddings, b, refs);
  EXPECT_EQ(values(refs), (std::vector<std::string>{"solo"}));
  json c = json::parse(R"({"input":[[1,2,3]]})");  // token arrays carry no text
  refs.clear();
  requestTexts(Endpoint::Embeddings, c, refs);
  EXPECT_TRUE(refs.empty());
}

TEST(TextViews, PassthroughSeesEveryString) {
  json doc = json::parse(R"({"model":"m","input":{"a":["x",{"b":"y"}]},"n":1})");
  TextRefs refs;
  requestTexts(Endpoint::Passthrough, doc, refs);
  EXPECT_EQ(values(refs).size(), 3u);
}

TEST(TextViews, AnswersOfChatAndCompletions) {
  json chat = json::parse(R"({"choices":[{"message":{"role":"assistant","content":"hi"}},{"message":{"content":null}}]})");
  TextRefs refs;
  answerTexts(Endpoint::ChatCompletions, chat, refs);
  EXPECT_EQ(values(refs), (std::vector<std::string>{"hi"}));
  json comp = json::parse(R"({"choices":[{"text":"a"},{"text":"b"}]})");
  refs.clear();
  answerTexts(Endpoint::Completions, comp, refs);
  EXPECT_EQ(values(refs), (std::vector<std::string>{"a", "b"}));
}

TEST(TextViews, StreamChunkTextIsReadAndWritten) {
  json ch = json::parse(R"({"index":0,"delta":{"role":"assistant"},"finish_reason":null})");
  EXPECT_EQ(chunkChoiceText(Endpoint::ChatCompletions, ch), nullptr);
  setChunkChoiceText(Endpoint::ChatCompletions, ch, "x");
  EXPECT_EQ(*chunkChoiceText(Endpoint::ChatCompletions, ch), "x");
  EXPECT_EQ(ch["delta"]["role"], "assistant");
}

TEST(TextViews, Utf8FloorNeverSplitsACharacter) {
  const std::string s = "a\xC3\xA9z";  // a é z
  EXPECT_EQ(utf8Floor(s, 2), 1u);
  EXPECT_EQ(utf8Floor(s, 3), 3u);
  EXPECT_EQ(utf8Floor(s, 10), s.size());
}

}  // namespace
}  // namespace aigw::guardrails
