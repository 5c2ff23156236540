// Verification policy (trust store, CA file, host and IP checks, verify: false), SNI, and the
// session-resumption cache of TlsClientContext, against an in-memory OpenSSL server.
#include "net/tls_context.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "net/tls_session.h"
#include "net/tls_test_util.h"

namespace aigw::net {
namespace {

using testing::tls::handshake;
using testing::tls::makeServerCtx;
using testing::tls::Pki;
using testing::tls::ServerOptions;
using testing::tls::TempDir;

std::shared_ptr<TlsClientContext> makeContext(const TlsClientOptions& opts) {
  std::string error;
  auto ctx = TlsClientContext::create(opts, &error);
  EXPECT_NE(ctx, nullptr) << error;
  return ctx;
}

class TlsContextTest : public ::testing::Test {
 protected:
  std::shared_ptr<TlsClientContext> trustingTestCa() {
    TlsClientOptions o;
    o.ca_file = dir_.writePem("ca.pem", {Pki::get().ca.get()});
    return makeContext(o);
  }
  TempDir dir_;
};

TEST_F(TlsContextTest, CreateFailsForMissingCaFile) {
  TlsClientOptions o;
  o.ca_file = "/nonexistent/aigw-ca.pem";
  std::string error;
  EXPECT_EQ(TlsClientContext::create(o, &error), nullptr);
  EXPECT_NE(error.find("cannot load CA file '/nonexistent/aigw-ca.pem'"), std::string::npos) << error;
}

TEST_F(TlsContextTest, CreateFailsForCaFileWithoutCertificates) {
  TlsClientOptions o;
  o.ca_file = dir_.writeText("junk.pem", "this is not a certificate\n");
  std::string error;
  EXPECT_EQ(TlsClientContext::create(o, &error), nullptr);
  EXPECT_NE(error.find("cannot load CA file"), std::string::npos) << error;
}

TEST_F(TlsContextTest, VerificationIsOnByDefault) {
  auto ctx = makeContext({});
  ASSERT_NE(ctx, nullptr);
  EXPECT_TRUE(ctx->verify());
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx->native()), SSL_VERIFY_PEER);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native()), TLS1_2_VERSION);
}

TEST_F(TlsContextTest, SelfSignedCertificateFailsByDefault) {
  const Pki& pki = Pki::get();
  auto server = makeServerCtx({.cert = pki.self.get(), .key = pki.self_key.get()});
  auto c = handshake(makeContext({}), server.get());
  EXPECT_FALSE(c.ok);
  EXPECT_FALSE(c.client->handshakeDone());
  EXPECT_EQ(c.client->error(), "certificate verify failed: self-signed certificate (host localhost)");
  // The client told the server why (a fatal alert went out before it gave up).
  EXPECT_TRUE(c.server->failed);
  EXPECT_NE(c.server->error.find("alert"), std::string::npos) << c.server->error;
}

TEST_F(TlsContextTest, UntrustedChainFailsWithClearError) {
  const Pki& pki = Pki::get();
  auto server = makeServerCtx({.chain = pki.ca.get()});
  auto c = handshake(makeContext({}), server.get(), "localhost");
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.client->error(),
            "certificate verify failed: self-signed certificate in certificate chain (host localhost)");
}

TEST_F(TlsContextTest, CaFileMakesPrivateCaTrusted) {
  auto server = makeServerCtx();
  auto c = handshake(trustingTestCa(), server.get());
  EXPECT_TRUE(c.ok) << c.client->error();
  EXPECT_TRUE(c.client->handshakeDone());
  EXPECT_EQ(c.client->alpnProtocol(), "http/1.1");
}

TEST_F(TlsContextTest, CaFileDoesNotTrustOtherCas) {
  TlsClientOptions o;
  o.ca_file = dir_.writePem("other.pem", {Pki::get().other_ca.get()});
  auto server = makeServerCtx();
  auto c = handshake(makeContext(o), server.get());
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.client->error(), "certificate verify failed: unable to get local issuer certificate (host localhost)");
}

