// ConcurrencyLimit: exact admission under contention, FIFO waiters granted on their own loop,
// cancellation before and after the grant, and waiters whose loop has stopped.
#include "router/limit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "loop_driver.h"

namespace aigw::router {
namespace {

using Result = ConcurrencyLimit::Result;

using testing::onLoop;

// Waits (bounded) until `cond` holds; the condition is set by another thread.
template <typename F>
bool eventually(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(ConcurrencyLimit, UnlimitedAlwaysAcquiresAndCounts) {
  EventLoop loop;
  ConcurrencyLimit limit(0, 0);
  ConcurrencyLimit::WaiterPtr waiter;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limit.acquire(loop, [] {}, &waiter), Result::Acquired);
  EXPECT_EQ(limit.inFlight(), 1000);
  EXPECT_EQ(waiter, nullptr);
  for (int i = 0; i < 1000; ++i) limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
  EXPECT_EQ(limit.pending(), 0);
}

TEST(ConcurrencyLimit, AdmitsExactlyTheCapAndThenQueuesAndRejects) {
  EventLoop loop;
  ConcurrencyLimit limit(2, 1);
  ConcurrencyLimit::WaiterPtr waiter;
  EXPECT_EQ(limit.acquire(loop, [] {}, &waiter), Result::Acquired);
  EXPECT_EQ(limit.acquire(loop, [] {}, &waiter), Result::Acquired);
  EXPECT_EQ(limit.acquire(loop, [] {}, &waiter), Result::Queued);
  ASSERT_NE(waiter, nullptr);
  ConcurrencyLimit::WaiterPtr none;
  EXPECT_EQ(limit.acquire(loop, [] {}, &none), Result::Rejected);
  EXPECT_EQ(none, nullptr);
  EXPECT_EQ(limit.inFlight(), 2);
  EXPECT_EQ(limit.pending(), 1);
  limit.cancel(waiter);
  limit.release();
  limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
}

TEST(ConcurrencyLimit, NeverExceedsTheCapUnderContention) {
  EventLoop loop;  // never used: nothing is queued without max_pending
  constexpr int64_t kCap = 3;
  ConcurrencyLimit limit(kCap, 0);
  std::atomic<int64_t> concurrent{0}, max_seen{0}, acquired{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        ConcurrencyLimit::WaiterPtr waiter;
        if (limit.acquire(loop, [] {}, &waiter) != Result::Acquired) {
          ++rejected;
          continue;
        }
        const int64_t now = ++concurrent;
        int64_t prev = max_seen.load();
        while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {}
        ++acquired;
        --concurrent;
        limit.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_seen.load(), kCap);
  EXPECT_EQ(acquired + rejected, 80000);
  EXPECT_GT(acquired.load(), 0);
  EXPECT_EQ(limit.inFlight(), 0);
}

TEST(ConcurrencyLimit, QueuedWaitersUnderContentionAllRunWithinTheCap) {
  EventLoop loop;
  loop.startThread(nullptr);
  constexpr int64_t kCap = 2;
  ConcurrencyLimit limit(kCap, 8);
  std::atomic<int64_t> concurrent{0}, max_seen{0}, completed{0}, rejected{0};
  const auto work = [&] {
    const int64_t now = ++concurrent;
    int64_t prev = max_seen.load();
    while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {}
    --concurrent;
    ++completed;
    limit.release();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        ConcurrencyLimit::WaiterPtr waiter;
        switch (limit.acquire(loop, work, &waiter)) {
          case Result::Acquired: work(); break;
          case Result::Queued: break;  // `work` runs on the loop
          case Result::Rejected: ++rejected; break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(eventually([&] { return completed + rejected == 20000; }));
  EXPECT_LE(max_seen.load(), kCap);
  EXPECT_EQ(limit.inFlight(), 0);
  EXPECT_EQ(limit.pending(), 0);
  loop.stopAndJoin();
}

TEST(ConcurrencyLimit, FreedSlotGoesToTheOldestWaiterOnItsLoop) {
  EventLoop loop;
  loop.startThread(nullptr);
  ConcurrencyLimit limit(1, 2);
  ConcurrencyLimit::WaiterPtr first, second;
  ASSERT_EQ(limit.acquire(loop, [] {}, &first), Result::Acquired);
  std::vector<int> order;
  bool on_loop = true;
  ASSERT_EQ(limit.acquire(loop, [&] { order.push_back(1); on_loop &= loop.isLoopThread(); }, &first), Result::Queued);
  ASSERT_EQ(limit.acquire(loop, [&] { order.push_back(2); on_loop &= loop.isLoopThread(); }, &second), Result::Queued);
  limit.release();
  onLoop(loop);
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(limit.inFlight(), 1);  // the slot moved; it was not freed
  EXPECT_EQ(limit.pending(), 1);
  limit.release();
  onLoop(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_TRUE(on_loop);
  limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
  loop.stopAndJoin();
}

TEST(ConcurrencyLimit, CancelBeforeTheGrantLeavesTheQueue) {
  EventLoop loop;
  loop.startThread(nullptr);
  ConcurrencyLimit limit(1, 1);
  ConcurrencyLimit::WaiterPtr waiter;
  ASSERT_EQ(limit.acquire(loop, [] {}, &waiter), Result::Acquired);
  bool ran = false;
  ASSERT_EQ(limit.acquire(loop, [&] { ran = true; }, &waiter), Result::Queued);
  onLoop(loop, [&] { limit.cancel(waiter); });
  EXPECT_EQ(limit.pending(), 0);
  limit.release();
  onLoop(loop);
  EXPECT_FALSE(ran);
  EXPECT_EQ(limit.inFlight(), 0);
  // The queue has room again.
  ConcurrencyLimit::WaiterPtr again;
  EXPECT_EQ(limit.acquire(loop, [] {}, &again), Result::Acquired);
  limit.release();
  loop.stopAndJoin();
}

TEST(ConcurrencyLimit, CancelAfterTheGrantPassesTheSlotOn) {
  EventLoop loop;
  loop.startThread(nullptr);
  ConcurrencyLimit limit(1, 2);
  ConcurrencyLimit::WaiterPtr holder, cancelled, next;
  ASSERT_EQ(limit.acquire(loop, [] {}, &holder), Result::Acquired);
  bool cancelled_ran = false, next_ran = false;
  ASSERT_EQ(limit.acquire(loop, [&] { cancelled_ran = true; }, &cancelled), Result::Queued);
  ASSERT_EQ(limit.acquire(loop, [&] { next_ran = true; }, &next), Result::Queued);
  // Keep the loop busy so the grant is posted but cannot run before the cancel.
  std::promise<void> go;
  ASSERT_TRUE(loop.post([&, f = go.get_future().share()] {
    f.wait();
    limit.cancel(cancelled);
  }));
  limit.release();  // grants `cancelled`; its task is queued behind the one above
  EXPECT_EQ(limit.pending(), 1);
  go.set_value();
  onLoop(loop);
  onLoop(loop);  // the cancel posted `next`'s grant while the first runOn task may already be queued
  EXPECT_FALSE(cancelled_ran);
  EXPECT_TRUE(next_ran);
  EXPECT_EQ(limit.inFlight(), 1);  // held by `next` now
  limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
  // Cancelling after the callback ran is a no-op.
  onLoop(loop, [&] { limit.cancel(next); });
  EXPECT_EQ(limit.inFlight(), 0);
  loop.stopAndJoin();
}

TEST(ConcurrencyLimit, WaiterOnAStoppedLoopIsSkipped) {
  EventLoop stopped;
  stopped.startThread(nullptr);
  stopped.stopAndJoin();
  EventLoop live;
  live.startThread(nullptr);
  ConcurrencyLimit limit(1, 2);
  ConcurrencyLimit::WaiterPtr holder, dead, alive;
  ASSERT_EQ(limit.acquire(live, [] {}, &holder), Result::Acquired);
  bool dead_ran = false, alive_ran = false;
  ASSERT_EQ(limit.acquire(stopped, [&] { dead_ran = true; }, &dead), Result::Queued);
  ASSERT_EQ(limit.acquire(live, [&] { alive_ran = true; }, &alive), Result::Queued);
  limit.release();
  onLoop(live);
  EXPECT_FALSE(dead_ran);
  EXPECT_TRUE(alive_ran);
  EXPECT_EQ(limit.inFlight(), 1);
  limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
  // With nobody else waiting the slot is simply freed.
  ConcurrencyLimit::WaiterPtr dead2;
  ASSERT_EQ(limit.acquire(live, [] {}, &holder), Result::Acquired);
  ASSERT_EQ(limit.acquire(stopped, [] {}, &dead2), Result::Queued);
  limit.release();
  EXPECT_EQ(limit.inFlight(), 0);
  EXPECT_EQ(limit.pending(), 0);
  live.stopAndJoin();
}

}  // namespace
}  // namespace aigw::router
