// The loop <-> hook-thread bridge: jobs come out in order, results land on the submitting
// loop, a cancelled request never hears back, and closing fails what is left.
#include "hooks/hook_queue.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "loop_driver.h"

namespace aigw::hooks {
namespace {

using aigw::testing::onLoop;

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
  auto jobs = queue.drain();
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

// The eventfd is readable exactly while jobs wait: one wake-up per batch.
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(HookQueue, DrainReturnsJobsInOrderAndResetsTheEventFd) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  const int fd = queue.notifyFd();
  EXPECT_FALSE(readable(fd));
  onLoop(loop, [&] {
    for (int i = 0; i < 5; ++i) queue.submit(loop, "k", std::to_string(i), [](bool, std::string) {});
  });
  EXPECT_TRUE(readable(fd));
  auto jobs = queue.drain();
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].payload, "0");
  EXPECT_EQ(jobs[4].payload, "4");
  EXPECT_FALSE(readable(fd));
  EXPECT_TRUE(queue.drain().empty());
  onLoop(loop, [&] { queue.submit(loop, "k", "5", [](bool, std::string) {}); });
  EXPECT_TRUE(readable(fd));
  queue.close();
  loop.stopAndJoin();
}

TEST(HookQueue, ACancelledJobIsNeverTakenAndALateResultIsDropped) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  std::atomic<int> calls{0};
  HookQueue::TicketPtr queued, taken;
  onLoop(loop, [&] { taken = queue.submit(loop, "k", "taken", [&](bool, std::string) { ++calls; }); });
  auto jobs = queue.drain();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].payload, "taken");
  onLoop(loop, [&] {
    queued = queue.submit(loop, "k", "queued", [&](bool, std::string) { ++calls; });
    queue.cancel(taken);   // taken by the hook thread already
    queue.cancel(queued);  // still queued: it disappears
  });
  EXPECT_TRUE(queue.drain().empty());
  // Only the taken one is reported to the hook thread (so it can stop working on it).
  EXPECT_EQ(queue.drainCancelled(), std::vector<uint64_t>{jobs[0].id});
  EXPECT_TRUE(queue.drainCancelled().empty());
  queue.complete(jobs[0].id, true, "late");
  onLoop(loop, [] {});  // let any posted result run
  onLoop(loop, [] {});
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(queue.inFlight(), 0u);
  EXPECT_EQ(queue.queued(), 0u);
  loop.stopAndJoin();
}

TEST(HookQueue, CancellingATakenJobWakesTheHookThread) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  const int fd = queue.notifyFd();
  HookQueue::TicketPtr a, b;
  onLoop(loop, [&] {
    a = queue.submit(loop, "k", "a", [](bool, std::string) {});
    b = queue.submit(loop, "k", "b", [](bool, std::string) {});
  });
  auto jobs = queue.drain();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_FALSE(readable(fd));
  onLoop(loop, [&] {
    queue.cancel(a);
    queue.cancel(b);
    queue.cancel(a);  // twice: reported once
  });
  EXPECT_TRUE(readable(fd));  // one wake-up for both
  EXPECT_TRUE(queue.drain().empty());
  EXPECT_EQ(queue.drainCancelled(), (std::vector<uint64_t>{jobs[0].id, jobs[1].id}));
  EXPECT_FALSE(readable(fd));
  queue.complete(jobs[1].id, true, "late");  // after cancel: ignored
  EXPECT_EQ(queue.inFlight(), 0u);
  queue.close();
  loop.stopAndJoin();
}

TEST(HookQueue, CancelAfterTheResultWasPostedStillWins) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  std::atomic<int> calls{0};
  onLoop(loop, [&] {
    auto ticket = queue.submit(loop, "k", "x", [&](bool, std::string) { ++calls; });
    auto jobs = queue.drain();
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
  queue.close();
  EXPECT_TRUE(queue.drain().empty());
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

TEST(HookQueue, WaitSleepsUntilJobsOrTheOtherFdAndTakesJobsWithTheirCancellations) {
  EventLoop loop;
  loop.startThread(nullptr);
  HookQueue queue;
  auto idle = queue.wait(-1, 0);  // nothing yet: returns at once
  EXPECT_TRUE(idle.jobs.empty());
  EXPECT_FALSE(idle.other_ready);
  std::promise<HookQueue::Wake> woke;
  std::thread hook([&] { woke.set_value(queue.wait(-1, 10000)); });
  HookQueue::TicketPtr taken;
  onLoop(loop, [&] { taken = queue.submit(loop, "k", "a", [](bool, std::string) {}); });
  auto first = woke.get_future().get();
  hook.join();
  ASSERT_EQ(first.jobs.size(), 1u);
  EXPECT_EQ(first.jobs[0].payload, "a");
  onLoop(loop, [&] {
    queue.cancel(taken);
    queue.submit(loop, "k", "b", [](bool, std::string) {});
  });
  auto second = queue.wait(-1, 10000);
  ASSERT_EQ(second.jobs.size(), 1u);
  EXPECT_EQ(second.jobs[0].payload, "b");
  EXPECT_EQ(second.cancelled, std::vector<uint64_t>{first.jobs[0].id});
  // Another event source of the hook thread (its asyncio loop's epoll fd) wakes it too.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_FALSE(queue.wait(pipe_fds[0], 0).other_ready);
  ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
  auto other = queue.wait(pipe_fds[0], 10000);
  EXPECT_TRUE(other.other_ready);
  EXPECT_TRUE(other.jobs.empty());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  queue.close();
  loop.stopAndJoin();
}

// Submits `count` jobs from three loops to a queue whose hook thread is running (it must echo
// each payload); returns how many came back right within 5 s.
int submitFromThreeLoops(HookQueue& queue, int count) {
  constexpr int kLoops = 3;
  EventLoop loops[kLoops];
  for (auto& l : loops) l.startThread(nullptr);
  std::atomic<int> answered{0};
  for (int i = 0; i < count; ++i) {
    EventLoop& loop = loops[i % kLoops];
    loop.post([&queue, &loop, &answered, i] {
      queue.submit(loop, "k", std::to_string(i), [&answered, i](bool ok, std::string r) {
        if (ok && r == std::to_string(i)) ++answered;
      });
    });
  }
  for (int spin = 0; spin < 500 && answered < count; ++spin) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (auto& l : loops) l.stopAndJoin();
  return answered.load();
}

// No job is left waiting without a wake-up (the eventfd is written after the lock): a hook
// thread that only ever sleeps in wait() with no timeout answers every job.
TEST(HookQueue, AHookThreadSleepingInWaitMissesNoJob) {
  HookQueue queue;
  std::thread hook([&] {
    while (!queue.closed()) {
      for (auto& job : queue.wait(-1, -1).jobs) queue.complete(job.id, true, job.payload);
    }
  });
  EXPECT_EQ(submitFromThreeLoops(queue, 3000), 3000);
  queue.close();  // wakes the hook thread for the last time
  hook.join();
}

TEST(HookQueue, ManyLoopsAndAHookThreadUnderLoad) {
  HookQueue queue;
  std::atomic<bool> stop{false};
  std::thread hook([&] {
    while (!stop) {
      for (auto& job : queue.drain()) queue.complete(job.id, true, job.payload);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  EXPECT_EQ(submitFromThreeLoops(queue, 2000), 2000);
  stop = true;
  hook.join();
}

}  // namespace
}  // namespace aigw::hooks
