// TlsSession as a byte-pumping state machine: handshake and data both ways, arbitrary record
// splits, large payloads, close_notify, hostile input, renegotiation, KeyUpdate, threads, and
// one run over a real loopback socket against a blocking OpenSSL server.
#include "net/tls_session.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <random>
#include <thread>
#include <vector>

#include "net/tls_test_util.h"

namespace aigw::net {
namespace {

using testing::tls::Chunker;
using testing::tls::handshake;
using testing::tls::makeServerCtx;
using testing::tls::MemServer;
using testing::tls::Pki;
using testing::tls::pump;
using testing::tls::ServerOptions;
using testing::tls::TempDir;
using Result = TlsSession::Result;

std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TlsClientOptions o;
    o.ca_file = dir_.writePem("ca.pem", {Pki::get().ca.get()});
    std::string error;
    ctx_ = TlsClientContext::create(o, &error);
    ASSERT_NE(ctx_, nullptr) << error;
    server_ctx_ = makeServerCtx();
  }

  // Full exchange with every byte in both directions cut by `chunk`: a request written before
  // the handshake, the server's reply, then the server's close_notify.
  void exchange(const std::string& request, const std::string& reply, const Chunker& chunk) {
    TlsSession client(ctx_, "localhost", 443);
    MemServer server(server_ctx_.get());
    ASSERT_EQ(client.writePlain(request), Result::Ok);  // buffered until the handshake is done
    ASSERT_EQ(client.start(), Result::Ok);
    std::string plain;
    ASSERT_TRUE(pump(client, server, &plain, chunk)) << client.error();
    ASSERT_TRUE(client.handshakeDone());
    EXPECT_EQ(server.received.size(), request.size());
    EXPECT_TRUE(server.received == request);
    server.write(reply);
    SSL_shutdown(server.ssl());
    ASSERT_TRUE(pump(client, server, &plain, chunk)) << client.error();
    EXPECT_EQ(plain.size(), reply.size());
    EXPECT_TRUE(plain == reply);
    EXPECT_TRUE(client.peerClosed());
  }

  TempDir dir_;
  std::shared_ptr<TlsClientContext> ctx_;
  testing::tls::SslCtxPtr server_ctx_;
};

TEST_F(TlsSessionTest, HandshakeAndEchoBothWays) {
  TlsSession client(ctx_, "localhost", 443);
  MemServer server(server_ctx_.get());
  EXPECT_FALSE(client.hasEncrypted());
  ASSERT_EQ(client.start(), Result::Ok);
  EXPECT_TRUE(client.hasEncrypted());  // the ClientHello
  EXPECT_FALSE(client.handshakeDone());
  ASSERT_EQ(client.writePlain("GET / HTTP/1.1\r\n\r\n"), Result::Ok);
  std::string plain;
  ASSERT_TRUE(pump(client, server, &plain)) << client.error();
  EXPECT_TRUE(client.handshakeDone());
  EXPECT_EQ(client.alpnProtocol(), "http/1.1");
  EXPECT_EQ(server.received, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(server.servername(), "localhost");

  server.write("HTTP/1.1 200 OK\r\n\r\n");
  ASSERT_TRUE(pump(client, server, &plain));
  EXPECT_EQ(plain, "HTTP/1.1 200 OK\r\n\r\n");
  ASSERT_EQ(client.writePlain("second"), Result::Ok);
  ASSERT_TRUE(pump(client, server, &plain));
  EXPECT_EQ(server.received, "GET / HTTP/1.1\r\n\r\nsecond");
  EXPECT_EQ(client.error(), "");
}

TEST_F(TlsSessionTest, ByteAtATimeDelivery) {
  exchange("request " + randomBytes(3000, 1), "reply " + randomBytes(20000, 2), [](size_t) { return 1; });
}

TEST_F(TlsSessionTest, RandomSplitDelivery) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    exchange(randomBytes(40000, seed), randomBytes(70000, seed + 100), [&rng](size_t remaining) {
      // Mostly tiny pieces (splitting headers), sometimes large ones (several records at once).
      size_t max = rng() % 4 == 0 ? remaining : std::min<size_t>(remaining, 40);
      return 1 + rng() % max;
    });
  }
}

TEST_F(TlsSessionTest, FourMegabytePayloadBothWays) {
  const std::string big = randomBytes(4 << 20, 7);
  TlsSession client(ctx_, "localhost", 443);
  MemServer server(server_ctx_.get());
  ASSERT_EQ(client.start(), Result::Ok);
  std::string plain;
  ASSERT_TRUE(pump(client, server, &plain));
  ASSERT_EQ(client.writePlain(big), Result::Ok);
  EXPECT_GT(client.encryptedPending(), big.size());  // many records, each with its overhead
  ASSERT_TRUE(pump(client, server, &plain));
  ASSERT_EQ(server.received.size(), big.size());
  EXPECT_TRUE(server.received == big);
  server.write(server.received);
  ASSERT_TRUE(pump(client, server, &plain));
  ASSERT_EQ(plain.size(), big.size());
  EXPECT_TRUE(plain == big);
}

