// The Python guardrail's C++ half: the job it submits, the verdicts it reads, the backstop
// when no verdict comes, and cancellation reaching the hook thread's side of the queue.
#include "guardrails/python_guardrail.h"

#include <gtest/gtest.h>

#include <future>
#include <random>
#include <string>

#include "guardrails/text_views.h"
#include "hooks/hook_queue.h"
#include "loop_driver.h"

namespace aigw::guardrails {
namespace {

GuardrailSettings settings(const std::string& name) {
  GuardrailSettings s;
  s.name = name;
  s.kind = "python";
  return s;
}

using aigw::testing::onLoop;

// A worker's loop, its hook queue, and one check started on it.
struct Rig {
  EventLoop loop;
  std::mt19937_64 rng{1};
  CallContext calls{loop, rng};
  hooks::HookQueue queue;
  std::string text = "hi";
  TextRefs texts{&text};
  AsyncCheckPtr check;
  std::promise<CheckResult> verdict;

  Rig() { loop.startThread(nullptr); }
  ~Rig() {
    onLoop(loop, [&] { check.reset(); });
    queue.close();
    loop.stopAndJoin();
  }
  void start(const PythonGuardrail& g, Stage stage = Stage::Input) {
    onLoop(loop, [&] {
      AsyncCheckContext ctx{calls, "req-1", &queue, [] { return std::string_view(R"("request":{"model":"m"})"); }};
      CheckInput in;
      in.stage = stage;
      in.texts = &texts;
      check = g.startCheck(ctx, in, [this](CheckResult r) { verdict.set_value(std::move(r)); });
    });
  }
};

TEST(PythonGuardrail, SubmitsOneJobAndReadsItsVerdict) {
  PythonGuardrail g(settings("py"), 2000);
  Rig rig;
  rig.start(g, Stage::Output);
  auto jobs = rig.queue.drain();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].kind, "guardrail");
  EXPECT_EQ(jobs[0].payload, "output:py\n{\"texts\":[\"hi\"],\"request\":{\"model\":\"m\"}}");
  rig.queue.complete(jobs[0].id, true, R"({"verdict":"redact","redactions":[["hi","[x]"]]})");
  const CheckResult r = rig.verdict.get_future().get();
  EXPECT_EQ(r.verdict, Verdict::Redact);
  ASSERT_EQ(r.redactions.size(), 1u);
}

TEST(PythonGuardrail, NoVerdictByTheBackstopIsATimeout) {
  PythonGuardrail g(settings("lost"), 1);  // backstop: 101 ms
  Rig rig;
  rig.start(g);
  ASSERT_EQ(rig.queue.drain().size(), 1u);  // taken, never answered
  auto future = rig.verdict.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const CheckResult r = future.get();
  EXPECT_TRUE(r.error && r.timeout);
  ASSERT_TRUE(r.block);
  EXPECT_EQ(r.block->code, "guardrail_error");
  EXPECT_NE(r.block->message.find("'lost'"), std::string::npos);
  EXPECT_EQ(rig.queue.drainCancelled().size(), 1u);  // and Python is told to stop
}

TEST(PythonGuardrail, CancellingACheckReachesTheHookThread) {
  PythonGuardrail g(settings("py"), 2000);
  Rig rig;
  rig.start(g);
  auto jobs = rig.queue.drain();
  ASSERT_EQ(jobs.size(), 1u);
  onLoop(rig.loop, [&] { rig.check->cancel(); });
  EXPECT_EQ(rig.queue.drainCancelled(), std::vector<uint64_t>{jobs[0].id});
  rig.queue.complete(jobs[0].id, true, R"({"verdict":"block"})");  // too late: dropped
  onLoop(rig.loop, [] {});
  onLoop(rig.loop, [] {});
  EXPECT_EQ(rig.verdict.get_future().wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
}

TEST(PythonGuardrail, WithoutAHookLayerItCannotDecide) {
  PythonGuardrail g(settings("py"), 2000);
  EventLoop loop;
  std::mt19937_64 rng{1};
  CallContext calls{loop, rng};
  std::string text;
  TextRefs texts{&text};
  CheckInput in;
  in.texts = &texts;
  AsyncCheckContext ctx{calls, "r", nullptr, nullptr};
  CheckResult got;
  EXPECT_EQ(g.startCheck(ctx, in, [&](CheckResult r) { got = std::move(r); }), nullptr);
  EXPECT_TRUE(got.error);
}

TEST(PythonGuardrail, VerdictsFromTheHookThread) {
  PythonGuardrail g(settings("py"), 2000);
  EXPECT_EQ(g.backstopMs(), 2100u);
  EXPECT_EQ(g.verdictFor(true, R"({"verdict":"allow"})").verdict, Verdict::Allow);
  CheckResult b = g.verdictFor(true, R"({"verdict":"block","status":422,"message":"no","type":"t","code":"c"})");
  ASSERT_TRUE(b.block);
  EXPECT_EQ(b.verdict, Verdict::Block);
  EXPECT_EQ(b.block->status, 422);
  EXPECT_EQ(b.block->code, "c");
  EXPECT_EQ(g.verdictFor(true, R"({"verdict":"block","status":200})").block->status, 400);
  CheckResult red = g.verdictFor(true, R"({"verdict":"redact","redactions":[["a","b"]]})");
  ASSERT_EQ(red.redactions.size(), 1u);
  EXPECT_EQ(red.redactions[0].second, "b");
  EXPECT_EQ(g.verdictFor(true, R"({"verdict":"rewrite","texts":["x"]})").rewritten.size(), 1u);
  EXPECT_TRUE(g.verdictFor(true, R"({"verdict":"rewrite","body":{"a":1}})").document.is_object());
  CheckResult err = g.verdictFor(true, R"({"verdict":"error","message":"boom","timeout":true})");
  EXPECT_TRUE(err.error && err.timeout);
  EXPECT_EQ(err.block->status, 503);
  EXPECT_EQ(err.block->code, "guardrail_error");
  EXPECT_EQ(err.block->message, "guardrail 'py' failed: boom");
  for (const char* bad : {"nope", R"({"verdict":"maybe"})", R"({"verdict":"redact","redactions":[["a"]]})",
                          R"({"verdict":"rewrite"})", R"({"verdict":"rewrite","texts":[1]})"}) {
    EXPECT_TRUE(g.verdictFor(true, bad).error) << bad;
  }
  EXPECT_TRUE(g.verdictFor(false, "stopped").error);
}

}  // namespace
}  // namespace aigw::guardrails
