// Test-side TLS fixtures built with plain OpenSSL: a throwaway PKI generated at run time, an
// in-memory server to pump bytes against, and a blocking loopback server on a real socket.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_session.h"

namespace aigw::testing::tls {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct SslCtxFree { void operator()(SSL_CTX* p) const { SSL_CTX_free(p); } };
struct SslFree { void operator()(SSL* p) const { SSL_free(p); } };
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

inline PkeyPtr makeKey() { return PkeyPtr(EVP_EC_gen("P-256")); }

inline void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) std::abort();
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Self-signed when issuer is null. `san` is OpenSSL syntax: "DNS:localhost,IP:127.0.0.1".
// `eku` is the extended key usage of a leaf ("clientAuth" for a client certificate).
inline X509Ptr makeCert(EVP_PKEY* key, const std::string& cn, const std::string& san, bool is_ca,
                        X509* issuer = nullptr, EVP_PKEY* issuer_key = nullptr, const char* eku = "serverAuth") {
  static std::atomic<long> serial{1000};
  X509Ptr cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("aigw tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : x;
  addExt(x, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExt(x, signer, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  addExt(x, signer, NID_subject_key_identifier, "hash");
  addExt(x, signer, NID_authority_key_identifier, "keyid:always");
  if (!is_ca) addExt(x, signer, NID_ext_key_usage, eku);
  if (!san.empty()) addExt(x, signer, NID_subject_alt_name, san);
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) std::abort();
  return cert;
}

// One throwaway PKI per test binary (P-256 keys: fast even under ASan).
struct Pki {
  PkeyPtr ca_key, leaf_key, wrong_key, self_key, other_ca_key;
  X509Ptr ca, leaf, wrong, self, other_ca;
  Pki() {
    ca_key = makeKey();
    ca = makeCert(ca_key.get(), "aigw test CA", "", true);
    leaf_key = makeKey();
    leaf = makeCert(leaf_key.get(), "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", false, ca.get(), ca_key.get());
    wrong_key = makeKey();
    wrong = makeCert(wrong_key.get(), "other.example", "DNS:other.example", false, ca.get(), ca_key.get());
    self_key = makeKey();
    self = makeCert(self_key.get(), "localhost", "DNS:localhost,IP:127.0.0.1", false);
    other_ca_key = makeKey();
    other_ca = makeCert(other_ca_key.get(), "aigw other CA", "", true);
  }
  static const Pki& get() {
    static const Pki pki;
    return pki;
  }
};

// A temp directory removed (with its files) at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/aigw-tls-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string writePem(const std::string& name, std::initializer_list<X509*> certs) {
    std::string file = path_ + "/" + name;
    files_.push_back(file);
    FILE* fp = std::fopen(file.c_str(), "w");
    for (X509* c : certs) PEM_write_X509(fp, c);
    std::fclose(fp);
    return file;
  }
  std::string writeText(const std::string& name, const std::string& text) {
    std::string file = path_ + "/" + name;
    files_.push_back(file);
    FILE* fp = std::fopen(file.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), fp);
    std::fclose(fp);
    return file;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// Acknowledging SNI matters: for a resumed TLS 1.2 session, SSL_get_servername on the server
// returns the name only if it was accepted by such a callback in the original handshake.
inline int acceptServername(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

inline int selectHttp11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                        unsigned inlen, void*) {
  static const unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof(kHttp11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

struct ServerOptions {
  X509* cert = nullptr;       // default: the CA-signed localhost leaf
  EVP_PKEY* key = nullptr;
  X509* chain = nullptr;      // extra certificate sent after the leaf (e.g. the CA)
  int max_version = 0;        // e.g. TLS1_2_VERSION
  bool tickets = true;        // false: TLS 1.2 resumes by session id instead
};

inline SslCtxPtr makeServerCtx(const ServerOptions& o = {}) {
  const Pki& pki = Pki::get();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), o.cert != nullptr ? o.cert : pki.leaf.get());
  SSL_CTX_use_PrivateKey(ctx.get(), o.key != nullptr ? o.key : pki.leaf_key.get());
  if (SSL_CTX_check_private_key(ctx.get()) != 1) std::abort();
  if (o.chain != nullptr) SSL_CTX_add1_chain_cert(ctx.get(), o.chain);
  if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), o.max_version);
  if (!o.tickets) SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  static const unsigned char kSid[] = "aigw-test";
  SSL_CTX_set_session_id_context(ctx.get(), kSid, sizeof(kSid) - 1);
  SSL_CTX_set_alpn_select_cb(ctx.get(), &selectHttp11, nullptr);
  SSL_CTX_set_tlsext_servername_callback(ctx.get(), &acceptServername);
  return ctx;
}

// One end of a TLS connection over memory BIOs, driven by hand in the test's thread: feed()
// what the other end sent, pump(), take() what this end sends.
class MemPeer {
 public:
  MemPeer(const MemPeer&) = delete;
  MemPeer& operator=(const MemPeer&) = delete;
  SSL* ssl() const { return ssl_.get(); }
  void feed(const char* data, size_t len) {
    size_t n = 0;
    if (len > 0) BIO_write_ex(rbio_, data, len, &n);
  }
  std::string take() {
    std::string out(BIO_ctrl_pending(wbio_), '\0');
    size_t n = 0;
    if (!out.empty()) BIO_read_ex(wbio_, out.data(), out.size(), &n);
    out.resize(n);
    return out;
  }
  // Advances the handshake, sends what write() queued, then reads everything available into
  // `received`.
  void pump() {
    if (failed) return;
    ERR_clear_error();
    if (!handshake_done) {
      const int rc = SSL_do_handshake(ssl_.get());
      if (rc != 1) {
        onError(rc);
        return;
      }
      handshake_done = true;
    }
    if (!pending_.empty()) {
      sendNow(pending_);
      pending_.clear();
    }
    char buf[16384];
    for (;;) {
      size_t n = 0;
      const int rc = SSL_read_ex(ssl_.get(), buf, sizeof(buf), &n);
      if (rc != 1) {
        onError(rc);
        return;
      }
      received.append(buf, n);
    }
  }

