#include "guardrails/stream_guard.h"

#include <gtest/gtest.h>

#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"
#include "guardrails_test_util.h"
#include "http/sse.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;
using testing::build;

std::string chatChunk(const std::string& content, bool finish = false) {
  json j = {{"id", "c1"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "m"}};
  j["choices"] = json::array({{{"index", 0}, {"delta", {{"content", content}}},
                               {"finish_reason", finish ? json("stop") : json()}}});
  std::string out;
  http::appendSseEvent(out, j.dump());
  return out;
}

// The content the client sees, joined over every chunk, and whether an error event came.
std::string contentOf(const std::string& sse) {
  std::string text;
  struct Ctx {
    std::string* text;
  } ctx{&text};
  http::SseDecoder d(
      [](void* c, const http::SseDecoder::Event& e) {
        if (e.data == "[DONE]") return;
        json j = json::parse(e.data);
        for (auto& ch : j["choices"]) {
          if (ch["delta"].contains("content")) *static_cast<Ctx*>(c)->text += ch["delta"]["content"].get<std::string>();
        }
      },
      &ctx);
  d.feed(sse);
  return text;
}

const char* kSecrets = R"([{"name":"secrets","kind":"regex","stages":["stream"],"action":"redact","presets":["secrets"]}])";

TEST(StreamGuard, RedactsASecretSplitAcrossChunks) {
  auto b = build(kSecrets);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  RequestGuardrails r(sel, Endpoint::ChatCompletions);
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
  const std::string text = "Your key is " + key + " keep it safe.";
  std::string out;
  // Three-byte pieces: the key arrives in many chunks.
  for (size_t i = 0; i < text.size(); i += 3) {
    ASSERT_TRUE(r.filterStream(chatChunk(text.substr(i, 3)), out));
    EXPECT_EQ(out.find("sk-abc"), std::string::npos);
  }
  ASSERT_TRUE(r.filterStream(chatChunk("", true), out));
  ASSERT_TRUE(r.filterStream(std::string(http::kSseDone), out));
  EXPECT_EQ(contentOf(out), "Your key is [REDACTED:secret] keep it safe.");
  EXPECT_NE(out.find("data: [DONE]"), std::string::npos);
  ASSERT_EQ(r.results().size(), 1u);
  EXPECT_EQ(r.results()[0].verdict, Verdict::Redact);
  EXPECT_EQ(b.set->byName("secrets")->counters().runs.load(), 1u);
  EXPECT_EQ(b.set->byName("secrets")->counters().redactions.load(), 1u);
}

TEST(StreamGuard, FlushesHeldTextWhenTheStreamEndsWithoutFinish) {
  auto b = build(kSecrets);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  RequestGuardrails r(sel, Endpoint::ChatCompletions);
  std::string out;
  ASSERT_TRUE(r.filterStream(chatChunk("short answer"), out));
  EXPECT_EQ(contentOf(out), "");  // within the window: held back
  ASSERT_TRUE(r.finishStream(out));
  EXPECT_EQ(contentOf(out), "short answer");
}

TEST(StreamGuard, BlocksOnABannedPhraseSplitAcrossChunks) {
  auto b = build(R"([{"name":"ban","kind":"phrases","stages":["stream"],"phrases":["forbidden word"]}])");
  Selection sel;
  sel.add(b.set->byName("ban"));
  RequestGuardrails r(sel, Endpoint::ChatCompletions);
  std::string out;
  ASSERT_TRUE(r.filterStream(chatChunk("this is a forbi"), out));
  EXPECT_FALSE(r.filterStream(chatChunk("dden word!"), out));
  EXPECT_EQ(out.find("forbi"), std::string::npos);
  EXPECT_EQ(r.blocked().code, "content_blocked");
  EXPECT_NE(r.blocked().message.find("'ban'"), std::string::npos);
}

TEST(StreamGuard, CompletionsStreamsUseChoiceText) {
  auto b = build(R"([{"name":"mail","kind":"regex","stages":["stream"],"action":"redact","presets":["email"]}])");
  Selection sel;
  sel.add(b.set->byName("mail"));
  RequestGuardrails r(sel, Endpoint::Completions);
  std::string out;
  for (const char* piece : {"mail jo", "e@exam", "ple.com now"}) {
    json j = {{"object", "text_completion"}, {"choices", json::array({{{"index", 0}, {"text", piece}, {"finish_reason", nullptr}}})}};
    std::string ev;
    http::appendSseEvent(ev, j.dump());
    ASSERT_TRUE(r.filterStream(ev, out));
  }
  ASSERT_TRUE(r.finishStream(out));
  std::string text;
  http::SseDecoder d(
      [](void* c, const http::SseDecoder::Event& e) {
        json j = json::parse(e.data);
        *static_cast<std::string*>(c) += j["choices"][0]["text"].get<std::string>();
      },
      &text);
  d.feed(out);
  EXPECT_EQ(text, "mail [REDACTED:email] now");
}

TEST(StreamGuard, OddChunksPassWithoutHarm) {
  auto b = build(kSecrets);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  RequestGuardrails r(sel, Endpoint::ChatCompletions);
  std::string out;
  for (const char* data : {R"({"choices":[{"index":"x","delta":{"content":"a"}}]})", R"({"choices":[7,null]})",
                           R"({"choices":{}})", "not json", R"([1,2])", R"({"choices":[{"delta":{"content":5}}]})"}) {
    std::string ev;
    http::appendSseEvent(ev, data);
    ASSERT_TRUE(r.filterStream(ev, out)) << data;
  }
  ASSERT_TRUE(r.finishStream(out));
  EXPECT_NE(out.find("not json"), std::string::npos);
}

