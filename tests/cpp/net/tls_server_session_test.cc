// TlsSession in the server role over memory BIOs: handshake and data both ways (against our own
// client and plain OpenSSL), records split at every byte, hostile and plain-HTTP first bytes,
// ALPN, the protocol floor, client certificates, close_notify.
#include <gtest/gtest.h>

#include <random>

#include "net/tls_server_test_util.h"
#include "net/tls_session.h"

namespace aigw::net {
namespace {

using testing::tls::ClientOptions;
using testing::tls::makeServer;
using testing::tls::MemClient;
using testing::tls::Pki;
using testing::tls::pump;
using testing::tls::serverFiles;
using testing::tls::TempDir;
using Result = TlsSession::Result;

class TlsServerSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_ = serverFiles(dir_);
    server_ctx_ = makeServer(opts_);
    ASSERT_NE(server_ctx_, nullptr);
    TlsClientOptions co;
    co.ca_file = dir_.writePem("ca.pem", {Pki::get().ca.get()});
    std::string error;
    client_ctx_ = TlsClientContext::create(co, &error);
    ASSERT_NE(client_ctx_, nullptr) << error;
  }

  // A server session over `opts` (the default files unless the test changed them).
  std::unique_ptr<TlsSession> newServer() {
    if (server_ctx_ == nullptr) return nullptr;
    auto s = std::make_unique<TlsSession>(server_ctx_);
    EXPECT_EQ(s->start(), Result::Ok);
    EXPECT_FALSE(s->hasEncrypted()) << "the server must not speak first";
    return s;
  }

  TempDir dir_;
  TlsServerOptions opts_;
  TlsServerContextPtr server_ctx_;
  std::shared_ptr<TlsClientContext> client_ctx_;
};

