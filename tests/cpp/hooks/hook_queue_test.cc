// The loop <-> hook-thread bridge: jobs come out in order, results land on the submitting
// loop, a cancelled request never hears back, and closing fails what is left.
#include "hooks/hook_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace aigw::hooks {
namespace {

// Runs `fn` on the loop thread and waits for it.
template <typename Fn>
void onLoop(EventLoop& loop, Fn fn) {
  std::promise<void> done;
  loop.post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

struct Result {
  std::promise<std::pair<bool, std::string>> promise;
  std::thread::id thread;
};

TEST(HookQueue, ResultsComeBackOnTheSubmittingLoop) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  Result r;
  std::thread::id loop_thread;
  onLoop(loop, [&] {
    loop_thread = std::this_thread::get_id();
    queue.submit(loop, "guardrails.input", "{\"a\":1}", [&](bool ok, std::string result) {
      r.thread = std::this_thread::get_id();
      r.promise.set_value({ok, std::move(result)});
    });
  });
  auto jobs = queue.take(10, 1000);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].kind, "guardrails.input");
  EXPECT_EQ(jobs[0].payload, "{\"a\":1}");
  EXPECT_EQ(queue.inFlight(), 1u);
  queue.complete(jobs[0].id, true, "{\"action\":\"allow\"}");
  auto [ok, result] = r.promise.get_future().get();
  EXPECT_TRUE(ok);
  EXPECT_EQ(result, "{\"action\":\"allow\"}");
  EXPECT_EQ(r.thread, loop_thread);
  EXPECT_EQ(queue.inFlight(), 0u);
  loop.stopAndJoin();
}

TEST(HookQueue, TakeReturnsBatchesInOrderAndTimesOutEmpty) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  onLoop(loop, [&] {
    for (int i = 0; i < 5; ++i) queue.submit(loop, "k", std::to_string(i), [](bool, std::string) {});
  });
  auto first = queue.take(3, 100);
  auto second = queue.take(3, 100);
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(first[0].payload, "0");
  EXPECT_EQ(second[1].payload, "4");
  EXPECT_TRUE(queue.take(3, 20).empty());
  queue.close();
  loop.stopAndJoin();
}

TEST(HookQueue, ACancelledJobIsNeverTakenAndALateResultIsDropped) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  std::atomic<int> calls{0};
  HookQueue::TicketPtr queued, taken;
  onLoop(loop, [&] {
    queued = queue.submit(loop, "k", "queued", [&](bool, std::string) { ++calls; });
    taken = queue.submit(loop, "k", "taken", [&](bool, std::string) { ++calls; });
  });
  auto jobs = queue.take(1, 100);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].payload, "queued");
  onLoop(loop, [&] {
    queue.cancel(queued);  // taken by the hook thread already
    queue.cancel(taken);   // still queued: it disappears
  });
  EXPECT_TRUE(queue.take(10, 20).empty());
  queue.complete(jobs[0].id, true, "late");
  onLoop(loop, [] {});  // let any posted result run
  onLoop(loop, [] {});
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(queue.inFlight(), 0u);
  EXPECT_EQ(queue.queued(), 0u);
  loop.stopAndJoin();
}

TEST(HookQueue, CancelAfterTheResultWasPostedStillWins) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  std::atomic<int> calls{0};
  onLoop(loop, [&] {
    auto ticket = queue.submit(loop, "k", "x", [&](bool, std::string) { ++calls; });
    auto jobs = queue.take(1, 100);
    ASSERT_EQ(jobs.size(), 1u);
    queue.complete(jobs[0].id, true, "r");  // posts the result behind this task ...
    queue.cancel(ticket);                    // ... which the request cancels first
  });
  onLoop(loop, [] {});
  EXPECT_EQ(calls.load(), 0);
  loop.stopAndJoin();
}

TEST(HookQueue, CloseFailsWhatIsWaitingAndEverythingAfter) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  std::promise<std::pair<bool, std::string>> before, after;
  onLoop(loop, [&] {
    queue.submit(loop, "k", "x", [&](bool ok, std::string r) { before.set_value({ok, r}); });
  });
  std::thread waiter([&] { EXPECT_TRUE(queue.take(10, 5000).size() <= 1u); });
  queue.close();
  waiter.join();
  onLoop(loop, [&] {
    queue.submit(loop, "k", "y", [&](bool ok, std::string r) { after.set_value({ok, r}); });
  });
  EXPECT_FALSE(before.get_future().get().first);
  auto late = after.get_future().get();
  EXPECT_FALSE(late.first);
  EXPECT_NE(late.second.find("stopped"), std::string::npos);
  EXPECT_TRUE(queue.closed());
  loop.stopAndJoin();
}

TEST(HookQueue, ManyLoopsAndAHookThreadUnderLoad) {
  constexpr int kLoops = 3;
  constexpr int kJobs = 2000;
  EventLoop loops[kLoops];
  for (auto& l : loops) l.startThread(nullptr);
  HookQueue queue;
  std::atomic<int> answered{0};
  std::atomic<bool> stop{false};
  std::thread hook([&] {
    while (!stop) {
      for (auto& job : queue.take(64, 10)) queue.complete(job.id, true, job.payload);
    }
  });
  for (int i = 0; i < kJobs; ++i) {
    EventLoop& loop = loops[i % kLoops];
    loop.post([&queue, &loop, &answered, i] {
      queue.submit(loop, "k", std::to_string(i), [&answered, i](bool ok, std::string r) {
        if (ok && r == std::to_string(i)) ++answered;
      });
    });
  }
  for (int spin = 0; spin < 500 && answered < kJobs; ++spin) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  hook.join();
  EXPECT_EQ(answered.load(), kJobs);
  for (auto& l : loops) l.stopAndJoin();
}

}  // namespace
}  // namespace aigw::hooks
