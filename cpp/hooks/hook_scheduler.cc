#include "hooks/hook_scheduler.h"

#include <algorithm>
#include <chrono>

namespace aigw::hooks {

bool HookScheduler::serve(HookRunner& runner, int loop_fd, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  // One deadline for the whole call: batches answered at once do not extend the wait.
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  Answered answered;  // per call, not per scheduler: serve() keeps no state between waits
  for (int wait_ms = timeout_ms;;) {
    send(answered);
    HookQueue::Wake wake = sleep(runner, loop_fd, wait_ms);
    if (wake.jobs.empty() && wake.cancelled.empty()) return wake.other_ready;
    bool busy = false;  // the event loop has a task to run or to see cancelled
    for (const Job& job : wake.jobs) {
      JobStart start = runner.start(job);
      switch (start.outcome) {
        case JobStart::Outcome::kAnswered:
          answered.emplace_back(job.id, std::move(start.result));
          break;
        case JobStart::Outcome::kRunning:
          busy = true;
          break;
        case JobStart::Outcome::kFailed:
          // A runner's own failure fails this job alone, as a failed hook layer: the request's
          // on_error decides. At once: nothing else of the batch depends on it.
          queue_.complete(job.id, false, std::move(start.result));
          break;
      }
    }
    // After the batch's starts: a job taken in an earlier batch and cancelled now is told to
    // stop; every cancel is made even once one stopped a task.
    for (uint64_t id : wake.cancelled) busy = runner.cancel(id) || busy;
    if (busy || wake.other_ready) {
      send(answered);
      return wake.other_ready;
    }
    if (timeout_ms >= 0) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait_ms = static_cast<int>(std::max<int64_t>(left, 0));
    }
  }
}

void HookScheduler::send(Answered& answered) {
  for (auto& [id, verdict] : answered) queue_.complete(id, true, std::move(verdict));
  answered.clear();
}

HookQueue::Wake HookScheduler::sleep(HookRunner& runner, int loop_fd, int wait_ms) {
  struct Asleep {
    HookRunner& runner;
    explicit Asleep(HookRunner& r) : runner(r) { runner.beforeSleep(); }
    ~Asleep() { runner.afterSleep(); }
  } asleep(runner);
  return queue_.wait(loop_fd, wait_ms);
}

}  // namespace aigw::hooks
