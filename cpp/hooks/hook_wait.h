// What a request holds while a Python hook works for it: the queue ticket and a backstop
// timer. Destroying it (the request ended, the client left) cancels both, so a late result is
// dropped on the request's own loop thread without a lock.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "core/event_loop.h"
#include "core/timer.h"
#include "hooks/hook_queue.h"

namespace aigw::hooks {

class HookWait final : public DeferredDeletable {
 public:
  HookWait(HookQueue& queue, EventLoop& loop) : queue_(queue), timer_(loop.uv(), [this] { onTimeout(); }) {}
  ~HookWait() override { queue_.cancel(ticket_); }
  HookWait(const HookWait&) = delete;
  HookWait& operator=(const HookWait&) = delete;

  // `on_timeout` runs (once, on the loop) if no result came within `timeout_ms` (0: never);
  // the job is cancelled first, so its result can no longer arrive.
  void arm(HookQueue::TicketPtr ticket, uint64_t timeout_ms, std::function<void()> on_timeout) {
    ticket_ = std::move(ticket);
    on_timeout_ = std::move(on_timeout);
    if (timeout_ms > 0) timer_.start(timeout_ms);
  }
  // Done waiting (the result came, or nobody wants it any more): the job is cancelled (a no-op
  // once it answered) and the timer stopped.
  void cancel() {
    timer_.stop();
    queue_.cancel(ticket_);
  }

 private:
  void onTimeout() {
    queue_.cancel(ticket_);
    on_timeout_();
  }

  HookQueue& queue_;
  Timer timer_;
  HookQueue::TicketPtr ticket_;
  std::function<void()> on_timeout_;
};

}  // namespace aigw::hooks
