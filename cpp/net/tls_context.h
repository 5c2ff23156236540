// Client-side TLS configuration for one upstream provider: trust store, verification policy,
// ALPN, and a small session-resumption cache shared by every worker thread.
#pragma once

#include <openssl/ssl.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace aigw::net {

struct TlsClientOptions {
  // false only when a provider explicitly says `verify: false`; then neither the chain nor the
  // host name is checked.
  bool verify = true;
  // Optional PEM bundle trusted IN ADDITION to the system store.
  std::string ca_file;
  // Single ALPN protocol to offer; empty offers none.
  std::string alpn = "http/1.1";
};

// One per provider; shared by all worker threads. Everything but the session cache is immutable
// after create(), so SSL_new on it from many threads is safe; the cache takes a mutex.
class TlsClientContext {
 public:
  // Null with `error` set when the CA file cannot be loaded or OpenSSL refuses the settings.
  static std::shared_ptr<TlsClientContext> create(const TlsClientOptions& opts, std::string* error);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool verify() const { return verify_; }

  // Session resumption cache keyed by "host:port". saveSession takes its own reference (the
  // caller keeps its own); takeSession returns a new reference the caller must SSL_SESSION_free,
  // or null. TLS 1.3 tickets are handed out once (RFC 8446 C.4: avoid ticket reuse, which links
  // connections); TLS 1.2 sessions stay cached and can be resumed repeatedly.
  void saveSession(const std::string& key, SSL_SESSION* s);
  SSL_SESSION* takeSession(const std::string& key);
  size_t cachedSessions(const std::string& key) const;  // for tests and stats

  // The SSL ex_data slot a TlsSession stores its cache key in (a const std::string*), read by the
  // new-session callback to know where a ticket that arrives after the handshake belongs.
  static int sessionKeyIndex();

  static constexpr size_t kMaxSessionsPerKey = 4;

 private:
  TlsClientContext() = default;
  static int onNewSession(SSL* ssl, SSL_SESSION* s);

  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<SSL_SESSION*>> sessions_;  // newest at the back
};

using TlsClientContextPtr = std::shared_ptr<TlsClientContext>;

// Empties this thread's OpenSSL error queue into one line ("reason (detail); reason ...").
std::string drainOpenSslErrors();

}  // namespace aigw::net