// The output stage over a whole answer, as exchange_stages.cc runs it (all synchronous here).
StageOutcome checkAnswer(RequestGuardrails& r, std::string& body) {
  json doc = json::parse(body);
  TextRefs texts;
  answerTexts(Endpoint::ChatCompletions, doc, texts);
  CheckInput in;
  in.stage = Stage::Output;
  in.texts = &texts;
  StageRun run(r, r.selection().output, in);
  const StageOutcome outcome = run.run();
  if (outcome.changed) body = dumpJson(doc);
  return outcome;
}

TEST(OutputStage, RedactsAndBlocksWholeAnswers) {
  auto b = build(R"([{"name":"mail","kind":"regex","stages":["output"],"action":"redact","presets":["email"]},
                     {"name":"ban","kind":"phrases","stages":["output"],"phrases":["nope"],"priority":5}])");
  Selection sel;
  sel.add(b.set->byName("ban"));
  sel.add(b.set->byName("mail"));
  ASSERT_EQ(sel.output.front()->name(), "mail");  // lower priority first
  RequestGuardrails r(sel, Endpoint::ChatCompletions);
  ASSERT_TRUE(r.checksAnswer());
  std::string body = R"({"choices":[{"message":{"role":"assistant","content":"mail me at a@b.io"}}]})";
  EXPECT_EQ(checkAnswer(r, body).status, StageOutcome::Status::Done);
  EXPECT_EQ(json::parse(body)["choices"][0]["message"]["content"], "mail me at [REDACTED:email]");
  std::string bad = R"({"choices":[{"message":{"content":"nope"}}]})";
  RequestGuardrails r2(sel, Endpoint::ChatCompletions);
  EXPECT_EQ(checkAnswer(r2, bad).status, StageOutcome::Status::Blocked);
  std::string same = R"({"choices":[{"message":{"content":"fine"}}], "x": 1.50})";
  RequestGuardrails r3(sel, Endpoint::ChatCompletions);
  EXPECT_FALSE(checkAnswer(r3, same).changed);
  EXPECT_FALSE(RequestGuardrails(sel, Endpoint::Embeddings).checksAnswer());
}

TEST(Limits, BlockMessagesTokensAndBytes) {
  auto b = build(R"([{"name":"lim","kind":"limits","max_messages":1,"max_input_tokens":10,"max_input_bytes":1000}])");
  const Guardrail& g = *b.set->byName("lim");
  auto run = [&](const std::string& body) {
    json doc = json::parse(body);
    TextRefs texts;
    CheckInput in;
    in.texts = &texts;
    in.body = &doc;
    in.body_bytes = body.size();
    return g.check(in);
  };
  EXPECT_EQ(run(R"({"messages":[{"role":"user","content":"hi"}]})").verdict, Verdict::Allow);
  const CheckResult two = run(R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
  EXPECT_EQ(two.verdict, Verdict::Block);
  EXPECT_NE(two.reason.find("max_messages"), std::string::npos);
  EXPECT_EQ(run(R"({"messages":[{"role":"user","content":"a long prompt of many words"}]})").verdict, Verdict::Block);
  EXPECT_EQ(run(R"({"messages":[{"role":"user","content":")" + std::string(1200, 'a') + "\"}]}").verdict,
            Verdict::Block);
}

TEST(GuardrailSet, ReportsEveryProblemAtOnce) {
  try {
    build(R"([{"name":"a","kind":"regex","patterns":["ok","bad("],"presets":["nope"]},
              {"name":"a","kind":"phrases","phrases":["x"]},
              {"name":"l","kind":"limits","stages":["output"]}])");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("guardrails[0].patterns[1]: invalid RE2 pattern"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[0].presets[0]: unknown preset 'nope'"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[1].name: duplicate guardrail 'a'"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[2].stages"), std::string::npos) << m;
  }
}

TEST(GuardrailSet, RoutesSelectByNameAndDefaultsApplyElsewhere) {
  const json routes = json::parse(R"([
    {"name":"a","plan":{"type":"target","provider":"p"},"guardrails":["x"]},
    {"name":"b","plan":{"type":"target","provider":"p"},"guardrails":[]},
    {"name":"c","plan":{"type":"target","provider":"p"}},
    {"name":"d","plan":{"type":"target","provider":"p"},"guardrails":["missing"]}])");
  std::unordered_map<std::string, const Provider*> providers{{"p", nullptr}};
  auto table = router::RouteTable::fromJson(routes, providers);
  const json g = json::parse(R"([{"name":"x","kind":"phrases","phrases":["q"]},
                                 {"name":"y","kind":"phrases","phrases":["q"],"default":true}])");
  EXPECT_THROW(GuardrailSet::fromJson(g, *table), std::runtime_error);
  json fixed = routes;
  fixed.erase(3);
  auto table2 = router::RouteTable::fromJson(fixed, providers);
  auto set = GuardrailSet::fromJson(g, *table2);
  EXPECT_EQ(set->forRoute(table2->byName("a")).input.front()->name(), "x");
  EXPECT_TRUE(set->forRoute(table2->byName("b")).empty());
  EXPECT_EQ(set->forRoute(table2->byName("c")).input.front()->name(), "y");
  EXPECT_EQ(set->forRoute(nullptr).input.front()->name(), "y");
}

}  // namespace
}  // namespace aigw::guardrails
