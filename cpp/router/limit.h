// Per-target concurrency cap shared by every worker: at most `max_in_flight` requests hold a
// slot; up to `max_pending` more wait in FIFO order for one; the rest are refused at once.
// A waiter belongs to one worker's loop; a freed slot is handed to the oldest waiter and its
// callback is posted to that waiter's loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/event_loop.h"

namespace aigw::router {

class ConcurrencyLimit {
 public:
  // max_in_flight 0: unlimited (acquire always succeeds, nothing is counted under a lock).
  ConcurrencyLimit(int64_t max_in_flight, int64_t max_pending);

  class Waiter;
  using WaiterPtr = std::shared_ptr<Waiter>;

  enum class Result { Acquired, Queued, Rejected };
  // Acquired: the caller holds a slot (release() it later). Queued: *waiter is set; `granted`
  // runs later on `loop` holding a slot, unless cancel(*waiter) came first. Rejected: over both
  // caps; nothing is held.
  Result acquire(EventLoop& loop, std::function<void()> granted, WaiterPtr* waiter);
  // Frees a slot: hands it to the oldest waiter or makes it available.
  void release();
  // The waiter gives up (its request ended). If its slot was already granted but `granted` has
  // not run yet, the slot is released here and `granted` will not run. Call on the waiter's loop.
  void cancel(const WaiterPtr& waiter);

  int64_t inFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  int64_t pending() const;
  int64_t maxInFlight() const { return max_in_flight_; }
  int64_t maxPending() const { return max_pending_; }

 private:
  const int64_t max_in_flight_;
  const int64_t max_pending_;
  std::atomic<int64_t> in_flight_{0};
  mutable std::mutex mu_;
  std::deque<WaiterPtr> waiters_;
};

}  // namespace aigw::router
