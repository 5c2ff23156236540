// UpstreamDial on a loop the test owns, against loopback ports: it reports a connected socket
// in the connection's handle slot, names the address a refused connect went to, and a
// cancelled dial reports nothing.
#include "upstream/upstream_dial.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <optional>
#include <string>

#include "core/event_loop.h"
#include "loop_driver.h"
#include "scripted_upstream.h"

namespace aigw::upstream {
namespace {

using aigw::testing::runFor;
using aigw::testing::runUntil;

// The connection's side of a dial: its handle slot and what it was told.
class DialTarget final : public UpstreamDial::Listener {
 public:
  explicit DialTarget(int port) : dns_(loop_.uv(), 60000), socket_(new uv_tcp_t) {
    origin_.host = "127.0.0.1";
    origin_.port = port;
    uv_tcp_init(loop_.uv(), socket_);
    socket_->data = this;
    dial_.emplace(loop_.uv(), dns_, origin_, socket_, *this);
  }
  ~DialTarget() override {
    dial_->cancel();
    uv_close(reinterpret_cast<uv_handle_t*>(socket_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    runFor(loop_, 20);
  }

  void dialed() override { ++dialed_; }
  void connectFailed(CallErrorKind kind, std::string error) override {
    ++failed_;
    kind_ = kind;
    error_ = std::move(error);
  }

  EventLoop loop_;
  DnsCache dns_;
  Origin origin_;
  uv_tcp_t* socket_;
  std::optional<UpstreamDial> dial_;
  int dialed_ = 0;
  int failed_ = 0;
  CallErrorKind kind_ = CallErrorKind::Internal;
  std::string error_;
};

TEST(UpstreamDial, ReportsTheSocketConnectedInTheHandleSlot) {
  testing::ScriptedUpstream server({});
  DialTarget t(server.port());
  uv_tcp_t* first = t.socket_;
  t.dial_->start();
  ASSERT_TRUE(runUntil(t.loop_, [&] { return t.dialed_ + t.failed_ > 0; }));
  EXPECT_EQ(t.dialed_, 1) << t.error_;
  EXPECT_EQ(t.socket_, first) << "the first address connects on the handle it was given";
  sockaddr_storage peer{};
  int len = sizeof(peer);
  ASSERT_EQ(uv_tcp_getpeername(t.socket_, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port), server.port());
}

TEST(UpstreamDial, ARefusedConnectFailsNamingTheAddress) {
  testing::RefusingPort refusing;
  DialTarget t(refusing.port());
  t.dial_->start();
  ASSERT_TRUE(runUntil(t.loop_, [&] { return t.dialed_ + t.failed_ > 0; }));
  EXPECT_EQ(t.failed_, 1);
  EXPECT_EQ(t.kind_, CallErrorKind::Connect);
  EXPECT_EQ(t.error_,
            "connect to 127.0.0.1:" + std::to_string(refusing.port()) + " (127.0.0.1) failed: connection refused");
}

TEST(UpstreamDial, ACancelledDialReportsNothing) {
  testing::ScriptedUpstream server({});
  DialTarget t(server.port());
  t.dial_->start();
  t.dial_->cancel();
  runFor(t.loop_, 50);
  EXPECT_EQ(t.dialed_, 0);
  EXPECT_EQ(t.failed_, 0);
}

}  // namespace
}  // namespace aigw::upstream
