// What runs hook jobs on the hook thread: starts a job and stops one nobody waits for. The
// HookScheduler decides when; in production the bindings adapt the Python HookRunner to this.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "hooks/hook_queue.h"

namespace aigw::hooks {

// How far starting a job went.
struct JobStart {
  enum class Outcome {
    kAnswered,  // finished at once: `result` is its verdict
    kRunning,   // it waits for something (a task): its result comes later through complete()
    kFailed,    // the runner itself failed on it (not the hook): `result` says why
  };
  Outcome outcome = Outcome::kRunning;
  std::string result;

  static JobStart answered(std::string verdict) { return {Outcome::kAnswered, std::move(verdict)}; }
  static JobStart running() { return {Outcome::kRunning, {}}; }
  static JobStart failed(std::string why) { return {Outcome::kFailed, std::move(why)}; }
};

class HookRunner {
 public:
  virtual ~HookRunner() = default;

  // Runs the job as far as it goes without waiting.
  virtual JobStart start(const Job& job) = 0;
  // The job's result is no longer wanted. True when that stopped work the runner's own event
  // loop must see (a task was cancelled); false when there was nothing to stop.
  virtual bool cancel(uint64_t id) = 0;
  // Around each sleep of the scheduler. A runner whose work needs a lock the hook thread holds
  // while it runs jobs (Python's GIL) lets go of it here, so other threads can use it meanwhile.
  virtual void beforeSleep() {}
  virtual void afterSleep() {}
};

}  // namespace aigw::hooks
