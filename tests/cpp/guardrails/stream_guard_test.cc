#include "guardrails/stream_guard.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>

#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"
#include "guardrails_test_util.h"
#include "http/sse.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;
using testing::build;
using testing::FakeCheck;

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

// Stands in for the Exchange: collects what goes out, and keeps the asynchronous checks the
// guard starts so a test answers them.
class TestHost final : public StreamHost {
 public:
  struct Started {
    const Guardrail* guardrail;
    std::string window;
    bool final;
    int64_t choice;
    CheckDone done;
    std::unique_ptr<bool> cancelled;
  };
  void streamOut(std::string_view bytes) override { out.append(bytes); }
  void streamBlocked() override { ++blocked; }
  void streamFinished() override { ++finished; }
  void streamDrained() override { ++drained; }
  AsyncCheckPtr startStreamCheck(const Guardrail& g, const CheckInput& in, std::function<std::string_view()> subject,
                                 CheckDone done) override {
    EXPECT_EQ(subject(), "\"request\":{}");
    started.push_back(Started{&g, *(*in.texts)[0], in.final, in.choice, std::move(done), std::make_unique<bool>(false)});
    return std::make_unique<FakeCheck>(started.back().cancelled.get());
  }
  void appendStreamSubject(std::string& o) override { o += "\"request\":{}"; }
  void releaseLater(DeferredDeletablePtr p) override { released.push_back(std::move(p)); }
  void answer(size_t i, CheckResult r) {
    CheckDone d = std::move(started.at(i).done);
    ASSERT_TRUE(d) << "answered twice";
    d(std::move(r));
  }

  std::string out;
  int blocked = 0;
  int finished = 0;
  int drained = 0;
  std::vector<Started> started;
  std::vector<DeferredDeletablePtr> released;
};

// One guarded stream: the request's books, the host and the guard over them.
struct Guarded {
  explicit Guarded(const Selection& sel, Endpoint e = Endpoint::ChatCompletions) : req(sel, e), guard(req, e, host) {}
  // A stream guarded by one guardrail.
  explicit Guarded(const Guardrail& g) : req(only(g), Endpoint::ChatCompletions), guard(req, req.endpoint(), host) {}
  static Selection only(const Guardrail& g) {
    Selection sel;
    sel.add(&g);
    return sel;
  }
  bool feed(const std::string& bytes) {
    guard.feed(bytes);
    return host.blocked == 0;
  }
  bool finish() {
    guard.finish();
    return host.blocked == 0;
  }
  RequestGuardrails req;
  TestHost host;
  StreamGuard guard;
};

TEST(StreamGuard, RedactsASecretSplitAcrossChunks) {
  auto b = build(kSecrets);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  Guarded r(sel);
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
  const std::string text = "Your key is " + key + " keep it safe.";
  std::string& out = r.host.out;
  // Three-byte pieces: the key arrives in many chunks.
  for (size_t i = 0; i < text.size(); i += 3) {
    ASSERT_TRUE(r.feed(chatChunk(text.substr(i, 3))));
    EXPECT_EQ(out.find("sk-abc"), std::string::npos);
  }
  ASSERT_TRUE(r.feed(chatChunk("", true)));
  ASSERT_TRUE(r.feed(std::string(http::kSseDone)));
  EXPECT_EQ(contentOf(out), "Your key is [REDACTED:secret] keep it safe.");
  EXPECT_NE(out.find("data: [DONE]"), std::string::npos);
  ASSERT_EQ(r.req.results().size(), 1u);
  EXPECT_EQ(r.req.results()[0].verdict, Verdict::Redact);
  EXPECT_EQ(b.set->byName("secrets")->counters().runs.load(), 1u);
  EXPECT_EQ(b.set->byName("secrets")->counters().redactions.load(), 1u);
}

