#include "router/limit.h"

namespace aigw::router {

// One queued request. Its state moves Queued -> Granted -> Done (the callback ran), or to
// Cancelled from Queued or Granted. Queued -> * happens under the limit's mutex; Granted -> *
// by compare-and-swap, because the posted task, cancel() and a failed post race for it.
class ConcurrencyLimit::Waiter {
 public:
  enum State { Queued, Granted, Done, Cancelled };
  Waiter(EventLoop& loop, std::function<void()> granted) : loop(loop), granted(std::move(granted)) {}

  bool leaveGranted(State to) {
    int expected = Granted;
    return state.compare_exchange_strong(expected, to, std::memory_order_acq_rel);
  }

  EventLoop& loop;
  std::function<void()> granted;
  std::atomic<int> state{Queued};
};

ConcurrencyLimit::ConcurrencyLimit(int64_t max_in_flight, int64_t max_pending)
    : max_in_flight_(max_in_flight), max_pending_(max_pending) {}

ConcurrencyLimit::Result ConcurrencyLimit::acquire(EventLoop& loop, std::function<void()> granted,
                                                   WaiterPtr* waiter) {
  if (max_in_flight_ == 0) {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    return Result::Acquired;
  }
  const auto tryTake = [this] {
    int64_t current = in_flight_.load(std::memory_order_relaxed);
    while (current < max_in_flight_) {
      if (in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  };
  if (tryTake()) return Result::Acquired;
  std::lock_guard<std::mutex> lock(mu_);
  // release() frees a slot only under the mutex when nobody waits, so this second try cannot
  // miss a slot that was freed after the first one and leave the new waiter stranded.
  if (tryTake()) return Result::Acquired;
  if (static_cast<int64_t>(waiters_.size()) >= max_pending_) return Result::Rejected;
  *waiter = std::make_shared<Waiter>(loop, std::move(granted));
  waiters_.push_back(*waiter);
  return Result::Queued;
}

void ConcurrencyLimit::release() {
  if (max_in_flight_ == 0) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  for (;;) {
    WaiterPtr next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (waiters_.empty()) {
        in_flight_.fetch_sub(1, std::memory_order_acq_rel);
        return;
      }
      next = std::move(waiters_.front());
      waiters_.pop_front();
      next->state.store(Waiter::Granted, std::memory_order_release);
    }
    // The slot moves to `next` as is: in_flight_ does not change.
    const bool posted = next->loop.post([next] {
      if (next->leaveGranted(Waiter::Done)) next->granted();
    });
    if (posted) return;
    // The waiter's loop has stopped, so its callback can never run: pass the slot on, unless
    // cancel() got there first and released it already.
    if (!next->leaveGranted(Waiter::Cancelled)) return;
  }
}

void ConcurrencyLimit::cancel(const WaiterPtr& waiter) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiter->state.load(std::memory_order_acquire) == Waiter::Queued) {
      std::erase(waiters_, waiter);
      waiter->state.store(Waiter::Cancelled, std::memory_order_release);
      return;
    }
  }
  // Granted but the callback has not run: the slot is ours to give back (outside the mutex,
  // which release() takes).
  if (waiter->leaveGranted(Waiter::Cancelled)) release();
}

int64_t ConcurrencyLimit::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(waiters_.size());
}

}  // namespace aigw::router
