// One TLS connection, client or server side, as a pure state machine over memory BIOs: the
// connection code feeds it bytes read from the socket and sends whatever it produces. No
// sockets, no loop.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "net/tls_context.h"
#include "net/tls_server_context.h"

namespace aigw::net {

// Lifetime and driving rules:
//  - call start() once, then after EVERY call (start, feedEncrypted, writePlain, shutdown) send
//    takeEncrypted() to the socket: reads can produce output too (alerts, KeyUpdate replies).
//  - after Error, send what takeEncrypted() still holds (usually the alert that tells the server
//    why) and close the socket; every later call returns Error again.
//  - a socket EOF without peerClosed() is a truncation: treat the response as incomplete unless
//    HTTP framing says otherwise.
// Not thread-safe: one connection lives on one loop thread.
class TlsSession {
 public:
  // `host` is a DNS name (gets SNI and a host-name check) or an IP literal, "[v6]" allowed (gets
  // an IP-address check and no SNI). Resumes a cached session for "host:port" if there is one.
  TlsSession(std::shared_ptr<TlsClientContext> ctx, std::string host, int port);
  // The server side of an accepted connection: start() produces nothing (the client speaks
  // first); the handshake advances as its bytes are fed. Keeps `ctx` alive, so a reload that
  // swaps in a new certificate leaves this connection on the one it began with.
  explicit TlsSession(std::shared_ptr<const TlsServerContext> ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Result { Ok, Error };

  // Begins the handshake: the ClientHello goes to the encrypted output.
  Result start();
  // Bytes from the socket, split anywhere. Advances the handshake, flushes writes buffered until
  // it completed, and appends any decrypted application data to `plaintext`.
  Result feedEncrypted(const char* data, size_t len, std::string* plaintext);
  // The same, decrypting into this thread's reused buffer: `plaintext` is valid until the next
  // call on the thread (reads do not nest), so a read allocates nothing once warm.
  Result feedEncrypted(const char* data, size_t len, std::string_view* plaintext);
  // Application data; buffered until the handshake completes, then encrypted into records.
  Result writePlain(std::string_view data);
  // Appends every pending encrypted byte to `out`.
  void takeEncrypted(std::string* out);
  bool hasEncrypted() const;
  size_t encryptedPending() const;  // bytes takeEncrypted would append: for write backpressure

  bool handshakeDone() const { return handshake_done_; }
  bool sessionReused() const;
  bool peerClosed() const { return peer_closed_; }  // close_notify received
  std::string_view alpnProtocol() const;            // negotiated ALPN protocol, empty if none
  std::string_view protocolVersion() const;         // "TLSv1.3", "TLSv1.2" once negotiated
  // Server side: the handshake failed because the client spoke plain HTTP to the TLS port
  // (OpenSSL recognises "GET ", "POST ", "HEAD ", "PUT " and "CONNECT" in the first record).
  bool plainHttpRequest() const { return plain_http_; }
  // Queues close_notify (after any buffered application data; after the handshake if it is
  // still running). Incoming data is still decrypted until the peer answers.
  void shutdown();
  // What went wrong, e.g. "certificate verify failed: self-signed certificate in certificate
  // chain (host api.example.com)". Host, port and OpenSSL reasons only: never secrets. The
  // server side names no host.
  const std::string& error() const { return error_; }
  const std::string& host() const { return host_; }
  const std::string& cacheKey() const { return key_; }

 private:
  bool attach(SSL_CTX* ctx);  // the SSL object and its two memory BIOs
  Result advance(std::string* plaintext);  // handshake, then flush writes, then read
  Result flushPlain();
  Result encrypt(std::string_view data, size_t* done);  // advances *done past what OpenSSL took
  Result fail(int ssl_ret, const char* during);
  Result fail(std::string message);
  std::string where() const;  // " (host api.example.com)" on the client side
  void sendCloseNotify();

  std::shared_ptr<TlsClientContext> ctx_;               // client side
  std::shared_ptr<const TlsServerContext> server_ctx_;  // server side
  bool verify_peer_ = false;  // the peer's certificate is checked (always for clients with verify)
  std::string host_;  // without brackets or a trailing dot; empty on the server side
  int port_;
  std::string key_;  // "host:port", the session cache key (SSL ex_data points here)
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // socket -> OpenSSL (owned by ssl_)
  BIO* wbio_ = nullptr;  // OpenSSL -> socket (owned by ssl_)
  std::string pending_plain_;
  size_t pending_off_ = 0;
  bool started_ = false;
  bool handshake_done_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_sent_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;
  bool plain_http_ = false;
  std::string error_;
};

using TlsSessionPtr = std::unique_ptr<TlsSession>;

}  // namespace aigw::net
