// The hook thread's policy without Python: jobs start in order, instant verdicts leave together
// just before the thread sleeps, a job that keeps running or a cancel that stops one hands the
// thread back to its event loop, and one deadline covers the whole wait.
#include "hooks/hook_scheduler.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loop_driver.h"

namespace aigw::hooks {
namespace {

using aigw::testing::onLoop;
using Clock = std::chrono::steady_clock;

// The runner side, scripted by payload: "run..." keeps running (a task), "fail..." fails in
// the runner, anything else answers at once with "verdict:<payload>". It records what the
// scheduler asked, and checks it is never asked to work while it sleeps.
class FakeRunner final : public HookRunner {
 public:
  explicit FakeRunner(HookQueue& queue) : queue_(queue) {}

  JobStart start(const Job& job) override {
    EXPECT_FALSE(asleep_) << "started a job while asleep";
    calls.push_back("start " + job.payload);
    in_flight_at_start.push_back(queue_.inFlight());
    if (on_start) on_start(job);
    if (job.payload.rfind("run", 0) == 0) {
      running_.insert(job.id);
      return JobStart::running();
    }
    if (job.payload.rfind("fail", 0) == 0) return JobStart::failed("runner failed on " + job.payload);
    return JobStart::answered("verdict:" + job.payload);
  }

  bool cancel(uint64_t id) override {
    EXPECT_FALSE(asleep_) << "cancelled a job while asleep";
    calls.push_back("cancel " + std::to_string(id));
    return running_.erase(id) == 1 && cancel_stops_tasks;
  }

  void beforeSleep() override {
    EXPECT_FALSE(asleep_);
    asleep_ = true;
    ++sleeps;
    in_flight_at_sleep.push_back(queue_.inFlight());
  }
  void afterSleep() override {
    EXPECT_TRUE(asleep_);
    asleep_ = false;
  }

  std::vector<std::string> calls;
  std::vector<size_t> in_flight_at_start;  // taken and not completed, as each job starts
  std::vector<size_t> in_flight_at_sleep;
  int sleeps = 0;
  bool cancel_stops_tasks = true;
  std::function<void(const Job&)> on_start;

 private:
  HookQueue& queue_;
  std::set<uint64_t> running_;
  bool asleep_ = false;
};

// A worker's loop submitting jobs, the queue, and the results as the loop receives them.
struct Rig {
  EventLoop loop;
  HookQueue queue;
  HookScheduler scheduler{queue};
  FakeRunner runner{queue};

  Rig() { loop.startThread(nullptr); }
  ~Rig() {
    queue.close();
    loop.stopAndJoin();
  }

  HookQueue::TicketPtr submit(const std::string& payload) {
    HookQueue::TicketPtr ticket;
    onLoop(loop, [&] {
      ticket = queue.submit(loop, "guardrail", payload, [this, payload](bool ok, std::string result) {
        std::lock_guard<std::mutex> lock(mu_);
        results_.push_back(payload + (ok ? " ok " : " failed ") + result);
        changed_.notify_all();
      });
    });
    return ticket;
  }
  void cancel(const HookQueue::TicketPtr& ticket) {
    onLoop(loop, [&] { queue.cancel(ticket); });
  }
  // The first `count` results in the order the loop got them (waits up to 5 s for them).
  std::vector<std::string> results(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(5), [&] { return results_.size() >= count; });
    return results_;
  }
  // Every result so far, once the loop ran what was posted before this call.
  std::vector<std::string> resultsNow() {
    onLoop(loop, [] {});
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> results_;
};

TEST(HookScheduler, StartsABatchInOrderAndSendsItsInstantVerdictsTogetherBeforeSleeping) {
  Rig rig;
  for (const char* p : {"a", "b", "c"}) rig.submit(p);
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 0));
  EXPECT_EQ(rig.runner.calls, (std::vector<std::string>{"start a", "start b", "start c"}));
  // No verdict left while the batch ran: the worker they wake would preempt the hook thread.
  EXPECT_EQ(rig.runner.in_flight_at_start, (std::vector<size_t>{3, 3, 3}));
  EXPECT_EQ(rig.runner.in_flight_at_sleep, (std::vector<size_t>{0, 0}));
  EXPECT_EQ(rig.results(3),
            (std::vector<std::string>{"a ok verdict:a", "b ok verdict:b", "c ok verdict:c"}));
}

TEST(HookScheduler, JobsThatComeWhileABatchRunsAreServedInTheSameWait) {
  Rig rig;
  rig.submit("a");
  rig.runner.on_start = [&](const Job& job) {
    if (job.payload == "a") rig.submit("b");
  };
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 0));
  EXPECT_EQ(rig.runner.calls, (std::vector<std::string>{"start a", "start b"}));
  EXPECT_EQ(rig.runner.sleeps, 3);  // a; b; nothing more: the timeout
  // a's verdict left before the sleep that found b.
  EXPECT_EQ(rig.runner.in_flight_at_sleep, (std::vector<size_t>{0, 0, 0}));
  EXPECT_EQ(rig.results(2), (std::vector<std::string>{"a ok verdict:a", "b ok verdict:b"}));
}

