// Server-side TLS for the gateway's clients: one SSL_CTX built from `server.tls` (certificate
// chain, key, protocol floor, ciphers, ALPN, client certificates). Immutable once built.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "net/tls_server_options.h"

namespace aigw::net {

// The certificate a context serves, for stats, logs and reload messages.
struct CertificateInfo {
  std::string subject;    // RFC 2253, e.g. "CN=api.example.com,O=Example"
  std::string serial;     // upper-case hex, e.g. "03A1F2"
  std::string not_after;  // ISO 8601 UTC, e.g. "2026-03-01T12:00:00Z"
  bool expired = false;
};

// Why a context could not be built: `field` is the `server.tls` key to blame ("cert", "key",
// "ca", "ciphers", "alpn"), `message` says what is wrong with which file.
struct TlsLoadError {
  std::string field;
  std::string message;
};

// Shared by every worker thread (SSL_new on it is thread-safe; nothing in it changes), so a
// session ticket issued by one worker resumes on any other. A reload builds a new one.
class TlsServerContext {
 public:
  // Reads and checks every file now: a missing or unreadable file, a key that is encrypted or
  // does not match the certificate, an unknown cipher or a CA file without a certificate is
  // reported here rather than at the first handshake. Null with `error` set on failure.
  static std::shared_ptr<const TlsServerContext> create(const TlsServerOptions& opts, TlsLoadError* error);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool verifiesClients() const { return verify_clients_; }
  const CertificateInfo& certificate() const { return info_; }

 private:
  TlsServerContext() = default;
  static int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                        unsigned inlen, void* arg);

  SSL_CTX* ctx_ = nullptr;
  bool verify_clients_ = false;
  std::string alpn_wire_;  // our protocols in wire format; selectAlpn points into it
  CertificateInfo info_;
};

using TlsServerContextPtr = std::shared_ptr<const TlsServerContext>;

}  // namespace aigw::net
