// The hook thread's policy: one wait for hook jobs and its own event loop, the order jobs are
// started and cancelled in, and when their verdicts go back. The HookRunner does the work.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hooks/hook_queue.h"
#include "hooks/hook_runner.h"

namespace aigw::hooks {

class HookScheduler {
 public:
  explicit HookScheduler(HookQueue& queue) : queue_(queue) {}
  HookScheduler(const HookScheduler&) = delete;
  HookScheduler& operator=(const HookScheduler&) = delete;

  // One wait of the hook thread's event loop (its selector calls this). Sleeps until hook jobs
  // come, `loop_fd` (the event loop's own epoll fd; -1: none) is readable or `timeout_ms`
  // passes (-1: no limit), then starts each job of the batch in order and cancels each id the
  // queue reports, and sleeps again as long as that left the event loop nothing to do. Verdicts
  // of jobs answered at once go back together just before the next sleep or the return, so the
  // worker they wake does not preempt this thread in the middle of a batch; a job the runner
  // failed on fails at once. Returns true when `loop_fd` is readable; false after a job kept
  // running or a cancel stopped work (the event loop has a task to see to), or at the timeout.
  bool serve(HookRunner& runner, int loop_fd, int timeout_ms);

 private:
  // Verdicts of jobs answered at once, by job id.
  using Answered = std::vector<std::pair<uint64_t, std::string>>;

  void send(Answered& answered);
  HookQueue::Wake sleep(HookRunner& runner, int loop_fd, int wait_ms);

  HookQueue& queue_;
};

}  // namespace aigw::hooks
