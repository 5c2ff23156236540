// TlsServerContext::create: every problem with the files or settings is found while loading,
// names the `server.tls` key to blame and the file, and never prompts for a passphrase.
#include "net/tls_server_context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

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

// A setting or file the server cannot start with: found while loading, blamed on its
// `server.tls` key, with the words that say why.
struct Refusal {
  const char* name;
  void (*spoil)(TempDir& dir, TlsServerOptions& o);  // applied to a good set of files
  const char* field;
  std::vector<std::string> says;
};

class TlsServerContextRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(TlsServerContextRefuses, NamingTheKeyToBlame) {
  const Refusal& c = GetParam();
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  c.spoil(dir, o);
  const TlsLoadError e = failure(o);
  EXPECT_EQ(e.field, c.field);
  for (const std::string& words : c.says) EXPECT_NE(e.message.find(words), std::string::npos) << e.message;
}

INSTANTIATE_TEST_SUITE_P(
    TlsServerContext, TlsServerContextRefuses,
    ::testing::Values(
        // A missing file is named with its path.
        Refusal{"MissingCertificateFile", [](TempDir&, TlsServerOptions& o) { o.cert_file = "/nonexistent/cert.pem"; },
                "cert", {"/nonexistent/cert.pem", "No such file"}},
        Refusal{"MissingKeyFile", [](TempDir&, TlsServerOptions& o) { o.key_file = "/nonexistent/key.pem"; }, "key",
                {"/nonexistent/key.pem"}},
        Refusal{"KeyOfAnotherCertificate",
                [](TempDir& dir, TlsServerOptions& o) {
                  o.key_file = dir.writeText("other-key.pem", pemOf(Pki::get().wrong_key.get()));
                },
                "key", {"does not match the certificate"}},
        // Without a prompt: a server must not wait for a passphrase on its terminal.
        Refusal{"EncryptedKey",
                [](TempDir& dir, TlsServerOptions& o) {
                  o.key_file = dir.writeText("locked-key.pem", pemOf(Pki::get().leaf_key.get(), "secret"));
                },
                "key", {"passphrase-protected"}},
        Refusal{"KeyFileWithoutPemContent",
                [](TempDir& dir, TlsServerOptions& o) { o.key_file = dir.writeText("garbage-key.pem", "not a key\n"); },
                "key", {"no PEM private key"}},
        Refusal{"CertificateFileWithoutPemContent",
                [](TempDir&, TlsServerOptions& o) { o.cert_file = o.key_file; },  // a key where the certificate belongs
                "cert", {"no PEM certificate"}},
        // Refused instead of skipped: OpenSSL drops names it does not know from a list.
        Refusal{"UnknownCipherName",
                [](TempDir&, TlsServerOptions& o) {
                  o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA265";  // typo in the second
                },
                "ciphers", {"ECDHE-ECDSA-AES128-GCM-SHA265"}},
        Refusal{"ClientAuthWithACaFileWithoutCertificates",
                [](TempDir& dir, TlsServerOptions& o) {
                  o.client_auth = TlsClientAuth::Require;
                  o.ca_file = dir.writeText("empty-ca.pem", "\n");
                },
                "ca", {"no PEM certificate"}}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return info.param.name; });

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

TEST(TlsServerContext, CipherExpressionsAndExclusionsAreAccepted) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.ciphers = "ECDHE+AESGCM:!aNULL";
  TlsLoadError error;
  EXPECT_NE(TlsServerContext::create(o, &error), nullptr) << error.message;
}

TEST(TlsServerContext, ClientAuthWithACaFileVerifiesClients) {
  TempDir dir;
  TlsServerOptions o = serverFiles(dir);
  o.client_auth = TlsClientAuth::Require;
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