// The system store is whatever OpenSSL's default paths hold; SSL_CERT_FILE redirects them, which
// shows the default context really consults them (and that the CA file is only an addition).
TEST_F(TlsContextTest, SystemStoreIsUsedByDefaultAndCaFileAddsToIt) {
  const std::string system_file = dir_.writePem("system.pem", {Pki::get().ca.get()});
  ::setenv("SSL_CERT_FILE", system_file.c_str(), 1);
  auto plain = makeContext({});
  TlsClientOptions o;
  o.ca_file = dir_.writePem("other.pem", {Pki::get().other_ca.get()});
  auto with_file = makeContext(o);
  ::unsetenv("SSL_CERT_FILE");

  auto server = makeServerCtx();
  auto c1 = handshake(plain, server.get());
  EXPECT_TRUE(c1.ok) << c1.client->error();
  auto c2 = handshake(with_file, server.get());
  EXPECT_TRUE(c2.ok) << c2.client->error();
}

TEST_F(TlsContextTest, WrongHostNameFails) {
  const Pki& pki = Pki::get();
  auto server = makeServerCtx({.cert = pki.wrong.get(), .key = pki.wrong_key.get()});
  auto c = handshake(trustingTestCa(), server.get(), "localhost");
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.client->error(), "certificate verify failed: hostname mismatch (host localhost)");
}

TEST_F(TlsContextTest, WildcardLikePartialNamesDoNotMatch) {
  auto server = makeServerCtx();
  auto c = handshake(trustingTestCa(), server.get(), "evil-localhost");
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.client->error().find("hostname mismatch"), std::string::npos) << c.client->error();
}

TEST_F(TlsContextTest, SniCarriesTheHostNameWithoutTrailingDot) {
  auto server = makeServerCtx();
  auto c = handshake(trustingTestCa(), server.get(), "localhost.");
  ASSERT_TRUE(c.ok) << c.client->error();
  EXPECT_EQ(c.server->servername(), "localhost");
}

TEST_F(TlsContextTest, IpLiteralIsCheckedAgainstIpSanAndSendsNoSni) {
  auto server = makeServerCtx();
  auto c = handshake(trustingTestCa(), server.get(), "127.0.0.1");
  ASSERT_TRUE(c.ok) << c.client->error();
  EXPECT_EQ(c.server->servername(), "<none>");
}

TEST_F(TlsContextTest, BracketedIpv6LiteralIsCheckedAgainstIpSan) {
  auto server = makeServerCtx();
  auto c = handshake(trustingTestCa(), server.get(), "[::1]");
  ASSERT_TRUE(c.ok) << c.client->error();
  EXPECT_EQ(c.server->servername(), "<none>");
  EXPECT_EQ(c.client->cacheKey(), "[::1]:443");
}

TEST_F(TlsContextTest, IpLiteralMismatchFails) {
  const Pki& pki = Pki::get();
  auto server = makeServerCtx({.cert = pki.wrong.get(), .key = pki.wrong_key.get()});
  auto c = handshake(trustingTestCa(), server.get(), "127.0.0.1");
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.client->error(), "certificate verify failed: IP address mismatch (host 127.0.0.1)");
}

TEST_F(TlsContextTest, VerifyFalseAcceptsSelfSignedAndWrongHost) {
  const Pki& pki = Pki::get();
  TlsClientOptions o;
  o.verify = false;
  auto ctx = makeContext(o);
  EXPECT_FALSE(ctx->verify());
  auto self_signed = makeServerCtx({.cert = pki.self.get(), .key = pki.self_key.get()});
  auto c1 = handshake(ctx, self_signed.get());
  EXPECT_TRUE(c1.ok) << c1.client->error();
  auto wrong = makeServerCtx({.cert = pki.wrong.get(), .key = pki.wrong_key.get()});
  auto c2 = handshake(ctx, wrong.get(), "localhost");
  EXPECT_TRUE(c2.ok) << c2.client->error();
  EXPECT_EQ(c2.server->servername(), "localhost");  // SNI still goes out
}

// --- session resumption ---------------------------------------------------------------

struct ResumptionCase {
  const char* name;
  ServerOptions server;
  int expected_version;
};

void PrintTo(const ResumptionCase& c, std::ostream* os) { *os << c.name; }

class TlsResumptionTest : public TlsContextTest, public ::testing::WithParamInterface<ResumptionCase> {};

