// Test-side fixtures for the server role: PEM files of the throwaway PKI, a plain OpenSSL client
// over memory BIOs (its ALPN, versions and certificate chosen by the test), and pumps that move
// bytes between a client and a server-side TlsSession, cut anywhere.
#pragma once

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "net/tls_server_context.h"
#include "net/tls_session.h"
#include "net/tls_test_util.h"

namespace aigw::testing::tls {

inline std::string pemOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// `passphrase` non-empty: encrypted with AES-256-CBC.
inline std::string pemOf(EVP_PKEY* key, const std::string& passphrase = "") {
  BIO* bio = BIO_new(BIO_s_mem());
  if (passphrase.empty()) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), passphrase.data(), static_cast<int>(passphrase.size()),
                                  nullptr, nullptr);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// The CA-signed localhost leaf and its key as files: options a server can be built from.
inline aigw::net::TlsServerOptions serverFiles(TempDir& dir, const std::string& prefix = "server") {
  const Pki& pki = Pki::get();
  aigw::net::TlsServerOptions o;
  o.cert_file = dir.writeText(prefix + "-cert.pem", pemOf(pki.leaf.get()));
  o.key_file = dir.writeText(prefix + "-key.pem", pemOf(pki.leaf_key.get()));
  return o;
}

inline aigw::net::TlsServerContextPtr makeServer(const aigw::net::TlsServerOptions& o) {
  aigw::net::TlsLoadError error;
  auto ctx = aigw::net::TlsServerContext::create(o, &error);
  if (ctx == nullptr) ADD_FAILURE() << error.field << ": " << error.message;
  return ctx;
}

struct ClientOptions {
  std::vector<std::string> alpn = {"http/1.1"};  // empty: no ALPN extension
  int max_version = 0;                           // e.g. TLS1_2_VERSION
  int min_version = 0;
  std::string ciphers;                           // TLS 1.2 list; e.g. "DEFAULT:@SECLEVEL=0" for TLS 1.1
  X509* cert = nullptr;                          // a client certificate to present
  EVP_PKEY* key = nullptr;
};

// The client end over memory BIOs, plain OpenSSL, trusting the test CA.
class MemClient : public MemPeer {
 public:
  explicit MemClient(const ClientOptions& o = {}) : MemPeer(newSsl(o), /*server=*/false) {
    SSL_set_tlsext_host_name(ssl_.get(), "localhost");
    SSL_set1_host(ssl_.get(), "localhost");
  }
  // Sent by the next pump() once the handshake is done.
  void write(const std::string& data) { pending_ += data; }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl_.get(), &p, &len);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), len);
  }

 private:
  static SSL* newSsl(const ClientOptions& o) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));  // the SSL keeps its own reference
    const Pki& pki = Pki::get();
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), pki.ca.get());
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (o.min_version != 0) SSL_CTX_set_min_proto_version(ctx.get(), o.min_version);
    if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), o.max_version);
    if (!o.ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), o.ciphers.c_str());
    if (o.cert != nullptr) {
      SSL_CTX_use_certificate(ctx.get(), o.cert);
      SSL_CTX_use_PrivateKey(ctx.get(), o.key);
    }
    std::string wire;
    for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
    if (!wire.empty()) {
      SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size()));
    }
    return SSL_new(ctx.get());
  }
};

// Moves bytes both ways, each direction cut by `chunk`, until neither side has anything to
// send. Decrypted data for the server goes to `server_plain`. False once the server reported
// Error (its last bytes, usually the alert, still reach the client).
inline bool pump(MemClient& client, aigw::net::TlsSession& server, std::string* server_plain,
                 const Chunker& chunk = nullptr) {
  bool ok = true;
  for (int round = 0; round < 100000; ++round) {
    client.pump();
    const std::string to_server = client.take();
    for (size_t off = 0; ok && off < to_server.size();) {
      const size_t n = chunk ? std::min(chunk(to_server.size() - off), to_server.size() - off) : to_server.size();
      ok = server.feedEncrypted(to_server.data() + off, n, server_plain) == aigw::net::TlsSession::Result::Ok;
      off += n;
    }
    std::string to_client;
    server.takeEncrypted(&to_client);
    for (size_t off = 0; off < to_client.size();) {
      const size_t n = chunk ? std::min(chunk(to_client.size() - off), to_client.size() - off) : to_client.size();
      client.feed(to_client.data() + off, n);
      client.pump();
      off += n;
    }
    if (to_server.empty() && to_client.empty()) return ok;
    if (!ok) {
      client.pump();
      return false;
    }
  }
  return false;
}

// Both ends are TlsSessions (ours as the client too).
inline bool pump(aigw::net::TlsSession& client, aigw::net::TlsSession& server, std::string* client_plain,
                 std::string* server_plain, const Chunker& chunk = nullptr) {
  using Result = aigw::net::TlsSession::Result;
  for (int round = 0; round < 100000; ++round) {
    std::string to_server, to_client;
    client.takeEncrypted(&to_server);
    for (size_t off = 0; off < to_server.size();) {
      const size_t n = chunk ? std::min(chunk(to_server.size() - off), to_server.size() - off) : to_server.size();
      if (server.feedEncrypted(to_server.data() + off, n, server_plain) != Result::Ok) return false;
      off += n;
    }
    server.takeEncrypted(&to_client);
    for (size_t off = 0; off < to_client.size();) {
      const size_t n = chunk ? std::min(chunk(to_client.size() - off), to_client.size() - off) : to_client.size();
      if (client.feedEncrypted(to_client.data() + off, n, client_plain) != Result::Ok) return false;
      off += n;
    }
    if (to_server.empty() && to_client.empty() && !client.hasEncrypted() && !server.hasEncrypted()) return true;
  }
  return false;
}

}  // namespace aigw::testing::tls