TEST(StreamGuard, FlushesHeldTextWhenTheStreamEndsWithoutFinish) {
  auto b = build(kSecrets);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  Guarded r(sel, Endpoint::ChatCompletions);
  std::string& out = r.host.out;
  ASSERT_TRUE(r.feed(chatChunk("short answer")));
  EXPECT_EQ(contentOf(out), "");  // within the window: held back
  ASSERT_TRUE(r.finish());
  EXPECT_EQ(contentOf(out), "short answer");
}

TEST(StreamGuard, BlocksOnABannedPhraseSplitAcrossChunks) {
  auto b = build(R"([{"name":"ban","kind":"phrases","stages":["stream"],"phrases":["forbidden word"]}])");
  Selection sel;
  sel.add(b.set->byName("ban"));
  Guarded r(sel, Endpoint::ChatCompletions);
  std::string& out = r.host.out;
  ASSERT_TRUE(r.feed(chatChunk("this is a forbi")));
  EXPECT_FALSE(r.feed(chatChunk("dden word!")));
  EXPECT_EQ(out.find("forbi"), std::string::npos);
  EXPECT_EQ(r.req.blocked().code, "content_blocked");
  EXPECT_NE(r.req.blocked().message.find("'ban'"), std::string::npos);
}

TEST(StreamGuard, CompletionsStreamsUseChoiceText) {
  auto b = build(R"([{"name":"mail","kind":"regex","stages":["stream"],"action":"redact","presets":["email"]}])");
  Selection sel;
  sel.add(b.set->byName("mail"));
  Guarded r(sel, Endpoint::Completions);
  std::string& out = r.host.out;
  for (const char* piece : {"mail jo", "e@exam", "ple.com now"}) {
    json j = {{"object", "text_completion"}, {"choices", json::array({{{"index", 0}, {"text", piece}, {"finish_reason", nullptr}}})}};
    std::string ev;
    http::appendSseEvent(ev, j.dump());
    ASSERT_TRUE(r.feed(ev));
  }
  ASSERT_TRUE(r.finish());
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
  Guarded r(sel, Endpoint::ChatCompletions);
  std::string& out = r.host.out;
  for (const char* data : {R"({"choices":[{"index":"x","delta":{"content":"a"}}]})", R"({"choices":[7,null]})",
                           R"({"choices":{}})", "not json", R"([1,2])", R"({"choices":[{"delta":{"content":5}}]})"}) {
    std::string ev;
    http::appendSseEvent(ev, data);
    ASSERT_TRUE(r.feed(ev)) << data;
  }
  ASSERT_TRUE(r.finish());
  EXPECT_NE(out.find("not json"), std::string::npos);
}

// An asynchronous stream guardrail (a Python one, as the stream stage sees it).
class FakePython final : public Guardrail {
 public:
  FakePython(const std::string& name, size_t window) : Guardrail(settingsFor(name)), window_(window) {}
  CheckResult check(CheckInput&) const override { return {}; }
  bool asynchronous() const override { return true; }
  size_t lookback() const override { return window_; }

 private:
  static GuardrailSettings settingsFor(const std::string& name) {
    GuardrailSettings s;
    s.name = name;
    s.kind = "python";
    s.stages = static_cast<uint8_t>(Stage::Stream);
    return s;
  }
  size_t window_;
};

