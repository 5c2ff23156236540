// UpstreamStream over a socketpair: plain http passes bytes both ways untouched (reads without
// a copy), a dead socket fails a write as a reset naming the origin, and on https the
// ClientHello goes out first and a peer that answers garbage fails the connect.
#include "upstream/upstream_stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/event_loop.h"
#include "loop_driver.h"
#include "net/tls_context.h"

namespace aigw::upstream {
namespace {

// Our end on a loop the test runs; the peer a plain socket the test reads and closes.
class StreamPair {
 public:
  StreamPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer_ = fds[1];
    uv_tcp_init(loop_.uv(), &tcp_);
    EXPECT_EQ(uv_tcp_open(&tcp_, fds[0]), 0);
    origin_.host = "api.example.com";
    origin_.port = 443;
  }
  ~StreamPair() {
    bool closed = false;
    tcp_.data = &closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
    testing::runUntil(loop_, [&] { return closed; });
    closePeer();
  }

  // What the peer has received so far (non-blocking).
  std::string peerReceived() {
    std::string got;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(peer_, buf, sizeof(buf), MSG_DONTWAIT)) > 0) got.append(buf, static_cast<size_t>(n));
    return got;
  }
  void closePeer() {
    if (peer_ >= 0) ::close(peer_);
    peer_ = -1;
  }

  static void written(void* self, int status) { static_cast<StreamPair*>(self)->statuses_.push_back(status); }

  EventLoop loop_;
  uv_tcp_t tcp_{};
  int peer_ = -1;
  Origin origin_;
  std::vector<int> statuses_;
};

TEST(UpstreamStream, PlainBytesGoOutAsTheyAreAndComeInWithoutACopy) {
  StreamPair p;
  UpstreamStream stream(p.origin_, &StreamPair::written, &p);
  EXPECT_EQ(stream.queued(), 0u) << "nothing to count before the socket is open";
  ASSERT_TRUE(stream.open(&p.tcp_, nullptr));
  EXPECT_FALSE(stream.handshaking());
  EXPECT_TRUE(stream.flush()) << "plain http has nothing of its own to send";
  ASSERT_TRUE(stream.write(std::string("GET / HTTP/1.1\r\n")));
  ASSERT_TRUE(stream.write(std::string_view("\r\n")));
  ASSERT_TRUE(stream.write(std::string_view()));
  EXPECT_EQ(p.peerReceived(), "GET / HTTP/1.1\r\n\r\n");

  const std::string in = "HTTP/1.1 200 OK\r\n";
  std::string_view plain;
  ASSERT_TRUE(stream.read(in.data(), in.size(), &plain));
  EXPECT_EQ(plain.data(), in.data());
  EXPECT_EQ(plain.size(), in.size());
  EXPECT_FALSE(stream.peerClosed());
}

TEST(UpstreamStream, AWriteToADeadSocketIsAResetNamingTheOrigin) {
  StreamPair p;
  UpstreamStream stream(p.origin_, &StreamPair::written, &p);
  ASSERT_TRUE(stream.open(&p.tcp_, nullptr));
  p.closePeer();
  EXPECT_FALSE(stream.write(std::string("GET / HTTP/1.1\r\n\r\n")));
  EXPECT_EQ(stream.errorKind(), CallErrorKind::Reset);
  EXPECT_EQ(stream.error(), "write to api.example.com:443 failed: broken pipe");
}

TEST(UpstreamStream, OnHttpsTheClientHelloGoesFirstAndGarbageFailsTheConnect) {
  StreamPair p;
  std::string error;
  net::TlsClientOptions options;
  options.verify = false;
  auto tls = net::TlsClientContext::create(options, &error);
  ASSERT_TRUE(tls) << error;
  UpstreamStream stream(p.origin_, &StreamPair::written, &p);
  ASSERT_TRUE(stream.open(&p.tcp_, tls));
  EXPECT_TRUE(stream.handshaking());
  EXPECT_EQ(p.peerReceived(), "") << "nothing leaves before flush()";
  ASSERT_TRUE(stream.flush());
  const std::string hello = p.peerReceived();
  ASSERT_FALSE(hello.empty());
  EXPECT_EQ(hello[0], '\x16') << "a TLS handshake record";
  ASSERT_TRUE(stream.write(std::string("GET / HTTP/1.1\r\n\r\n")));
  EXPECT_EQ(p.peerReceived(), "") << "request bytes wait for the handshake";

  const std::string garbage = "HTTP/1.1 400 Bad Request\r\n\r\n";
  std::string_view plain;
  EXPECT_FALSE(stream.read(garbage.data(), garbage.size(), &plain));
  EXPECT_EQ(stream.errorKind(), CallErrorKind::Connect);
  EXPECT_EQ(stream.error().rfind("TLS handshake with api.example.com:443 failed: ", 0), 0u) << stream.error();
}

}  // namespace
}  // namespace aigw::upstream