TEST_F(TlsSessionTest, ServerCloseNotifyIsReportedAfterItsData) {
  auto c = handshake(ctx_, server_ctx_.get());
  ASSERT_TRUE(c.ok);
  c.server->write("last words");
  SSL_shutdown(c.server->ssl());
  ASSERT_TRUE(pump(*c.client, *c.server, &c.plain));
  EXPECT_EQ(c.plain, "last words");
  EXPECT_TRUE(c.client->peerClosed());
  // Bytes after close_notify are ignored, not an error.
  EXPECT_EQ(c.client->feedEncrypted("", 0, &c.plain), Result::Ok);
}

TEST_F(TlsSessionTest, WriteAfterShutdownIsAnError) {
  TlsSession client(ctx_, "localhost", 443);
  MemServer server(server_ctx_.get());
  ASSERT_EQ(client.writePlain("request"), Result::Ok);
  client.shutdown();
  EXPECT_EQ(client.writePlain("too late"), Result::Error);
  EXPECT_NE(client.error().find("write after shutdown"), std::string::npos);
}

TEST_F(TlsSessionTest, ShutdownSendsCloseNotifyAfterBufferedData) {
  TlsSession client(ctx_, "localhost", 443);
  MemServer server(server_ctx_.get());
  ASSERT_EQ(client.writePlain("request"), Result::Ok);
  ASSERT_EQ(client.start(), Result::Ok);
  client.shutdown();  // handshake still running: close_notify waits for it and for "request"
  std::string plain;
  ASSERT_TRUE(pump(client, server, &plain)) << client.error();
  EXPECT_EQ(server.received, "request");
  EXPECT_TRUE(server.peer_closed);
  EXPECT_FALSE(client.peerClosed());
  server.write("reply");
  SSL_shutdown(server.ssl());
  ASSERT_TRUE(pump(client, server, &plain));
  EXPECT_EQ(plain, "reply");  // half-close: the reply still arrives
  EXPECT_TRUE(client.peerClosed());
}

TEST_F(TlsSessionTest, PlainHttpReplyInsteadOfServerHelloIsAnError) {
  TlsSession client(ctx_, "localhost", 443);
  ASSERT_EQ(client.start(), Result::Ok);
  std::string hello, plain;
  client.takeEncrypted(&hello);
  const std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(client.feedEncrypted(http.data(), http.size(), &plain), Result::Error);
  EXPECT_NE(client.error().find("TLS handshake failed: "), std::string::npos) << client.error();
  EXPECT_NE(client.error().find("(host localhost)"), std::string::npos) << client.error();
  EXPECT_TRUE(plain.empty());
  // Sticky: later calls fail the same way instead of touching OpenSSL again.
  EXPECT_EQ(client.feedEncrypted("x", 1, &plain), Result::Error);
  EXPECT_EQ(client.writePlain("x"), Result::Error);
}

TEST_F(TlsSessionTest, ForgedRecordAfterHandshakeIsAnError) {
  auto c = handshake(ctx_, server_ctx_.get());
  ASSERT_TRUE(c.ok);
  const std::string record = std::string("\x17\x03\x03\x00\x30", 5) + randomBytes(0x30, 3);
  EXPECT_EQ(c.client->feedEncrypted(record.data(), record.size(), &c.plain), Result::Error);
  EXPECT_NE(c.client->error().find("TLS read failed: "), std::string::npos) << c.client->error();
  EXPECT_TRUE(c.client->hasEncrypted());  // the bad_record_mac alert, for the caller to send
}

TEST_F(TlsSessionTest, RandomGarbageNeverCrashes) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    const std::string junk = randomBytes(1 + rng() % 3000, seed);
    const bool after_handshake = seed % 2 == 0;
    std::string plain;
    if (after_handshake) {
      auto c = handshake(ctx_, server_ctx_.get());
      ASSERT_TRUE(c.ok);
      c.client->feedEncrypted(junk.data(), junk.size(), &plain);
      EXPECT_TRUE(plain.empty());
    } else {
      TlsSession client(ctx_, "localhost", 443);
      ASSERT_EQ(client.start(), Result::Ok);
      // A short prefix may look like an incomplete record (Ok, waiting); anything else is Error.
      if (client.feedEncrypted(junk.data(), junk.size(), &plain) == Result::Error) EXPECT_FALSE(client.error().empty());
      EXPECT_FALSE(client.handshakeDone());
    }
  }
}

TEST_F(TlsSessionTest, ServerRenegotiationIsRefused) {
  auto tls12 = makeServerCtx({.max_version = TLS1_2_VERSION});
  auto c = handshake(ctx_, tls12.get());
  ASSERT_TRUE(c.ok);
  ASSERT_EQ(SSL_renegotiate(c.server->ssl()), 1);
  SSL_do_handshake(c.server->ssl());  // sends HelloRequest
  ERR_clear_error();
  const bool client_ok = pump(*c.client, *c.server, &c.plain);
  // The client answers no_renegotiation instead of a new ClientHello; OpenSSL servers treat
  // that as fatal. Either way no second handshake happened.
  EXPECT_TRUE(c.server->failed);
  EXPECT_FALSE(client_ok);  // ...and says so with a fatal alert, which the client reports
  EXPECT_NE(c.client->error().find("alert handshake failure"), std::string::npos) << c.client->error();
  EXPECT_NE(c.server->error.find("no renegotiation"), std::string::npos) << c.server->error;
  EXPECT_EQ(SSL_renegotiate_pending(c.server->ssl()), 1);
}

