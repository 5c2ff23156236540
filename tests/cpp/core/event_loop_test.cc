#include "core/event_loop.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aigw {
namespace {

// libuv writes sockets with write(2): a peer that went away must be an EPIPE error the
// connection handles, not a SIGPIPE that kills the process (ctest runs each test in a process
// of its own, so without the loop's setting this test dies).
TEST(EventLoop, AWriteToAClosedPeerIsAnErrorNotASignal) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ::close(sv[1]);
  errno = 0;
  EXPECT_EQ(::write(sv[0], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  ::close(sv[0]);
}

}  // namespace
}  // namespace aigw
