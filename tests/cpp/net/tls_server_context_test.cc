// TlsServerContext::create: every problem with the files or settings is found while loading,
// names the `server.tls` key to blame and the file, and never prompts for a passphrase.
#include "net/tls_server_context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/tls_server_test_util.h"

namespace aigw::net {
namespace {

using testing::tls::makeCert;
using testing::tls::makeKey;
using testing::tls::pemOf;
using testing::tls::Pki;
using testing::tls::serverFiles;
using testing::tls::TempDir;

TlsLoadError failure(const TlsServerOptions& o) {
  TlsLoadError error;
  EXPECT_EQ(TlsServerContext::create(o, &error), nullptr);
  return error;
}

TEST(TlsServerContext, LoadsTheCertificateAndDescribesIt) {
  TempDir dir;
  TlsLoadError error;
  auto ctx = TlsServerContext::create(serverFiles(dir), &error);
  ASSERT_NE(ctx, nullptr) << error.message;
  const CertificateInfo& c = ctx->certificate();
  EXPECT_NE(c.subject.find("CN=localhost"), std::string::npos) << c.subject;
  EXPECT_FALSE(c.serial.empty());
  EXPECT_EQ(c.not_after.size(), 20u) << c.not_after;  // 2026-03-01T12:00:00Z
  EXPECT_FALSE(c.expired);
  EXPECT_FALSE(ctx->verifiesClients());
}

TEST(TlsServerContext, DefaultTls12CiphersAreForwardSecretAeadOnly) {
  TempDir dir;
  TlsLoadError error;
  auto ctx = TlsServerContext::create(serverFiles(dir), &error);
  ASSERT_NE(ctx, nullptr);
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx->native());
  int tls12 = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    const std::string name = SSL_CIPHER_get_name(c);
    if (name.rfind("TLS_", 0) == 0) continue;  // TLS 1.3 suites: all AEAD
    ++tls12;
    EXPECT_EQ(name.rfind("ECDHE-", 0), 0u) << name;
    EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << name;
  }
  EXPECT_EQ(tls12, 6);
}

TEST(TlsServerContext, MissingFilesNameTheKeyAndThePath) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.cert_file = "/nonexistent/cert.pem";
  TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "cert");
  EXPECT_NE(e.message.find("/nonexistent/cert.pem"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("No such file"), std::string::npos) << e.message;

  o = serverFiles(dir, "again");
  o.key_file = "/nonexistent/key.pem";
  e = failure(o);
  EXPECT_EQ(e.field, "key");
  EXPECT_NE(e.message.find("/nonexistent/key.pem"), std::string::npos) << e.message;
}

TEST(TlsServerContext, KeyOfAnotherCertificateIsRefused) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.key_file = dir.writeText("other-key.pem", pemOf(Pki::get().wrong_key.get()));
  const TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "key");
  EXPECT_NE(e.message.find("does not match the certificate"), std::string::npos) << e.message;
}

TEST(TlsServerContext, EncryptedKeyIsRefusedWithoutAPrompt) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.key_file = dir.writeText("locked-key.pem", pemOf(Pki::get().leaf_key.get(), "secret"));
  const TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "key");
  EXPECT_NE(e.message.find("passphrase-protected"), std::string::npos) << e.message;
}

TEST(TlsServerContext, FilesWithoutPemContentAreRefused) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.key_file = dir.writeText("garbage-key.pem", "not a key\n");
  TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "key");
  EXPECT_NE(e.message.find("no PEM private key"), std::string::npos) << e.message;

  o = serverFiles(dir, "b");
  o.cert_file = o.key_file;  // a key where the certificate belongs
  e = failure(o);
  EXPECT_EQ(e.field, "cert");
  EXPECT_NE(e.message.find("no PEM certificate"), std::string::npos) << e.message;
}

TEST(TlsServerContext, OneFileHoldingCertificateAndKeyServesAsBoth) {
  TempDir dir;
  const Pki& pki = Pki::get();
  TlsServerOptions o;
  o.cert_file = o.key_file = dir.writeText("both.pem", pemOf(pki.leaf.get()) + pemOf(pki.leaf_key.get()));
  TlsLoadError error;
  EXPECT_NE(TlsServerContext::create(o, &error), nullptr) << error.message;
}

TEST(TlsServerContext, ChainFileKeepsItsIntermediates) {
  TempDir dir;
  const Pki& pki = Pki::get();
  TlsServerOptions o = serverFiles(dir);
  o.cert_file = dir.writeText("chain.pem", pemOf(pki.leaf.get()) + pemOf(pki.ca.get()));
  TlsLoadError error;
  auto ctx = TlsServerContext::create(o, &error);
  ASSERT_NE(ctx, nullptr) << error.message;
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx->native(), &chain);
  EXPECT_EQ(sk_X509_num(chain), 1);
}

TEST(TlsServerContext, UnknownCipherNameIsRefusedInsteadOfSkipped) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA265";  // typo in the second
  TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "ciphers");
  EXPECT_NE(e.message.find("ECDHE-ECDSA-AES128-GCM-SHA265"), std::string::npos) << e.message;

  o.ciphers = "ECDHE+AESGCM:!aNULL";  // expressions and exclusions are fine
  TlsLoadError error;
  EXPECT_NE(TlsServerContext::create(o, &error), nullptr) << error.message;
}

TEST(TlsServerContext, ClientAuthNeedsACaFileWithCertificates) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.client_auth = TlsClientAuth::Require;
  o.ca_file = dir.writeText("empty-ca.pem", "\n");
  TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "ca");
  EXPECT_NE(e.message.find("no PEM certificate"), std::string::npos) << e.message;

  o.ca_file = dir.writePem("ca.pem", {Pki::get().ca.get()});
  TlsLoadError error;
  auto ctx = TlsServerContext::create(o, &error);
  ASSERT_NE(ctx, nullptr) << error.message;
  EXPECT_TRUE(ctx->verifiesClients());
}

TEST(TlsServerContext, ExpiredCertificateLoadsButSaysSo) {
  TempDir dir;
  auto key = makeKey();
  auto cert = makeCert(key.get(), "localhost", "DNS:localhost", false);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), -60);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  TlsServerOptions o;
  o.cert_file = dir.writeText("old.pem", pemOf(cert.get()));
  o.key_file = dir.writeText("old-key.pem", pemOf(key.get()));
  TlsLoadError error;
  auto ctx = TlsServerContext::create(o, &error);
  ASSERT_NE(ctx, nullptr) << error.message;
  EXPECT_TRUE(ctx->certificate().expired);
}

TEST(TlsServerContext, UnreadableFileSaysPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  ::chmod(o.key_file.c_str(), 0);
  const TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, "key");
  EXPECT_NE(e.message.find("Permission denied"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace aigw::net
