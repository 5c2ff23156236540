// StageRun with asynchronous guardrails (fakes standing in for Python and moderation): one
// priority order across kinds, equal priorities started together, verdicts applied as they
// come, the first block cancelling its running siblings, and a run that settles exactly once.
#include "guardrails/stage_run.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"
#include "guardrails_test_util.h"

namespace aigw::guardrails {
namespace {

GuardrailSettings settings(const std::string& name, int64_t priority, uint32_t index, bool fail_open = false) {
  GuardrailSettings s;
  s.name = name;
  s.kind = "fake";
  s.priority = priority;
  s.index = index;
  s.fail_open = fail_open;
  return s;
}

class FakeAsync final : public Guardrail {
 public:
  using Guardrail::Guardrail;
  CheckResult check(CheckInput&) const override { return {}; }
  bool asynchronous() const override { return true; }
};

// A synchronous guardrail that notes what it saw and appends a mark to every text.
class Marker final : public Guardrail {
 public:
  Marker(GuardrailSettings s, std::vector<std::string>& log) : Guardrail(std::move(s)), log_(log) {}
  CheckResult check(CheckInput& in) const override {
    log_.push_back(name() + " saw " + *(*in.texts)[0]);
    for (std::string* t : *in.texts) *t += "+" + name();
    CheckResult r;
    r.verdict = Verdict::Rewrite;
    return r;
  }

 private:
  std::vector<std::string>& log_;
};

struct Started {
  const Guardrail* guardrail;
  std::string text;  // the first text when it started
  CheckDone done;
  bool* cancelled;
};

using testing::FakeCheck;

class Host final : public StageHost {
 public:
  AsyncCheckPtr startCheck(const Guardrail& g, const CheckInput& in, CheckDone done) override {
    flags.push_back(std::make_unique<bool>(false));
    started.push_back(Started{&g, in.texts->empty() ? "" : *(*in.texts)[0], std::move(done), flags.back().get()});
    if (answer_at_once) {
      CheckDone d = std::move(started.back().done);
      d(*answer_at_once);
    }
    return std::make_unique<FakeCheck>(flags.back().get());
  }
  void dropCheck(AsyncCheckPtr check) override { dropped.push_back(std::move(check)); }
  void settled(StageOutcome o) override {
    ++settled_count;
    outcome = o;
  }
  // Answers the check started as number `i`.
  void answer(size_t i, CheckResult r) {
    CheckDone d = std::move(started.at(i).done);
    ASSERT_TRUE(d) << "answered twice";
    d(std::move(r));
  }
  bool cancelled(size_t i) const { return *started.at(i).cancelled; }

  std::vector<Started> started;
  std::vector<std::unique_ptr<bool>> flags;
  std::vector<AsyncCheckPtr> dropped;
  std::unique_ptr<CheckResult> answer_at_once;
  int settled_count = 0;
  StageOutcome outcome;
};

CheckResult blockResult() {
  CheckResult r;
  r.verdict = Verdict::Block;
  return r;
}

struct Fixture {
  std::vector<std::unique_ptr<Guardrail>> owned;
  Selection sel;
  std::vector<std::string> log;
  std::string text = "hello";
  TextRefs texts{&text};

