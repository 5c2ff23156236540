#include "net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>

namespace aigw::net {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

std::string normalizeHost(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // "example.com." is the same name, but SNI must not carry the dot (RFC 6066 section 3) and
  // certificates never do.
  if (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

bool isIpLiteral(const std::string& host, bool* v6) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsClientContext> ctx, std::string host, int port)
    : ctx_(std::move(ctx)), host_(normalizeHost(std::move(host))), port_(port) {
  bool v6 = false;
  const bool ip = isIpLiteral(host_, &v6);
  key_ = (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
  if (ctx_ == nullptr) {
    fail("TLS: no context (host " + host_ + ")");
    return;
  }
  if (host_.empty()) {
    fail("TLS: empty host name");
    return;
  }
  verify_peer_ = ctx_->verify();
  if (!attach(ctx_->native())) return;
  SSL_set_connect_state(ssl_);
  SSL_set_ex_data(ssl_, TlsClientContext::sessionKeyIndex(), &key_);

  bool ok = true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (ip) {
    // No SNI for addresses (RFC 6066 forbids it); check the certificate's IP SANs instead.
    if (verify_peer_) ok = X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str()) == 1;
  } else {
    ok = SSL_set_tlsext_host_name(ssl_, host_.c_str()) == 1;
    if (ok && verify_peer_) {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl_, host_.c_str()) == 1;
    }
  }
  if (!ok) fail("TLS: invalid host name '" + host_ + "': " + drainOpenSslErrors());
}

TlsSession::TlsSession(std::shared_ptr<const TlsServerContext> ctx) : server_ctx_(std::move(ctx)), port_(0) {
  if (server_ctx_ == nullptr) {
    fail("TLS: no server context");
    return;
  }
  verify_peer_ = server_ctx_->verifiesClients();
  if (!attach(server_ctx_->native())) return;
  SSL_set_accept_state(ssl_);
}

bool TlsSession::attach(SSL_CTX* ctx) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || rbio_ == nullptr || wbio_ == nullptr) {
    BIO_free(rbio_);
    BIO_free(wbio_);
    rbio_ = wbio_ = nullptr;
    fail("TLS: cannot create connection state: " + drainOpenSslErrors());
    return false;
  }
  // An empty input BIO means "more bytes later" (retry), not end of stream.
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  return true;
}

TlsSession::~TlsSession() {
  if (ssl_ == nullptr) return;
  // SSL_free marks the session "not resumable" unless a close_notify went out. Upstreams (and
  // our pool) routinely drop idle connections without one, and that would silently poison the
  // cached tickets; since TLS 1.1 an unclean close need not forbid resumption. Fatal errors
  // still invalidate the session: OpenSSL does that when the alert is sent or received.
  if (handshake_done_ && !failed_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl_);
}

TlsSession::Result TlsSession::start() {
  if (failed_) return Result::Error;
  if (started_) return Result::Ok;
  started_ = true;
  if (ctx_ == nullptr) return advance(nullptr);  // server side: waits for the ClientHello
  if (SSL_SESSION* cached = ctx_->takeSession(key_)) {
    const int rc = SSL_set_session(ssl_, cached);
    SSL_SESSION_free(cached);  // SSL_set_session took its own reference
    if (rc != 1) ERR_clear_error();  // not fatal: a full handshake follows
  }
  return advance(nullptr);
}

TlsSession::Result TlsSession::feedEncrypted(const char* data, size_t len, std::string* plaintext) {
  if (failed_) return Result::Error;
  if (!started_) return fail("TLS: data received before start()" + where());
  while (len > 0) {
    size_t written = 0;
    if (BIO_write_ex(rbio_, data, std::min<size_t>(len, INT_MAX), &written) != 1 || written == 0) {
      return fail("TLS: cannot buffer input: " + drainOpenSslErrors());
    }
    data += written;
    len -= written;
  }
  return advance(plaintext);
}

TlsSession::Result TlsSession::feedEncrypted(const char* data, size_t len, std::string_view* plaintext) {
  thread_local std::string t_plaintext;
  t_plaintext.clear();
  const Result r = feedEncrypted(data, len, &t_plaintext);
  *plaintext = t_plaintext;
  return r;
}

TlsSession::Result TlsSession::writePlain(std::string_view data) {
  if (failed_) return Result::Error;
  if (shutdown_requested_) return fail("TLS: write after shutdown" + where());
  if (!handshake_done_ || pending_off_ < pending_plain_.size()) {
    pending_plain_.append(data);
    return handshake_done_ ? flushPlain() : Result::Ok;
  }
  // Common case: encrypt straight from the caller's buffer, keep only what OpenSSL deferred.
  size_t done = 0;
  if (encrypt(data, &done) != Result::Ok) return Result::Error;
  pending_plain_.append(data.substr(done));
  return Result::Ok;
}