  bool handshake_done = false;
  bool peer_closed = false;
  bool failed = false;
  std::string error;
  std::string received;

 protected:
  // Takes `ssl` (which holds its SSL_CTX alive) in the server or the client role.
  MemPeer(SSL* ssl, bool server) : ssl_(ssl) {
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_.get(), rbio_, wbio_);
    if (server) {
      SSL_set_accept_state(ssl_.get());
    } else {
      SSL_set_connect_state(ssl_.get());
    }
  }
  ~MemPeer() = default;
  void sendNow(const std::string& data) {
    size_t n = 0;
    if (SSL_write_ex(ssl_.get(), data.data(), data.size(), &n) != 1 || n != data.size()) failed = true;
  }

  SslPtr ssl_;
  std::string pending_;  // written once the handshake is done

 private:
  void onError(int rc) {
    const int err = SSL_get_error(ssl_.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed = true;
      return;
    }
    failed = true;
    error = aigw::net::drainOpenSslErrors();
  }
  BIO* rbio_;
  BIO* wbio_;
};

// Server end of a connection over memory BIOs.
class MemServer : public MemPeer {
 public:
  explicit MemServer(SSL_CTX* ctx) : MemPeer(SSL_new(ctx), /*server=*/true) {}
  // Like most servers, forgets nothing when a client vanishes without close_notify (OpenSSL's
  // SSL_free would otherwise drop the session from the server cache).
  ~MemServer() {
    if (handshake_done && !failed) SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  void write(const std::string& data) { sendNow(data); }
  std::string servername() const {
    const char* sni = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
    return sni != nullptr ? sni : "<none>";
  }
};

// Cuts a stream of `remaining` bytes: returns the size of the next piece (>= 1).
using Chunker = std::function<size_t(size_t remaining)>;

// Moves bytes both ways until neither side has anything left to send, cutting each direction
// with `chunk`. Decrypted data for the client goes to `client_plain`. Returns false once the
// client reported Error (its last bytes, e.g. an alert, still reach the server).
inline bool pump(aigw::net::TlsSession& client, MemServer& server, std::string* client_plain,
                 const Chunker& chunk = nullptr) {
  bool client_ok = true;
  for (int round = 0; round < 100000; ++round) {
    std::string to_server;
    client.takeEncrypted(&to_server);
    for (size_t off = 0; off < to_server.size();) {
      size_t n = chunk ? std::min(chunk(to_server.size() - off), to_server.size() - off) : to_server.size();
      server.feed(to_server.data() + off, n);
      server.pump();
      off += n;
    }
    server.pump();
    std::string to_client = server.take();
    for (size_t off = 0; client_ok && off < to_client.size();) {
      size_t n = chunk ? std::min(chunk(to_client.size() - off), to_client.size() - off) : to_client.size();
      client_ok = client.feedEncrypted(to_client.data() + off, n, client_plain) == aigw::net::TlsSession::Result::Ok;
      off += n;
    }
    if (to_server.empty() && to_client.empty() && !client.hasEncrypted()) return client_ok;
  }
  return false;
}

// Blocking TLS echo server on 127.0.0.1 (port 0) in its own thread, for one connection: echoes
// every byte it reads, then answers the client's close_notify with its own.
class LoopbackEchoServer {
 public:
  explicit LoopbackEchoServer(SSL_CTX* ctx) : ctx_(ctx) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackEchoServer() {
    join();
    ::close(listen_fd_);
  }
  void join() {
    if (!thread_.joinable()) return;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() if no client ever came
    thread_.join();
  }
  int port() const { return port_; }
  // Read these only after join().
  std::string sni;
  size_t echoed = 0;
  bool clean_close = false;

 private:
  void serve() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SslPtr ssl(SSL_new(ctx_));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) {
      const char* name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
      sni = name != nullptr ? name : "<none>";
      char buf[16384];
      for (;;) {
        size_t n = 0;
        if (SSL_read_ex(ssl.get(), buf, sizeof(buf), &n) != 1) {
          clean_close = SSL_get_error(ssl.get(), 0) == SSL_ERROR_ZERO_RETURN;
          break;
        }
        size_t w = 0;
        if (SSL_write_ex(ssl.get(), buf, n, &w) != 1) break;
        echoed += n;
      }
      if (clean_close) SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    ::close(fd);
  }
  SSL_CTX* ctx_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// A client and an in-memory server that went through start() and one full pump.
struct Connection {
  std::unique_ptr<aigw::net::TlsSession> client;
  std::unique_ptr<MemServer> server;
  bool ok = false;  // the client saw no Error
  std::string plain;
};

inline Connection handshake(const std::shared_ptr<aigw::net::TlsClientContext>& ctx, SSL_CTX* server_ctx,
                            const std::string& host = "localhost", int port = 443) {
  Connection c;
  c.client = std::make_unique<aigw::net::TlsSession>(ctx, host, port);
  c.server = std::make_unique<MemServer>(server_ctx);
  c.ok = c.client->start() == aigw::net::TlsSession::Result::Ok && pump(*c.client, *c.server, &c.plain);
  return c;
}

}  // namespace aigw::testing::tls
