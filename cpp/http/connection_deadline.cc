#include "http/connection_deadline.h"

#include <utility>

namespace aigw::http {

ConnectionDeadline::ConnectionDeadline(uv_loop_t* loop, uint64_t idle_ms, Timer::Callback on_expiry)
    : timer_(loop, std::move(on_expiry)), idle_ms_(idle_ms) {}

void ConnectionDeadline::arm(Phase phase, uint64_t ms) {
  if (final_) return;
  phase_ = phase;
  if (phase == kNone) {
    timer_.stop();
  } else {
    timer_.start(ms);
  }
}

void ConnectionDeadline::armWrite(uint64_t delivered) {
  if (final_) return;
  write_mark_ = delivered;
  arm(kWrite, idle_ms_);
}

void ConnectionDeadline::flushed(bool exchange_running) {
  if (phase_ != kWrite) return;
  if (exchange_running) {
    arm(kNone, 0);
  } else {
    arm(kIdle, idle_ms_);
  }
}

bool ConnectionDeadline::extend(bool exchange_running, uint64_t pending, uint64_t delivered) {
  if (phase_ == kIdle) {
    if (pending == 0) return false;
    // The kernel still holds bytes a slow reader has not taken: closing now would leave them
    // to an orphaned socket. Wait on its progress instead.
    armWrite(delivered);
    return true;
  }
  if (phase_ != kWrite) return false;
  if (pending == 0) {
    flushed(exchange_running);
    return true;
  }
  if (delivered > write_mark_) {
    armWrite(delivered);  // slow but moving
    return true;
  }
  return false;
}

void ConnectionDeadline::fail() {
  final_ = true;
  phase_ = kFail;
  timer_.start(0);
}

void ConnectionDeadline::stop() {
  final_ = true;
  timer_.stop();
}

}  // namespace aigw::http