TEST_F(TlsSessionTest, KeyUpdateFromServerIsAnswered) {
  auto c = handshake(ctx_, server_ctx_.get());
  ASSERT_TRUE(c.ok);
  ASSERT_EQ(SSL_key_update(c.server->ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
  c.server->write("after update");
  const std::string bytes = c.server->take();
  ASSERT_EQ(c.client->feedEncrypted(bytes.data(), bytes.size(), &c.plain), Result::Ok);
  EXPECT_EQ(c.plain, "after update");
  // OpenSSL answers lazily: its own KeyUpdate goes out just before the next application data,
  // which RFC 8446 section 4.6.3 allows. So "reply" must leave as two records.
  ASSERT_EQ(c.client->writePlain("reply"), Result::Ok);
  std::string records;
  c.client->takeEncrypted(&records);
  int count = 0;
  for (size_t off = 0; off + 5 <= records.size(); ++count) {
    off += 5 + ((static_cast<unsigned char>(records[off + 3]) << 8) | static_cast<unsigned char>(records[off + 4]));
  }
  EXPECT_EQ(count, 2);
  c.server->feed(records.data(), records.size());
  ASSERT_TRUE(pump(*c.client, *c.server, &c.plain));
  EXPECT_EQ(c.server->received, "reply");
}

// Port 443 speaks TLS 1.3 (single-use tickets), port 444 TLS 1.2 (sessions shared by threads).
TEST_F(TlsSessionTest, ConcurrentSessionsShareOneContext) {
  auto tls12 = makeServerCtx({.max_version = TLS1_2_VERSION});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, reused{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const bool v12 = (t + i) % 2 == 1;
        auto c = handshake(ctx_, v12 ? tls12.get() : server_ctx_.get(), "localhost", v12 ? 444 : 443);
        if (!c.ok) continue;
        c.client->writePlain("ping");
        if (pump(*c.client, *c.server, &c.plain) && c.server->received == "ping") ok++;
        if (c.client->sessionReused()) reused++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_GT(reused.load(), 0);
}

TEST_F(TlsSessionTest, FeedBeforeStartIsAnError) {
  TlsSession client(ctx_, "localhost", 443);
  std::string plain;
  EXPECT_EQ(client.feedEncrypted("x", 1, &plain), Result::Error);
}

TEST_F(TlsSessionTest, NullContextOrEmptyHostFailsCleanly) {
  TlsSession no_ctx(nullptr, "localhost", 443);
  EXPECT_EQ(no_ctx.start(), Result::Error);
  TlsSession no_host(ctx_, "", 443);
  EXPECT_EQ(no_host.start(), Result::Error);
  EXPECT_FALSE(no_host.hasEncrypted());
}

// --- over a real socket -----------------------------------------------------------------

TEST_F(TlsSessionTest, LoopbackSocketRoundTrip) {
  testing::tls::LoopbackEchoServer server(server_ctx_.get());
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  const std::string payload = randomBytes(300000, 11);
  TlsSession client(ctx_, "127.0.0.1", server.port());
  ASSERT_EQ(client.start(), Result::Ok);
  ASSERT_EQ(client.writePlain(payload), Result::Ok);
  // Non-blocking client with poll, like the libuv code will be: a blocking send of 300 KB
  // could deadlock against the echo server blocked on sending the echo back.
  std::string plain, out;
  size_t out_off = 0;
  bool shutdown_queued = false;
  char buf[8192];
  while (!client.peerClosed()) {
    if (plain.size() == payload.size() && !shutdown_queued) {
      client.shutdown();
      shutdown_queued = true;
    }
    client.takeEncrypted(&out);
    pollfd p{fd, static_cast<short>(POLLIN | (out_off < out.size() ? POLLOUT : 0)), 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "timed out";
    if ((p.revents & POLLOUT) != 0) {
      ssize_t n = ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      ASSERT_GT(n, 0);
      out_off += static_cast<size_t>(n);
      if (out_off == out.size()) {
        out.clear();
        out_off = 0;
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      ASSERT_GT(n, 0) << "EOF before close_notify";
      ASSERT_EQ(client.feedEncrypted(buf, static_cast<size_t>(n), &plain), Result::Ok) << client.error();
    }
  }
  ::close(fd);
  server.join();
  EXPECT_TRUE(plain == payload);
  EXPECT_EQ(server.echoed, payload.size());
  EXPECT_EQ(server.sni, "<none>");  // IP literal: no SNI
  EXPECT_TRUE(server.clean_close);
}

}  // namespace
}  // namespace aigw::net