TEST(StreamGuardAsync, AWindowWaitsForItsVerdictAndOneCheckCoversWhatQueuedBehindIt) {
  FakePython py("py", 4);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("Hello ")));
  ASSERT_EQ(r.host.started.size(), 1u);
  EXPECT_EQ(r.host.started[0].window, "Hello ");
  EXPECT_FALSE(r.host.started[0].final);
  EXPECT_EQ(r.host.out, "");
  ASSERT_TRUE(r.feed(chatChunk("wor") + chatChunk("ld")));
  EXPECT_EQ(r.host.started.size(), 1u);  // queued behind the window
  r.host.answer(0, {});
  // "He" went out; "wor" joined the next window unchecked, which "ld" completes.
  ASSERT_EQ(r.host.started.size(), 2u);
  EXPECT_EQ(r.host.started[1].window, "llo world");
  EXPECT_EQ(contentOf(r.host.out), "He");
  r.host.answer(1, {});
  EXPECT_EQ(contentOf(r.host.out), "Hello w");  // the last 4 bytes are held back
  ASSERT_TRUE(r.feed(chatChunk("!", true)));
  ASSERT_EQ(r.host.started.size(), 3u);
  EXPECT_TRUE(r.host.started[2].final);
  EXPECT_EQ(r.host.started[2].window, "orld!");
  r.host.answer(2, {});
  EXPECT_EQ(contentOf(r.host.out), "Hello world!");
  ASSERT_TRUE(r.feed(std::string(http::kSseDone)));
  ASSERT_TRUE(r.finish());
  EXPECT_EQ(r.host.finished, 1);
  EXPECT_EQ(r.host.started.size(), 3u);
  EXPECT_NE(r.host.out.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(py.counters().runs.load(), 1u);  // a stream counts once
  EXPECT_EQ(r.req.results().size(), 1u);
}

TEST(StreamGuardAsync, ARedactionVerdictEditsTheWindowAndMovesWhatMayGoOut) {
  FakePython py("py", 8);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("my key is sk-12")));
  r.host.answer(0, {});
  EXPECT_EQ(contentOf(r.host.out), "my key ");  // the secret's start is within the window: held
  ASSERT_TRUE(r.feed(chatChunk("345 ok")));
  ASSERT_EQ(r.host.started.size(), 2u);
  EXPECT_EQ(r.host.started[1].window, "is sk-12345 ok");
  CheckResult redact;
  redact.verdict = Verdict::Redact;
  redact.redactions = {{"sk-12345", "[KEY]"}};
  r.host.answer(1, redact);
  // The settled mark fell inside the secret: the replacement goes out whole, " ok" waits.
  EXPECT_EQ(contentOf(r.host.out), "my key is [KEY]");
  ASSERT_TRUE(r.finish());
  ASSERT_EQ(r.host.started.size(), 3u);
  EXPECT_EQ(r.host.started[2].window, " ok");
  EXPECT_TRUE(r.host.started[2].final);
  r.host.answer(2, {});
  EXPECT_EQ(contentOf(r.host.out), "my key is [KEY] ok");
  EXPECT_EQ(r.host.finished, 1);
  EXPECT_EQ(r.req.results()[0].verdict, Verdict::Redact);
  EXPECT_EQ(r.host.out.find("sk-"), std::string::npos);
}

TEST(StreamGuardAsync, AHoldKeepsTextBackUntilALaterWindowOrTheEnd) {
  FakePython py("py", 0);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("The answer ")));
  CheckResult hold;
  hold.hold = CheckResult::kHoldAll;
  r.host.answer(0, hold);
  EXPECT_EQ(contentOf(r.host.out), "");
  ASSERT_TRUE(r.feed(chatChunk("is 42. Né")));
  EXPECT_EQ(r.host.started[1].window, "The answer is 42. Né");
  hold.hold = 2;  // characters, not bytes: "Né" is three bytes
  r.host.answer(1, hold);
  EXPECT_EQ(contentOf(r.host.out), "The answer is 42. ");
  ASSERT_TRUE(r.feed(chatChunk("e", true)));
  hold.hold = CheckResult::kHoldAll;
  r.host.answer(2, hold);  // a final window cannot be held
  EXPECT_EQ(contentOf(r.host.out), "The answer is 42. Née");
}

TEST(StreamGuardAsync, ABlockAfterTextWentOutStopsTheStream) {
  FakePython py("py", 0);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("fine ")));
  r.host.answer(0, {});
  ASSERT_TRUE(r.feed(chatChunk("then bad") + chatChunk(" more")));
  CheckResult block;
  block.verdict = Verdict::Block;
  r.host.answer(1, block);
  EXPECT_EQ(r.host.blocked, 1);
  EXPECT_EQ(contentOf(r.host.out), "fine ");
  EXPECT_EQ(r.host.started.size(), 2u);  // the queued chunk never got a window
  EXPECT_FALSE(r.feed(chatChunk("after")));
  r.guard.finish();
  EXPECT_EQ(r.host.finished, 0);
  EXPECT_EQ(r.host.blocked, 1);
  EXPECT_EQ(r.req.blocked().guardrail, &py);
}

