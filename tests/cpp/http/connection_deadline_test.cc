// ConnectionDeadline: which phase follows which when a connection's one timer runs out, the
// send timeout that waits on a slow reader's progress, and the phases nothing re-arms.
#include "http/connection_deadline.h"

#include <gtest/gtest.h>

#include "core/event_loop.h"
#include "loop_driver.h"

namespace aigw::http {
namespace {

using Phase = ConnectionDeadline::Phase;
constexpr uint64_t kIdleMs = 60000;

TEST(ConnectionDeadline, IdleAndSendPhasesExtendWhileTheClientTakesOurBytes) {
  struct Case {
    const char* name;
    Phase phase;
    bool exchange_running;
    uint64_t pending;
    uint64_t delivered;  // the mark is 100 when the case starts in kWrite
    bool lives_on;
    Phase after;
  };
  const Case cases[] = {
      {"idle, nothing pending: close", ConnectionDeadline::kIdle, false, 0, 100, false, ConnectionDeadline::kIdle},
      {"idle, bytes unacknowledged: wait on them", ConnectionDeadline::kIdle, false, 10, 100, true,
       ConnectionDeadline::kWrite},
      {"send, queue empty, no exchange: idle", ConnectionDeadline::kWrite, false, 0, 100, true,
       ConnectionDeadline::kIdle},
      {"send, queue empty, exchange runs: no phase", ConnectionDeadline::kWrite, true, 0, 100, true,
       ConnectionDeadline::kNone},
      {"send, moving: re-armed", ConnectionDeadline::kWrite, true, 10, 101, true, ConnectionDeadline::kWrite},
      {"send, stalled: send timeout", ConnectionDeadline::kWrite, true, 10, 100, false, ConnectionDeadline::kWrite},
      {"header phase is never extended", ConnectionDeadline::kHeader, false, 10, 200, false,
       ConnectionDeadline::kHeader},
  };
  EventLoop loop;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ConnectionDeadline d(loop.uv(), kIdleMs, [] {});
    if (c.phase == ConnectionDeadline::kWrite) {
      d.armWrite(100);
    } else {
      d.arm(c.phase, 1000);
    }
    EXPECT_EQ(d.extend(c.exchange_running, c.pending, c.delivered), c.lives_on);
    EXPECT_EQ(d.phase(), c.after);
  }
}

TEST(ConnectionDeadline, TheMarkMovesWithEachExtension) {
  EventLoop loop;
  ConnectionDeadline d(loop.uv(), kIdleMs, [] {});
  d.armWrite(100);
  EXPECT_TRUE(d.extend(true, 10, 150));
  EXPECT_FALSE(d.extend(true, 10, 150)) << "no progress since the last extension";
}

TEST(ConnectionDeadline, FlushedLeavesOnlyTheSendPhase) {
  EventLoop loop;
  ConnectionDeadline d(loop.uv(), kIdleMs, [] {});
  d.arm(ConnectionDeadline::kBody, 1000);
  d.flushed(false);
  EXPECT_EQ(d.phase(), ConnectionDeadline::kBody);
  d.armWrite(0);
  d.flushed(true);
  EXPECT_EQ(d.phase(), ConnectionDeadline::kNone);
  d.armWrite(0);
  d.flushed(false);
  EXPECT_EQ(d.phase(), ConnectionDeadline::kIdle);
}

TEST(ConnectionDeadline, NothingRearmsAFailedOrStoppedDeadline) {
  EventLoop loop;
  ConnectionDeadline failed(loop.uv(), kIdleMs, [] {});
  failed.fail();
  failed.arm(ConnectionDeadline::kIdle, 1000);
  failed.armWrite(5);
  EXPECT_EQ(failed.phase(), ConnectionDeadline::kFail);

  ConnectionDeadline stopped(loop.uv(), kIdleMs, [] {});
  stopped.arm(ConnectionDeadline::kHeader, 1000);
  stopped.stop();
  stopped.arm(ConnectionDeadline::kBody, 1000);
  EXPECT_EQ(stopped.phase(), ConnectionDeadline::kHeader);
}

TEST(ConnectionDeadline, ExpiryRunsOnTheLoopWithThePhaseItRanOutIn) {
  EventLoop loop;
  Phase seen = ConnectionDeadline::kNone;
  int runs = 0;
  ConnectionDeadline* self = nullptr;
  ConnectionDeadline d(loop.uv(), kIdleMs, [&] {
    seen = self->phase();
    ++runs;
  });
  self = &d;
  d.arm(ConnectionDeadline::kBody, 1);
  EXPECT_TRUE(testing::runUntil(loop, [&] { return runs == 1; }));
  EXPECT_EQ(seen, ConnectionDeadline::kBody);

  d.fail();  // due at once
  EXPECT_TRUE(testing::runUntil(loop, [&] { return runs == 2; }));
  EXPECT_EQ(seen, ConnectionDeadline::kFail);

  d.stop();
  d.arm(ConnectionDeadline::kHeader, 1);
  testing::runUntil(
      loop, [] { return false; }, 30);
  EXPECT_EQ(runs, 2) << "a stopped deadline does not run";
}

}  // namespace
}  // namespace aigw::http
