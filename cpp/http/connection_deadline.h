// The one timer of a server connection and what it means now (its phase): how long the client
// may take over its headers or body, stay idle, linger, or leave our bytes unread.
#pragma once

#include <uv.h>

#include <cstdint>

#include "core/timer.h"

namespace aigw::http {

class ConnectionDeadline {
 public:
  // kWrite: bytes are queued for the client. When it runs out, the connection closes only if
  // the client took none of our bytes during the last idle_ms (a send timeout); otherwise it
  // is re-armed. Progress is counted in bytes the peer acknowledged, not in write callbacks:
  // one uv_write may be megabytes, and the kernel's send buffer (megabytes on loopback)
  // drains long before libuv's queue moves. The idle phase begins only once the queue is
  // flushed. kFail: a write failed; the connection closes on the next loop iteration.
  enum Phase : int { kNone = 0, kHeader, kBody, kIdle, kLinger, kFail, kWrite };

  // `on_expiry` runs on the loop when the armed phase runs out; it reads phase().
  ConnectionDeadline(uv_loop_t* loop, uint64_t idle_ms, Timer::Callback on_expiry);

  // A new phase for `ms` (kNone stops the timer). Ignored after fail() or stop().
  void arm(Phase phase, uint64_t ms);
  // kWrite for idle_ms; progress is measured from `delivered` (WriteQueue::delivered()).
  void armWrite(uint64_t delivered);
  // The write queue emptied: kWrite gives way to kNone while an exchange runs, else to kIdle.
  void flushed(bool exchange_running);
  // kIdle or kWrite ran out. True when the connection lives on: an idle connection whose
  // bytes are still unacknowledged waits on the client (kWrite); a send phase whose queue
  // emptied or moved is re-armed. False: the time is really up.
  bool extend(bool exchange_running, uint64_t pending, uint64_t delivered);
  // kFail, due at once; nothing re-arms it.
  void fail();
  // The connection is closing: the timer stops for good.
  void stop();

  Phase phase() const { return phase_; }

 private:
  Timer timer_;
  uint64_t idle_ms_;
  Phase phase_ = kNone;
  bool final_ = false;       // failed or stopped
  uint64_t write_mark_ = 0;  // delivered bytes when kWrite was armed
};

}  // namespace aigw::http