TEST(StreamGuardAsync, TheQueueBehindAWindowIsBoundedAndTheHostHearsWhenItDrains) {
  FakePython py("py", 0);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("first")));
  const std::string piece(1024, 'x');
  size_t pieces = 0;
  for (; !r.guard.full(); ++pieces) ASSERT_TRUE(r.feed(chatChunk(piece)));
  EXPECT_GT(pieces * piece.size(), StreamGuard::kMaxQueued * 3 / 4);
  EXPECT_EQ(r.host.started.size(), 1u);
  r.host.answer(0, {});
  EXPECT_FALSE(r.guard.full());
  EXPECT_EQ(r.host.drained, 1);
  ASSERT_EQ(r.host.started.size(), 2u);  // everything queued is one window
  EXPECT_EQ(r.host.started[1].window.size(), pieces * piece.size());
  r.host.answer(1, {});
  EXPECT_EQ(contentOf(r.host.out).size(), 5 + r.host.started[1].window.size());
}

TEST(StreamGuardAsync, DetachCancelsTheRunningCheckAndSilencesTheGuard) {
  FakePython py("py", 0);
  Guarded r(py);
  ASSERT_TRUE(r.feed(chatChunk("text")));
  ASSERT_EQ(r.host.started.size(), 1u);
  r.guard.detach();
  EXPECT_TRUE(*r.host.started[0].cancelled);
  r.guard.feed(chatChunk("more"));
  r.guard.finish();
  EXPECT_EQ(r.host.started.size(), 1u);
  EXPECT_EQ(r.host.out, "");
  EXPECT_EQ(r.host.finished, 0);
}

TEST(StreamGuardAsync, SynchronousGuardrailsOfTheStreamRunFirstAndTheirEditsAreWhatPythonSees) {
  auto b = build(kSecrets);
  FakePython py("py", 0);
  Selection sel;
  sel.add(b.set->byName("secrets"));
  sel.add(&py);
  Guarded r(sel);
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
  ASSERT_TRUE(r.feed(chatChunk("key " + key + " end", true)));
  ASSERT_EQ(r.host.started.size(), 1u);
  EXPECT_EQ(r.host.started[0].window, "key [REDACTED:secret] end");
  r.host.answer(0, {});
  EXPECT_EQ(contentOf(r.host.out), "key [REDACTED:secret] end");
}

// What a Python guardrail using StreamWindow.redact() answers: every closed match of
// sk-[A-Za-z0-9]{8,} redacted, a match that reaches the end of a non-final window held.
CheckResult redactKeys(const std::string& window, bool final) {
  CheckResult r;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t pos = window.find("sk-"); pos != std::string::npos; pos = window.find("sk-", pos + 1)) {
    size_t end = pos + 3;
    while (end < window.size() && alnum(window[end])) ++end;
    if (end - pos - 3 < 8) continue;
    if (!final && end == window.size()) {
      size_t chars = 0;  // characters from the match's start to the end (ASCII here)
      for (size_t i = pos; i < window.size(); ++i) chars += (static_cast<unsigned char>(window[i]) & 0xC0) != 0x80;
      r.hold = chars;
      break;
    }
    r.redactions.emplace_back(window.substr(pos, end - pos), "[KEY]");
    pos = end - 1;
  }
  if (!r.redactions.empty()) r.verdict = Verdict::Redact;
  return r;
}

