// The backstop a parked request holds while Python works for it: it fires once, on time (not
// later: a late backstop would make hook timeouts overshoot), cancels the job first, and a
// result that comes before it wins and stops it.
#include "hooks/hook_wait.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "loop_driver.h"

namespace aigw::hooks {
namespace {

using Clock = std::chrono::steady_clock;

using aigw::testing::onLoop;

struct Rig {
  EventLoop loop;
  HookQueue queue;
  std::unique_ptr<HookWait> wait;
  Rig() { loop.startThread(nullptr); }
  ~Rig() {
    onLoop(loop, [&] { wait.reset(); });
    queue.close();
    loop.stopAndJoin();
  }
};

TEST(HookWait, TheBackstopFiresOnTimeAndCancelsTheJob) {
  Rig rig;
  std::promise<Clock::time_point> fired;
  std::promise<bool> result_came;
  Clock::time_point armed;
  onLoop(rig.loop, [&] {
    rig.wait = std::make_unique<HookWait>(rig.queue, rig.loop);
    auto ticket =
        rig.queue.submit(rig.loop, "guardrail", "{}", [&](bool, std::string) { result_came.set_value(true); });
    armed = Clock::now();
    rig.wait->arm(std::move(ticket), 200, [&] { fired.set_value(Clock::now()); });
  });
  auto jobs = rig.queue.drain();  // the hook thread took it and never answers
  ASSERT_EQ(jobs.size(), 1u);
  auto when = fired.get_future();
  ASSERT_EQ(when.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.get() - armed).count();
  EXPECT_GE(ms, 199);
  EXPECT_LT(ms, 200 + 150);  // a loop timer's slack, not seconds
  EXPECT_EQ(rig.queue.drainCancelled(), std::vector<uint64_t>{jobs[0].id});
  rig.queue.complete(jobs[0].id, true, "late");  // dropped: the job was cancelled
  onLoop(rig.loop, [] {});
  EXPECT_EQ(result_came.get_future().wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
}

TEST(HookWait, AResultBeforeTheBackstopWinsAndStopsIt) {
  Rig rig;
  std::promise<std::string> result;
  bool fired = false;
  onLoop(rig.loop, [&] {
    rig.wait = std::make_unique<HookWait>(rig.queue, rig.loop);
    auto ticket = rig.queue.submit(rig.loop, "guardrail", "{}", [&](bool, std::string r) {
      rig.wait->cancel();  // what a check does with its verdict
      result.set_value(std::move(r));
    });
    rig.wait->arm(std::move(ticket), 100, [&] { fired = true; });
  });
  auto jobs = rig.queue.drain();
  ASSERT_EQ(jobs.size(), 1u);
  rig.queue.complete(jobs[0].id, true, "verdict");
  auto got = result.get_future();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(got.get(), "verdict");
  // Past the backstop's time: it was stopped with the result.
  std::promise<void> later;
  std::unique_ptr<Timer> after;
  onLoop(rig.loop, [&] {
    after = std::make_unique<Timer>(rig.loop.uv(), [&later] { later.set_value(); });
    after->start(200);
  });
  later.get_future().wait();
  onLoop(rig.loop, [&] {
    EXPECT_FALSE(fired);
    after.reset();
  });
}

}  // namespace
}  // namespace aigw::hooks