  const Guardrail* async(const std::string& name, int64_t priority, bool fail_open = false) {
    owned.push_back(std::make_unique<FakeAsync>(settings(name, priority, static_cast<uint32_t>(owned.size()), fail_open)));
    sel.add(owned.back().get());
    return owned.back().get();
  }
  const Guardrail* marker(const std::string& name, int64_t priority) {
    owned.push_back(std::make_unique<Marker>(settings(name, priority, static_cast<uint32_t>(owned.size())), log));
    sel.add(owned.back().get());
    return owned.back().get();
  }
  CheckInput input() {
    CheckInput in;
    in.texts = &texts;
    return in;
  }
};

TEST(StageRun, EqualPrioritiesStartTogetherAndTheNextWaitsForAll) {
  Fixture f;
  f.async("a", 0);
  f.async("b", 0);
  f.async("late", 5);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  StageRun run(req, req.selection().input, f.input(), &host);
  EXPECT_EQ(run.run().status, StageOutcome::Status::Pending);
  ASSERT_EQ(host.started.size(), 2u);  // a and b at once, late not yet
  EXPECT_EQ(run.running(), 2u);
  host.answer(1, {});
  EXPECT_EQ(host.started.size(), 2u);  // a still runs: priority 5 waits
  host.answer(0, {});
  ASSERT_EQ(host.started.size(), 3u);
  EXPECT_EQ(host.started[2].guardrail->name(), "late");
  EXPECT_EQ(host.settled_count, 0);
  host.answer(2, {});
  EXPECT_EQ(host.settled_count, 1);
  EXPECT_EQ(host.outcome.status, StageOutcome::Status::Done);
  ASSERT_EQ(req.results().size(), 3u);
  EXPECT_EQ(req.results()[0].name(), "b");  // in the order the verdicts came
  EXPECT_EQ(host.dropped.size(), 3u);       // every finished check is released
}

TEST(StageRun, OnePriorityOrderAcrossKindsSynchronousFirstWithinAPriority) {
  Fixture f;
  f.marker("sync-late", 5);
  f.async("py-early", -1);
  f.async("py-0", 0);
  f.marker("sync-0", 0);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  StageRun run(req, req.selection().input, f.input(), &host);
  EXPECT_EQ(run.run().status, StageOutcome::Status::Pending);
  ASSERT_EQ(host.started.size(), 1u);
  EXPECT_EQ(host.started[0].guardrail->name(), "py-early");
  EXPECT_TRUE(f.log.empty());  // priority 0 waits for -1
  CheckResult rewrite;
  rewrite.verdict = Verdict::Rewrite;
  rewrite.rewritten = {"HELLO"};
  host.answer(0, std::move(rewrite));
  // Priority 0: the synchronous guardrail ran first, on the rewritten text; then the
  // asynchronous one started on what it left.
  ASSERT_EQ(f.log.size(), 1u);
  EXPECT_EQ(f.log[0], "sync-0 saw HELLO");
  ASSERT_EQ(host.started.size(), 2u);
  EXPECT_EQ(host.started[1].text, "HELLO+sync-0");
  CheckResult redact;
  redact.verdict = Verdict::Redact;
  redact.redactions = {{"HELLO", "[X]"}};
  host.answer(1, std::move(redact));
  EXPECT_EQ(f.log.back(), "sync-late saw [X]+sync-0");
  EXPECT_EQ(host.settled_count, 1);
  EXPECT_TRUE(host.outcome.changed);
  EXPECT_EQ(f.text, "[X]+sync-0+sync-late");
}

TEST(StageRun, TheFirstBlockCancelsRunningSiblingsAndLaterPrioritiesNeverStart) {
  Fixture f;
  f.async("slow", 0);
  f.async("blocker", 0);
  f.async("third", 0);
  f.async("never", 1);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  StageRun run(req, req.selection().input, f.input(), &host);
  ASSERT_EQ(run.run().status, StageOutcome::Status::Pending);
  ASSERT_EQ(host.started.size(), 3u);
  host.answer(2, {});  // third allows
  host.answer(1, blockResult());
  EXPECT_TRUE(host.cancelled(0));
  EXPECT_FALSE(host.cancelled(2));
  EXPECT_EQ(host.settled_count, 1);
  EXPECT_EQ(host.outcome.status, StageOutcome::Status::Blocked);
  EXPECT_EQ(host.started.size(), 3u);
  EXPECT_EQ(req.blocked().guardrail->name(), "blocker");
  ASSERT_EQ(req.results().size(), 3u);
  EXPECT_TRUE(req.results()[2].cancelled);
  EXPECT_EQ(req.results()[2].name(), "slow");
  EXPECT_EQ(f.owned[0]->counters().runs.load(), 1u);  // a cancelled check did run
  EXPECT_EQ(f.owned[3]->counters().runs.load(), 0u);
  // A verdict that still comes for the cancelled one changes nothing.
  host.answer(0, blockResult());
  EXPECT_EQ(host.settled_count, 1);
  EXPECT_EQ(f.owned[0]->counters().blocks.load(), 0u);
}

TEST(StageRun, AVerdictBeforeStartCheckReturnsNeedsNoWaiting) {
  Fixture f;
  f.async("a", 0);
  f.async("b", 0);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  host.answer_at_once = std::make_unique<CheckResult>();
  StageRun run(req, req.selection().input, f.input(), &host);
  EXPECT_EQ(run.run().status, StageOutcome::Status::Done);
  EXPECT_EQ(host.settled_count, 0);  // run() said it: settled() is only for Pending runs
  EXPECT_EQ(req.results().size(), 2u);
  // A block answered at once stops the rest of its priority from starting.
  Fixture g;
  g.async("x", 0);
  g.async("y", 0);
  RequestGuardrails req2(g.sel, Endpoint::ChatCompletions);
  Host host2;
  host2.answer_at_once = std::make_unique<CheckResult>(blockResult());
  StageRun run2(req2, req2.selection().input, g.input(), &host2);
  EXPECT_EQ(run2.run().status, StageOutcome::Status::Blocked);
  EXPECT_EQ(host2.started.size(), 1u);
}

TEST(StageRun, ErrorsFollowOnErrorAndBadRewritesAreErrors) {
  Fixture f;
  f.async("lenient", 0, /*fail_open=*/true);
  f.async("strict", 1);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  StageRun run(req, req.selection().input, f.input(), &host);
  ASSERT_EQ(run.run().status, StageOutcome::Status::Pending);
  CheckResult failed;
  failed.error = true;
  failed.timeout = true;
  failed.reason = "timed out";
  host.answer(0, std::move(failed));
  ASSERT_EQ(host.started.size(), 2u);  // allowed: on_error allow
  CheckResult misfit;
  misfit.verdict = Verdict::Rewrite;
  misfit.rewritten = {"a", "b"};  // two texts for one
  host.answer(1, std::move(misfit));
  EXPECT_EQ(host.outcome.status, StageOutcome::Status::Blocked);
  EXPECT_EQ(f.owned[0]->counters().timeouts.load(), 1u);
  EXPECT_EQ(f.owned[0]->counters().errors.load(), 1u);
  EXPECT_EQ(f.owned[1]->counters().errors.load(), 1u);
  EXPECT_EQ(req.results()[0].error_reason, "timed out");
  EXPECT_TRUE(req.results()[0].timeout);
  EXPECT_EQ(f.text, "hello");
}

TEST(StageRun, DestroyingARunCancelsWhatRuns) {
  Fixture f;
  f.async("a", 0);
  f.async("b", 0);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  {
    StageRun run(req, req.selection().input, f.input(), &host);
    ASSERT_EQ(run.run().status, StageOutcome::Status::Pending);
    host.answer(0, {});
  }
  EXPECT_FALSE(host.cancelled(0));  // it had answered
  EXPECT_TRUE(host.cancelled(1));
  EXPECT_EQ(host.settled_count, 0);
}

TEST(StageRun, CutShortByTheRequestsEndItsRunningChecksAreBookedAsCancelled) {
  Fixture f;
  f.async("a", 0);
  f.async("b", 0);
  f.async("later", 1);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  Host host;
  StageRun run(req, req.selection().input, f.input(), &host);
  ASSERT_EQ(run.run().status, StageOutcome::Status::Pending);
  host.answer(0, {});
  req.cutShort();  // the record is being written: the client left
  EXPECT_TRUE(host.cancelled(1));
  EXPECT_EQ(host.settled_count, 0);
  ASSERT_EQ(req.results().size(), 2u);  // "later" never started
  EXPECT_FALSE(req.results()[0].cancelled);
  EXPECT_EQ(req.results()[1].name(), "b");
  EXPECT_TRUE(req.results()[1].cancelled);
  req.cutShort();  // nothing runs any more
  EXPECT_EQ(req.results().size(), 2u);
}

TEST(StageRun, WithoutAHostOrAtTheStreamStageAnAsynchronousGuardrailCannotDecide) {
  Fixture f;
  f.async("a", 0, /*fail_open=*/true);
  f.async("b", 1);
  RequestGuardrails req(f.sel, Endpoint::ChatCompletions);
  StageRun run(req, req.selection().input, f.input());
  EXPECT_EQ(run.run().status, StageOutcome::Status::Blocked);  // b fails closed
  EXPECT_EQ(f.owned[0]->counters().errors.load(), 1u);
}

TEST(ReplaceAll, LongestFirstInOnePass) {
  std::string t = "sk-abc and sk-abcdef, again sk-abc";
  EXPECT_TRUE(replaceAll(t, {{"sk-abc", "[K]"}, {"sk-abcdef", "[LONG]"}}));
  EXPECT_EQ(t, "[K] and [LONG], again [K]");
  std::string u = "aaa";
  EXPECT_TRUE(replaceAll(u, {{"a", "aa"}}));  // replacements are not searched again
  EXPECT_EQ(u, "aaaaaa");
  std::string v = "nothing";
  EXPECT_FALSE(replaceAll(v, {{"x", "y"}, {"", "z"}}));
  EXPECT_EQ(v, "nothing");
}

}  // namespace
}  // namespace aigw::guardrails