TEST(StreamGuardAsync, AnyChunkingAndVerdictTimingGivesTheRedactedTextAndNeverLeaksAKey) {
  std::mt19937 rng(20261122);
  const std::vector<std::string> words = {"the ", "answer ", "is ", "né ", "😀 ", "sk-", "ok. ", "key "};
  for (int round = 0; round < 300; ++round) {
    // A text of words and keys (some too short to count), in UTF-8.
    std::string text;
    std::string expected;
    const int n = 5 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      if (rng() % 5 == 0) {
        std::string key = "sk-";
        const int len = 4 + static_cast<int>(rng() % 26);
        for (int k = 0; k < len; ++k) key += "abcXYZ0189"[rng() % 10];
        text += key + " ";
        expected += (len >= 8 ? std::string("[KEY]") : key) + " ";
      } else {
        const std::string& w = words[rng() % words.size()];
        text += w;
        expected += w;
      }
    }
    // Chunks of 1..12 characters (a chunk's content is a whole JSON string: no split UTF-8).
    std::vector<std::string> chunks;
    for (size_t i = 0; i < text.size();) {
      size_t end = i;
      for (int chars = 1 + static_cast<int>(rng() % 12); chars > 0 && end < text.size(); --chars) {
        ++end;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
      }
      chunks.push_back(text.substr(i, end - i));
      i = end;
    }
    FakePython py("py", 40);
    Guarded r(py);
    size_t fed = 0;
    size_t answered = 0;
    bool ended = false;
    while (!ended || answered < r.host.started.size()) {
      const bool can_answer = answered < r.host.started.size();
      if (!ended && (!can_answer || rng() % 2 == 0)) {
        if (fed < chunks.size()) {
          r.guard.feed(chatChunk(chunks[fed++]));
        } else {
          r.guard.feed(chatChunk("", true) + std::string(http::kSseDone));
          r.guard.finish();
          ended = true;
        }
      } else {
        const auto& s = r.host.started[answered];
        r.host.answer(answered++, redactKeys(s.window, s.final));
      }
      // What went out so far is always a prefix of the redacted text: nothing is taken back.
      const std::string so_far = contentOf(r.host.out);
      ASSERT_EQ(expected.compare(0, so_far.size(), so_far), 0) << "round " << round << ": " << so_far;
    }
    ASSERT_EQ(r.host.blocked, 0);
    ASSERT_EQ(r.host.finished, 1) << "round " << round;
    // Keys shorter than the pattern's minimum pass; every other "sk-" went out redacted.
    EXPECT_EQ(contentOf(r.host.out), expected) << "round " << round << ": " << text;
    EXPECT_NE(r.host.out.find("data: [DONE]"), std::string::npos);
  }
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

// Only what the core cannot read or compile: names, stages per kind and the like are Python's
// to check (tests/python/guardrails/test_guardrail_config.py, test_config_errors_are_reported_with_paths).
TEST(GuardrailSet, ReportsEveryProblemAtOnce) {
  try {
    build(R"([{"name":"a","kind":"regex","patterns":["ok","bad("],"presets":["nope"]},
              {"name":"b","kind":"phrases","phrases":["x"],"action":"erase"},
              {"name":"l","kind":"limits","stages":["later"]}])");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("guardrails[0].patterns[1]: invalid RE2 pattern"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[0].presets[0]: unknown preset 'nope'"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[1].action: must be block or redact"), std::string::npos) << m;
    EXPECT_NE(m.find("guardrails[2].stages"), std::string::npos) << m;
  }
}

TEST(GuardrailSet, RoutesSelectByNameAndDefaultsApplyElsewhere) {
  const json routes = aigw::testing::completeRoutes(json::parse(R"([
    {"name":"a","plan":{"type":"target","provider":"p"},"guardrails":["x"]},
    {"name":"b","plan":{"type":"target","provider":"p"},"guardrails":[]},
    {"name":"c","plan":{"type":"target","provider":"p"}},
    {"name":"d","plan":{"type":"target","provider":"p"},"guardrails":["missing"]}])"));
  std::unordered_map<std::string, const Provider*> providers{{"p", nullptr}};
  auto table = router::RouteTable::fromJson(routes, providers);
  const json g = aigw::testing::completeGuardrails(json::parse(R"([{"name":"x","kind":"phrases","phrases":["q"]},
                                 {"name":"y","kind":"phrases","phrases":["q"],"default":true}])"));
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