TEST_F(TlsServerSessionTest, HandshakeWithOurClientNegotiatesHttp11AndCarriesDataBothWays) {
  TlsSession client(client_ctx_, "localhost", 443);
  auto server = newServer();
  ASSERT_EQ(client.start(), Result::Ok);
  ASSERT_EQ(client.writePlain("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Result::Ok);
  std::string to_client, to_server;
  ASSERT_TRUE(pump(client, *server, &to_client, &to_server)) << client.error() << " / " << server->error();
  EXPECT_TRUE(server->handshakeDone());
  EXPECT_EQ(server->alpnProtocol(), "http/1.1");
  EXPECT_EQ(client.alpnProtocol(), "http/1.1");
  EXPECT_EQ(server->protocolVersion(), "TLSv1.3");
  EXPECT_EQ(to_server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(server->writePlain("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Result::Ok);
  ASSERT_TRUE(pump(client, *server, &to_client, &to_server));
  EXPECT_EQ(to_client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

// Every record of the handshake and of the data, in both directions, arrives one byte at a time.
TEST_F(TlsServerSessionTest, RecordsSplitAtEveryByteStillMakeTheSameExchange) {
  std::mt19937 rng(7);
  std::string body(100 * 1024, '\0');
  for (auto& c : body) c = static_cast<char>(rng());
  TlsSession client(client_ctx_, "localhost", 443);
  auto server = newServer();
  ASSERT_EQ(client.start(), Result::Ok);
  ASSERT_EQ(client.writePlain(body), Result::Ok);
  std::string to_client, to_server;
  auto one = [](size_t) -> size_t { return 1; };
  ASSERT_TRUE(pump(client, *server, &to_client, &to_server, one)) << server->error();
  EXPECT_TRUE(to_server == body);
  ASSERT_EQ(server->writePlain(body), Result::Ok);
  ASSERT_TRUE(pump(client, *server, &to_client, &to_server, one));
  EXPECT_TRUE(to_client == body);
}

TEST_F(TlsServerSessionTest, GarbageInsteadOfAClientHelloFailsWithAnAlert) {
  auto server = newServer();
  // A handshake record holding a ClientHello one byte long.
  const std::string garbage("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10);
  std::string plain;
  EXPECT_EQ(server->feedEncrypted(garbage.data(), garbage.size(), &plain), Result::Error);
  EXPECT_FALSE(server->handshakeDone());
  EXPECT_FALSE(server->plainHttpRequest());
  EXPECT_FALSE(server->error().empty());
  EXPECT_TRUE(server->hasEncrypted()) << "the alert that tells the client why";
  EXPECT_EQ(server->feedEncrypted("x", 1, &plain), Result::Error) << "a failed session stays failed";
  EXPECT_TRUE(plain.empty());
}

TEST_F(TlsServerSessionTest, RandomBytesNeverCrashAndNeverYieldPlaintext) {
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    auto server = newServer();
    std::string junk(1 + rng() % 600, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) junk[0] = 0x16;  // half of them look like a handshake record
    std::string plain;
    for (size_t off = 0; off < junk.size(); off += 7) {
      if (server->feedEncrypted(junk.data() + off, std::min<size_t>(7, junk.size() - off), &plain) != Result::Ok) break;
    }
    EXPECT_FALSE(server->handshakeDone());
    EXPECT_TRUE(plain.empty());
  }
}

TEST_F(TlsServerSessionTest, PlainHttpRequestIsRecognisedAsSuch) {
  for (const std::string first : {"GET /health HTTP/1.1\r\n", "POST /v1/chat/completions HTTP/1.1\r\n"}) {
    auto server = newServer();
    std::string plain;
    EXPECT_EQ(server->feedEncrypted(first.data(), first.size(), &plain), Result::Error);
    EXPECT_TRUE(server->plainHttpRequest()) << first << server->error();
  }
}

TEST_F(TlsServerSessionTest, ClientOfferingH2AndHttp11GetsHttp11) {
  MemClient client(ClientOptions{.alpn = {"h2", "http/1.1"}});
  auto server = newServer();
  std::string plain;
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_TRUE(client.handshake_done) << client.error;
  EXPECT_EQ(client.alpn(), "http/1.1");
  EXPECT_EQ(server->alpnProtocol(), "http/1.1");
}

TEST_F(TlsServerSessionTest, ClientOfferingOnlyH2IsRefusedWithNoApplicationProtocol) {
  MemClient client(ClientOptions{.alpn = {"h2"}});
  auto server = newServer();
  std::string plain;
  EXPECT_FALSE(pump(client, *server, &plain));
  EXPECT_FALSE(server->handshakeDone());
  EXPECT_NE(server->error().find("no application protocol"), std::string::npos) << server->error();
  EXPECT_TRUE(client.failed);
  EXPECT_NE(client.error.find("no application protocol"), std::string::npos) << client.error;
}

TEST_F(TlsServerSessionTest, ClientWithoutAlpnIsServed) {
  MemClient client(ClientOptions{.alpn = {}});
  auto server = newServer();
  std::string plain;
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_TRUE(client.handshake_done);
  EXPECT_EQ(server->alpnProtocol(), "");
}

TEST_F(TlsServerSessionTest, EmptyAlpnListIgnoresTheExtension) {
  opts_.alpn.clear();
  server_ctx_ = makeServer(opts_);
  MemClient client(ClientOptions{.alpn = {"h2"}});
  auto server = newServer();
  std::string plain;
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_TRUE(client.handshake_done);
  EXPECT_EQ(client.alpn(), "");
}

TEST_F(TlsServerSessionTest, Tls12ClientGetsAForwardSecretAeadSuiteByDefault) {
  MemClient client(ClientOptions{.max_version = TLS1_2_VERSION});
  auto server = newServer();
  std::string plain;
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_EQ(server->protocolVersion(), "TLSv1.2");
  const std::string suite = SSL_CIPHER_get_name(SSL_get_current_cipher(client.ssl()));
  EXPECT_EQ(suite.rfind("ECDHE-", 0), 0u) << suite;
  EXPECT_TRUE(suite.find("GCM") != std::string::npos || suite.find("CHACHA20") != std::string::npos) << suite;
}

TEST_F(TlsServerSessionTest, Tls11ClientIsRefused) {
  // SECLEVEL=0 lets the client itself offer TLS 1.1, so the refusal is the server's.
  MemClient client(ClientOptions{.max_version = TLS1_1_VERSION, .min_version = TLS1_VERSION,
                                 .ciphers = "DEFAULT:@SECLEVEL=0"});
  auto server = newServer();
  std::string plain;
  EXPECT_FALSE(pump(client, *server, &plain));
  EXPECT_NE(server->error().find("unsupported protocol"), std::string::npos) << server->error();
  EXPECT_FALSE(client.handshake_done);
}

TEST_F(TlsServerSessionTest, MinVersion13RefusesATls12Client) {
  opts_.min_version = TlsMinVersion::V1_3;
  server_ctx_ = makeServer(opts_);
  MemClient old(ClientOptions{.max_version = TLS1_2_VERSION});
  auto server = newServer();
  std::string plain;
  EXPECT_FALSE(pump(old, *server, &plain));
  EXPECT_FALSE(old.handshake_done);
  MemClient current;
  auto server2 = newServer();
  ASSERT_TRUE(pump(current, *server2, &plain)) << server2->error();
  EXPECT_EQ(server2->protocolVersion(), "TLSv1.3");
}

class TlsClientAuthTest : public TlsServerSessionTest {
 protected:
  void useClientAuth(TlsClientAuth mode) {
    opts_.ca_file = dir_.writePem("client-ca.pem", {Pki::get().ca.get()});
    opts_.client_auth = mode;
    server_ctx_ = makeServer(opts_);
    ASSERT_NE(server_ctx_, nullptr);
    EXPECT_TRUE(server_ctx_->verifiesClients());
  }
  // A client certificate signed by the test CA, and one by a CA the server does not trust.
  testing::tls::PkeyPtr key_ = testing::tls::makeKey();
  testing::tls::X509Ptr good_ = testing::tls::makeCert(key_.get(), "client-a", "", false, Pki::get().ca.get(),
                                                       Pki::get().ca_key.get(), "clientAuth");
  testing::tls::X509Ptr stranger_ = testing::tls::makeCert(key_.get(), "client-b", "", false,
                                                           Pki::get().other_ca.get(), Pki::get().other_ca_key.get(),
                                                           "clientAuth");
};

TEST_F(TlsClientAuthTest, RequireRefusesAClientWithoutACertificate) {
  useClientAuth(TlsClientAuth::Require);
  MemClient client;
  auto server = newServer();
  std::string plain;
  client.write("GET / HTTP/1.1\r\n\r\n");  // TLS 1.3: the refusal comes after the client's Finished
  EXPECT_FALSE(pump(client, *server, &plain));
  EXPECT_FALSE(server->handshakeDone());
  EXPECT_TRUE(plain.empty());
  EXPECT_NE(server->error().find("certificate"), std::string::npos) << server->error();
}

TEST_F(TlsClientAuthTest, RequireAcceptsACertificateOfTheTrustedCa) {
  useClientAuth(TlsClientAuth::Require);
  MemClient client(ClientOptions{.cert = good_.get(), .key = key_.get()});
  auto server = newServer();
  std::string plain;
  client.write("ping");
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_EQ(plain, "ping");
}

TEST_F(TlsClientAuthTest, RequireRefusesACertificateOfAnotherCa) {
  useClientAuth(TlsClientAuth::Require);
  MemClient client(ClientOptions{.cert = stranger_.get(), .key = key_.get()});
  auto server = newServer();
  std::string plain;
  client.write("ping");
  EXPECT_FALSE(pump(client, *server, &plain));
  EXPECT_TRUE(plain.empty());
  EXPECT_EQ(server->error().rfind("client certificate verify failed", 0), 0u) << server->error();
}

TEST_F(TlsClientAuthTest, OptionalServesAClientWithoutACertificate) {
  useClientAuth(TlsClientAuth::Optional);
  MemClient client;
  auto server = newServer();
  std::string plain;
  client.write("ping");
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_EQ(plain, "ping");
}

TEST_F(TlsServerSessionTest, ShutdownSendsCloseNotifyAfterTheQueuedData) {
  MemClient client;
  auto server = newServer();
  std::string plain;
  ASSERT_TRUE(pump(client, *server, &plain));
  ASSERT_EQ(server->writePlain("last words"), Result::Ok);
  server->shutdown();
  ASSERT_TRUE(pump(client, *server, &plain));
  EXPECT_EQ(client.received, "last words");
  EXPECT_TRUE(client.peer_closed);
  SSL_shutdown(client.ssl());  // the client answers with its own
  ASSERT_TRUE(pump(client, *server, &plain));
  EXPECT_TRUE(server->peerClosed());
}

// No server-side session cache: resumption rides on stateless tickets, which any worker (same
// context) can open.
TEST_F(TlsServerSessionTest, TicketFromOneConnectionResumesTheNext) {
  for (int round = 0; round < 2; ++round) {
    TlsSession client(client_ctx_, "localhost", 443);
    auto server = newServer();
    ASSERT_EQ(client.start(), Result::Ok);
    std::string to_client, to_server;
    ASSERT_TRUE(pump(client, *server, &to_client, &to_server)) << server->error();
    EXPECT_EQ(server->sessionReused(), round == 1) << "round " << round;
  }
}

TEST_F(TlsServerSessionTest, ConnectionKeepsItsContextAfterTheOwnerDropsIt) {
  auto server = newServer();
  server_ctx_.reset();  // what a reload does to the old context
  MemClient client;
  std::string plain;
  client.write("still here");
  ASSERT_TRUE(pump(client, *server, &plain)) << server->error();
  EXPECT_EQ(plain, "still here");
}

}  // namespace
}  // namespace aigw::net