TlsSession::Result TlsSession::encrypt(std::string_view data, size_t* done) {
  while (*done < data.size()) {
    ERR_clear_error();
    size_t n = 0;
    const int rc = SSL_write_ex(ssl_, data.data() + *done, data.size() - *done, &n);
    if (rc == 1) {
      *done += n;
      continue;
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::Ok;  // retried on next feed
    return fail(err, "write");
  }
  return Result::Ok;
}

TlsSession::Result TlsSession::advance(std::string* plaintext) {
  if (!handshake_done_) {
    ERR_clear_error();  // the queue is per thread: stale entries would confuse SSL_get_error
    const int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::Ok;
      return fail(err, "handshake");
    }
    handshake_done_ = true;
  }
  if (flushPlain() != Result::Ok) return Result::Error;
  // Read even without a caller buffer: TLS 1.3 tickets and KeyUpdates arrive as records too.
  std::string discard;
  std::string* out = plaintext != nullptr ? plaintext : &discard;
  char buf[kReadChunk];
  for (;;) {
    ERR_clear_error();
    size_t n = 0;
    const int rc = SSL_read_ex(ssl_, buf, sizeof(buf), &n);
    if (rc == 1) {
      out->append(buf, n);
      continue;
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::Ok;
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return Result::Ok;
    }
    return fail(err, "read");
  }
}

TlsSession::Result TlsSession::flushPlain() {
  if (encrypt(pending_plain_, &pending_off_) != Result::Ok) return Result::Error;
  if (pending_off_ < pending_plain_.size()) return Result::Ok;
  pending_plain_.clear();
  pending_off_ = 0;
  if (shutdown_requested_ && !shutdown_sent_) sendCloseNotify();
  return Result::Ok;
}

void TlsSession::takeEncrypted(std::string* out) {
  const size_t n = encryptedPending();
  if (n == 0) return;
  const size_t old = out->size();
  out->resize(old + n);
  size_t got = 0;
  if (BIO_read_ex(wbio_, out->data() + old, n, &got) != 1) got = 0;
  out->resize(old + got);
}

bool TlsSession::hasEncrypted() const { return encryptedPending() > 0; }

size_t TlsSession::encryptedPending() const { return wbio_ != nullptr ? BIO_ctrl_pending(wbio_) : 0; }

bool TlsSession::sessionReused() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

std::string_view TlsSession::protocolVersion() const {
  return ssl_ != nullptr && handshake_done_ ? std::string_view(SSL_get_version(ssl_)) : std::string_view();
}

std::string_view TlsSession::alpnProtocol() const {
  if (ssl_ == nullptr) return {};
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &proto, &len);
  return proto == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(proto), len);
}

void TlsSession::shutdown() {
  if (failed_ || shutdown_requested_) return;
  shutdown_requested_ = true;
  if (handshake_done_) flushPlain();  // sends close_notify once the buffered data is out
}

void TlsSession::sendCloseNotify() {
  shutdown_sent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // 0: close_notify queued, peer's not yet seen; 1: both done
  ERR_clear_error();
}

std::string TlsSession::where() const { return host_.empty() ? std::string() : " (host " + host_ + ")"; }

TlsSession::Result TlsSession::fail(int ssl_error, const char* during) {
  const std::string where = this->where();
  const long verify = SSL_get_verify_result(ssl_);
  if (!handshake_done_ && verify_peer_ && verify != X509_V_OK) {
    ERR_clear_error();  // "certificate verify failed" alone says less than the verify result
    const char* whose = server_ctx_ != nullptr ? "client certificate verify failed: " : "certificate verify failed: ";
    return fail(std::string(whose) + X509_verify_cert_error_string(verify) + where);
  }
  const unsigned long first = ERR_peek_error();
  if (server_ctx_ != nullptr && !handshake_done_ && ERR_GET_LIB(first) == ERR_LIB_SSL) {
    const int reason = ERR_GET_REASON(first);
    plain_http_ = reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
  }
  std::string reasons;
  if (ERR_peek_error() != 0) {
    reasons = drainOpenSslErrors();
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    reasons = "unexpected end of stream";
  } else {
    reasons = "SSL error " + std::to_string(ssl_error);
  }
  return fail(std::string("TLS ") + during + " failed: " + reasons + where);
}

TlsSession::Result TlsSession::fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  return Result::Error;
}

}  // namespace aigw::net
