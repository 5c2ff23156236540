// ServerTls over memory (a plain OpenSSL client, no sockets): the handshake and data both
// ways, and what each way a session fails or is abandoned counts as in ServerCounters.
#include "http/server_tls.h"

#include <gtest/gtest.h>

#include "net/tls_server_test_util.h"

namespace aigw::http {
namespace {

using testing::tls::makeServer;
using testing::tls::MemClient;
using testing::tls::serverFiles;
using testing::tls::TempDir;

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = makeServer(serverFiles(dir_));
    ASSERT_NE(ctx_, nullptr);
    ASSERT_TRUE(tls_.start(ctx_));
  }

  // Moves bytes between the client and tls_ until neither sends; the server's plaintext goes
  // to `plain`. The first result other than kOk, else kOk.
  ServerTls::Read pump(MemClient& client, std::string* plain) {
    for (int round = 0; round < 100; ++round) {
      client.pump();
      const std::string to_server = client.take();
      std::string wire;
      std::string_view got;
      ServerTls::Read r = ServerTls::Read::kOk;
      if (!to_server.empty()) r = tls_.open(to_server.data(), to_server.size(), &got, &wire);
      plain->append(got);
      client.feed(wire.data(), wire.size());
      client.pump();
      if (r != ServerTls::Read::kOk) return r;
      if (to_server.empty() && wire.empty()) break;
    }
    return ServerTls::Read::kOk;
  }

  TempDir dir_;
  net::TlsServerContextPtr ctx_;
  ServerCounters counters_;
  ServerTls tls_{counters_};
};

TEST_F(ServerTlsTest, HandshakeIsCountedOnceAndCarriesDataBothWays) {
  MemClient client;
  client.write("GET / HTTP/1.1\r\n\r\n");
  std::string plain;
  ASSERT_EQ(pump(client, &plain), ServerTls::Read::kOk);
  EXPECT_TRUE(client.handshake_done) << client.error;
  EXPECT_EQ(plain, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(counters_.tls_handshakes.load(), 1u);

  std::string wire;
  ASSERT_TRUE(tls_.seal("HTTP/1.1 200 OK\r\n\r\n", &wire));
  client.feed(wire.data(), wire.size());
  client.pump();
  EXPECT_EQ(client.received, "HTTP/1.1 200 OK\r\n\r\n");

  EXPECT_FALSE(tls_.handshakeTimedOut()) << "the handshake is over";
  EXPECT_FALSE(tls_.handshakeAbandoned(false));
  EXPECT_FALSE(tls_.peerClosed());
  SSL_shutdown(client.ssl());
  ASSERT_EQ(pump(client, &plain), ServerTls::Read::kOk);
  EXPECT_TRUE(tls_.peerClosed());

  const std::string notify = tls_.closeNotify();
  EXPECT_FALSE(notify.empty());
  client.feed(notify.data(), notify.size());
  client.pump();
  EXPECT_TRUE(client.peer_closed);
  EXPECT_EQ(counters_.tls_handshakes.load(), 1u);
  EXPECT_EQ(counters_.tls_errors.load(), 0u);
}

TEST_F(ServerTlsTest, PlainHttpEndsTheSessionSoTheAnswerCanBePlain) {
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string_view plain;
  std::string wire;
  EXPECT_EQ(tls_.open(request.data(), request.size(), &plain, &wire), ServerTls::Read::kPlainHttp);
  EXPECT_FALSE(tls_.active());
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 1u);
  EXPECT_TRUE(tls_.closeNotify().empty());
}

TEST_F(ServerTlsTest, GarbageFailsTheHandshakeWithAnAlertToSend) {
  const std::string junk(64, '\x16');
  std::string_view plain;
  std::string wire;
  EXPECT_EQ(tls_.open(junk.data(), junk.size(), &plain, &wire), ServerTls::Read::kHandshakeFailed);
  EXPECT_TRUE(tls_.active());
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 1u);
  EXPECT_TRUE(tls_.closeNotify().empty()) << "no close_notify without a handshake";
}

TEST_F(ServerTlsTest, ABadRecordAfterTheHandshakeIsATlsErrorNotAHandshakeFailure) {
  MemClient client;
  std::string plain;
  ASSERT_EQ(pump(client, &plain), ServerTls::Read::kOk);
  ASSERT_TRUE(client.handshake_done);
  const std::string bad = std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'x');
  std::string_view got;
  std::string wire;
  EXPECT_EQ(tls_.open(bad.data(), bad.size(), &got, &wire), ServerTls::Read::kBroken);
  EXPECT_FALSE(wire.empty()) << "the alert";
  EXPECT_EQ(counters_.tls_errors.load(), 1u);
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 0u);
  EXPECT_FALSE(tls_.seal("late", &wire));
  EXPECT_EQ(counters_.tls_errors.load(), 2u);
}

TEST_F(ServerTlsTest, AHandshakeLeftUnfinishedCountsAsTimeoutOrFailure) {
  EXPECT_TRUE(tls_.handshakeAbandoned(false));
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 0u) << "no byte came: a port probe";
  EXPECT_TRUE(tls_.handshakeTimedOut());
  EXPECT_EQ(counters_.tls_handshake_timeouts.load(), 1u);

  MemClient client;
  client.pump();
  const std::string hello = client.take();
  std::string_view plain;
  std::string wire;
  ASSERT_EQ(tls_.open(hello.data(), hello.size(), &plain, &wire), ServerTls::Read::kOk);
  EXPECT_TRUE(tls_.handshakeAbandoned(/*ending=*/true));
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 0u) << "an ending connection counted its failure already";
  EXPECT_TRUE(tls_.handshakeAbandoned(false));
  EXPECT_EQ(counters_.tls_handshake_failures.load(), 1u);
}

TEST(ServerTls, PlainConnectionsHaveNoSession) {
  ServerCounters counters;
  ServerTls tls(counters);
  EXPECT_FALSE(tls.active());
  EXPECT_TRUE(tls.closeNotify().empty());
  EXPECT_FALSE(tls.handshakeTimedOut());
  EXPECT_FALSE(tls.handshakeAbandoned(false));
  EXPECT_EQ(counters.tls_handshake_timeouts.load(), 0u);
}

}  // namespace
}  // namespace aigw::http
