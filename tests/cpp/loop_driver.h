// The two ways a test drives an EventLoop: onLoop() runs a piece of the test on the thread of a
// started loop and waits for it; runUntil() runs a loop the test thread owns until a condition holds.
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <future>

#include "core/event_loop.h"
#include "core/timer.h"

namespace aigw::testing {

// What touches a loop's objects (submit, cancel, timers) must run on its thread; the test
// reads the outcome after. Everything posted to the loop before has run by then.
template <typename Fn>
void onLoop(EventLoop& loop, Fn fn) {
  std::promise<void> done;
  ASSERT_TRUE(loop.post([&] {
    fn();
    done.set_value();
  }));
  done.get_future().wait();
}
inline void onLoop(EventLoop& loop) {
  onLoop(loop, [] {});
}

// Runs `loop` (one the test thread owns, not started on a thread of its own) until `pred`
// holds or `timeout_ms` passes; returns pred(). A short repeating tick re-checks predicates
// that depend on other threads (a server's), which cannot wake this loop.
inline bool runUntil(EventLoop& loop, const std::function<bool()>& pred, uint64_t timeout_ms = 5000) {
  bool expired = false;
  Timer deadline(loop.uv(), [&expired] { expired = true; });
  Timer tick(loop.uv(), [] {});
  deadline.start(timeout_ms);
  tick.start(2, 2);
  while (!pred() && !expired) uv_run(loop.uv(), UV_RUN_ONCE);
  return pred();
}

// Runs `loop` for `ms` whatever happens (to show that something does NOT happen).
inline void runFor(EventLoop& loop, uint64_t ms) {
  runUntil(loop, [] { return false; }, ms);
}

}  // namespace aigw::testing