TEST(HookScheduler, AJobThatKeepsRunningHandsTheThreadToItsLoopWithTheBatchVerdictsSent) {
  Rig rig;
  for (const char* p : {"a", "run-b", "c"}) rig.submit(p);
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 10000));  // returns at once, not at 10 s
  EXPECT_EQ(rig.runner.sleeps, 1);
  EXPECT_EQ(rig.runner.calls, (std::vector<std::string>{"start a", "start run-b", "start c"}));
  EXPECT_EQ(rig.results(2), (std::vector<std::string>{"a ok verdict:a", "c ok verdict:c"}));
  EXPECT_EQ(rig.queue.inFlight(), 1u);  // run-b answers later, as a task does
}

TEST(HookScheduler, AJobTheRunnerFailsOnFailsAtOnceAndAlone) {
  Rig rig;
  for (const char* p : {"fail-a", "b"}) rig.submit(p);
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 0));
  // fail-a was completed before b started; b's verdict waited for the end of the batch.
  EXPECT_EQ(rig.runner.in_flight_at_start, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(rig.results(2),
            (std::vector<std::string>{"fail-a failed runner failed on fail-a", "b ok verdict:b"}));
}

// Whether a cancel that stopped a task hands the thread back to its loop (a cancelled task
// must run to see its CancelledError) or lets it sleep on (nothing to stop).
struct CancelCase {
  const char* name;
  bool stops_task;
  int sleeps;  // in the serve() that gets the cancellations
};

class HookSchedulerCancel : public ::testing::TestWithParam<CancelCase> {};

TEST_P(HookSchedulerCancel, CancelsFollowTheBatchStartsAndEveryOneIsMade) {
  const CancelCase& c = GetParam();
  Rig rig;
  rig.runner.cancel_stops_tasks = c.stops_task;
  auto a = rig.submit("run-a");
  auto b = rig.submit("run-b");
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 0));
  const uint64_t id_a = a->id();
  const uint64_t id_b = b->id();
  rig.cancel(a);
  rig.cancel(b);
  rig.submit("c");
  rig.runner.calls.clear();
  rig.runner.sleeps = 0;
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 0));
  EXPECT_EQ(rig.runner.calls, (std::vector<std::string>{"start c", "cancel " + std::to_string(id_a),
                                                        "cancel " + std::to_string(id_b)}));
  EXPECT_EQ(rig.runner.sleeps, c.sleeps);
  EXPECT_EQ(rig.results(1), std::vector<std::string>{"c ok verdict:c"});
  EXPECT_EQ(rig.queue.inFlight(), 0u);
}

INSTANTIATE_TEST_SUITE_P(HookScheduler, HookSchedulerCancel,
                         ::testing::Values(CancelCase{"StoppedATask", true, 1},
                                           CancelCase{"StoppedNothing", false, 2}),
                         [](const ::testing::TestParamInfo<CancelCase>& info) { return info.param.name; });

TEST(HookScheduler, TheLoopFdEndsTheWaitOnceTheBatchIsStarted) {
  Rig rig;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, fds[0], 0));
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_TRUE(rig.scheduler.serve(rig.runner, fds[0], 10000));  // nothing queued: at once
  rig.submit("a");
  rig.runner.sleeps = 0;
  EXPECT_TRUE(rig.scheduler.serve(rig.runner, fds[0], 10000));
  EXPECT_EQ(rig.runner.sleeps, 1);
  EXPECT_EQ(rig.runner.calls, std::vector<std::string>{"start a"});
  EXPECT_EQ(rig.results(1), std::vector<std::string>{"a ok verdict:a"});
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(HookScheduler, ReturnsAtTheTimeoutWhenNothingComes) {
  Rig rig;
  const auto begin = Clock::now();
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 50));
  EXPECT_GE(Clock::now() - begin, std::chrono::milliseconds(49));  // poll() sleeps at least that
  EXPECT_TRUE(rig.runner.calls.empty());
  EXPECT_TRUE(rig.resultsNow().empty());
}

// Batches answered at once do not restart the timeout: the asyncio loop's own timers (a
// check's timeout among them) would fire late otherwise.
TEST(HookScheduler, OneDeadlineCoversEveryBatchOfAWait) {
  Rig rig;
  rig.submit("a");
  rig.runner.on_start = [](const Job&) { std::this_thread::sleep_for(std::chrono::milliseconds(300)); };
  const auto begin = Clock::now();
  EXPECT_FALSE(rig.scheduler.serve(rig.runner, -1, 200));
  // 300 ms in start(), then no more waiting; a fresh timeout would have made it 500 ms.
  EXPECT_LT(Clock::now() - begin, std::chrono::milliseconds(450));
  EXPECT_EQ(rig.runner.sleeps, 2);
  EXPECT_EQ(rig.results(1), std::vector<std::string>{"a ok verdict:a"});
}

TEST(HookScheduler, ClosingTheQueueEndsAWaitWithoutLimit) {
  Rig rig;
  rig.queue.notifyFd();  // exists before close(), which then writes it (as a started gateway's does)
  bool served = true;
  std::thread hook([&] { served = rig.scheduler.serve(rig.runner, -1, -1); });
  rig.queue.close();
  hook.join();
  EXPECT_FALSE(served);
  EXPECT_TRUE(rig.runner.calls.empty());
}

}  // namespace
}  // namespace aigw::hooks