// Connection 1 is dropped without close_notify (what idle upstreams do), connection 2 closes
// cleanly; both must leave resumable sessions behind.
TEST_P(TlsResumptionTest, LaterSessionsToSameHostAndPortResume) {
  auto ctx = trustingTestCa();
  auto server = makeServerCtx(GetParam().server);
  {
    auto c1 = handshake(ctx, server.get());
    ASSERT_TRUE(c1.ok) << c1.client->error();
    EXPECT_EQ(SSL_version(c1.server->ssl()), GetParam().expected_version);
    EXPECT_FALSE(c1.client->sessionReused());
    EXPECT_GE(ctx->cachedSessions("localhost:443"), 1u);
  }
  {
    auto c2 = handshake(ctx, server.get());
    ASSERT_TRUE(c2.ok) << c2.client->error();
    EXPECT_TRUE(c2.client->sessionReused());
    EXPECT_EQ(c2.server->servername(), "localhost");
    c2.client->shutdown();
    c2.server->pump();
    ASSERT_TRUE(testing::tls::pump(*c2.client, *c2.server, &c2.plain));
    EXPECT_TRUE(c2.server->peer_closed);
  }
  auto c3 = handshake(ctx, server.get());
  ASSERT_TRUE(c3.ok) << c3.client->error();
  EXPECT_TRUE(c3.client->sessionReused());
}

INSTANTIATE_TEST_SUITE_P(
    Tls, TlsResumptionTest,
    ::testing::Values(ResumptionCase{"Tls13Tickets", {}, TLS1_3_VERSION},
                      ResumptionCase{"Tls12Tickets", {.max_version = TLS1_2_VERSION}, TLS1_2_VERSION},
                      ResumptionCase{"Tls12SessionIds", {.max_version = TLS1_2_VERSION, .tickets = false},
                                     TLS1_2_VERSION}),
    [](const ::testing::TestParamInfo<ResumptionCase>& info) { return std::string(info.param.name); });

TEST_F(TlsContextTest, ResumptionIsKeyedByHostAndPort) {
  auto ctx = trustingTestCa();
  auto server = makeServerCtx();
  auto c1 = handshake(ctx, server.get(), "localhost", 443);
  ASSERT_TRUE(c1.ok);
  auto other_port = handshake(ctx, server.get(), "localhost", 8443);
  ASSERT_TRUE(other_port.ok);
  EXPECT_FALSE(other_port.client->sessionReused());
  auto other_host = handshake(ctx, server.get(), "127.0.0.1", 443);
  ASSERT_TRUE(other_host.ok);
  EXPECT_FALSE(other_host.client->sessionReused());
  auto same = handshake(ctx, server.get(), "localhost", 443);
  ASSERT_TRUE(same.ok);
  EXPECT_TRUE(same.client->sessionReused());
}

TEST_F(TlsContextTest, Tls13TicketsAreUsedOnceAndCappedPerKey) {
  auto ctx = trustingTestCa();
  auto server = makeServerCtx();
  SSL_CTX_set_num_tickets(server.get(), 7);
  auto c1 = handshake(ctx, server.get());
  ASSERT_TRUE(c1.ok);
  EXPECT_EQ(ctx->cachedSessions("localhost:443"), TlsClientContext::kMaxSessionsPerKey);
  SSL_SESSION* s = ctx->takeSession("localhost:443");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ctx->cachedSessions("localhost:443"), TlsClientContext::kMaxSessionsPerKey - 1);
  SSL_SESSION_free(s);
  EXPECT_EQ(ctx->takeSession("nobody:443"), nullptr);
}

TEST_F(TlsContextTest, FailedHandshakeCachesNothing) {
  const Pki& pki = Pki::get();
  auto ctx = makeContext({});
  auto server = makeServerCtx({.cert = pki.self.get(), .key = pki.self_key.get()});
  auto c = handshake(ctx, server.get());
  ASSERT_FALSE(c.ok);
  EXPECT_EQ(ctx->cachedSessions("localhost:443"), 0u);
}

TEST_F(TlsContextTest, ResumedSessionStillRequiresTheSameTrust) {
  // A session saved under verify: false must not help a verifying context: caches are per
  // context (per provider), so the second context does a full, failing handshake.
  const Pki& pki = Pki::get();
  TlsClientOptions lax;
  lax.verify = false;
  auto lax_ctx = makeContext(lax);
  auto strict_ctx = makeContext({});
  auto server = makeServerCtx({.cert = pki.self.get(), .key = pki.self_key.get()});
  auto c1 = handshake(lax_ctx, server.get());
  ASSERT_TRUE(c1.ok);
  auto c2 = handshake(strict_ctx, server.get());
  EXPECT_FALSE(c2.ok);
  EXPECT_FALSE(c2.client->sessionReused());
}

}  // namespace
}  // namespace aigw::net
