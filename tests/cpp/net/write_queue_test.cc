// WriteQueue over a socketpair (as the server_connection fuzz target drives a connection): small
// writes leave at once, what the socket does not take waits in order behind the queue until its
// callback, progress is counted in bytes the peer took, and closing the handle cancels what is
// still queued.
#include "net/write_queue.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "loop_driver.h"

namespace aigw::net {
namespace {

using aigw::testing::runUntil;

// Our end (a uv_tcp_t on a loop the test runs) and the peer's (a blocking socket the test
// reads on a thread of its own), with small buffers so a few hundred KiB fill them. The peer
// "acknowledges" a byte by reading it: that is what SIOCOUTQ counts on a Unix socket.
class Pair {
 public:
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer_ = fds[1];
    const int small = 16 * 1024;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    ::setsockopt(peer_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    uv_tcp_init(loop_.uv(), &tcp_);
    EXPECT_EQ(uv_tcp_open(&tcp_, fds[0]), 0);
    tcp_.data = this;
  }
  ~Pair() {
    if (!closed_) close();
    if (reader_.joinable()) reader_.join();
    ::close(peer_);
  }

  EventLoop& loop() { return loop_; }
  uv_tcp_t* tcp() { return &tcp_; }

  // The peer reads `count` bytes on a thread of its own (received() has them once it is done).
  void read(size_t count) {
    reader_ = std::thread([this, count] {
      std::string got;
      char buf[65536];
      while (got.size() < count) {
        const ssize_t n = ::recv(peer_, buf, sizeof(buf), 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      received_ = std::move(got);
      done_ = true;
    });
  }
  bool readDone() const { return done_; }
  const std::string& received() {
    if (reader_.joinable()) reader_.join();
    return received_;
  }

  void close() {
    closed_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
             [](uv_handle_t* h) { static_cast<Pair*>(h->data)->handle_closed_ = true; });
    runUntil(loop_, [this] { return handle_closed_; });
  }
  bool handleClosed() const { return handle_closed_; }

 private:
  EventLoop loop_;
  uv_tcp_t tcp_{};
  int peer_ = -1;
  std::thread reader_;
  std::string received_;
  std::atomic<bool> done_{false};
  bool closed_ = false;
  bool handle_closed_ = false;
};

// What the queue reported, in order.
struct Written {
  std::vector<int> statuses;
  bool handle_closed_first = false;
  Pair* pair = nullptr;
  static void record(void* self, int status) {
    auto* w = static_cast<Written*>(self);
    w->statuses.push_back(status);
    if (w->pair != nullptr && w->pair->handleClosed()) w->handle_closed_first = true;
  }
};

std::string bytes(size_t n, char c) { return std::string(n, c); }

TEST(WriteQueue, ASmallWriteLeavesAtOnce) {
  Pair pair;
  Written written;
  WriteQueue out(pair.tcp(), &Written::record, &written);
  EXPECT_EQ(out.write("hello"), WriteQueue::Result::kSent);
  EXPECT_EQ(out.queued(), 0u);
  pair.read(5);
  EXPECT_EQ(pair.received(), "hello");
  EXPECT_TRUE(runUntil(pair.loop(), [&] { return out.delivered() == 5; }));
  EXPECT_EQ(out.pending(), 0u);
  EXPECT_TRUE(written.statuses.empty());  // nothing was queued: no callback
}

TEST(WriteQueue, WhatTheSocketDoesNotTakeWaitsInOrderUntilItsCallback) {
  Pair pair;
  Written written;
  WriteQueue out(pair.tcp(), &Written::record, &written);
  const size_t big = 2 * 1024 * 1024;
  EXPECT_EQ(out.write(bytes(big, 'a')), WriteQueue::Result::kQueued);
  EXPECT_GT(out.queued(), 0u);
  // Behind a queue, even a small write is queued: bytes never overtake each other.
  EXPECT_EQ(out.write("tail"), WriteQueue::Result::kQueued);
  EXPECT_GE(out.pending(), out.queued());
  EXPECT_LT(out.delivered(), big);  // nobody reads yet
  pair.read(big + 4);
  EXPECT_TRUE(runUntil(pair.loop(), [&] { return written.statuses.size() == 2 && pair.readDone(); }, 10000));
  EXPECT_EQ(written.statuses, (std::vector<int>{0, 0}));
  EXPECT_EQ(out.queued(), 0u);
  const std::string& got = pair.received();
  ASSERT_EQ(got.size(), big + 4);
  EXPECT_EQ(got.substr(big), "tail");
  EXPECT_EQ(got.find_first_not_of('a'), big);
  EXPECT_TRUE(runUntil(pair.loop(), [&] { return out.delivered() == big + 4; }));
}

TEST(WriteQueue, ClosingTheHandleCancelsWhatIsQueuedBeforeItsCloseCallback) {
  Pair pair;
  Written written;
  written.pair = &pair;
  WriteQueue out(pair.tcp(), &Written::record, &written);
  EXPECT_EQ(out.write(bytes(2 * 1024 * 1024, 'b')), WriteQueue::Result::kQueued);
  pair.close();
  EXPECT_EQ(written.statuses, std::vector<int>{UV_ECANCELED});
  EXPECT_FALSE(written.handle_closed_first);
}

}  // namespace
}  // namespace aigw::net
