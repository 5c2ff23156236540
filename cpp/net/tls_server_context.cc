#include "net/tls_server_context.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "net/tls_context.h"

namespace aigw::net {
namespace {

// Larger than any sane PEM bundle; bounds what a path to /dev/zero would read.
constexpr size_t kMaxPemBytes = 16 * 1024 * 1024;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's default would prompt for a passphrase on the terminal, from a worker thread.
int noPassphrase(char*, int, int, void*) { return 0; }

bool readFile(const std::string& path, std::string* out, std::string* why) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *why = std::strerror(errno);
    return false;
  }
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->append(buf, n);
    if (out->size() > kMaxPemBytes) break;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    *why = std::strerror(err);
    return false;
  }
  if (out->size() > kMaxPemBytes) {
    *why = "larger than 16 MiB: not a PEM file";
    return false;
  }
  return true;
}

BioPtr memBio(const std::string& text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

// After reading PEM blocks until none is left, the queue ends with "no start line": that is
// the normal end of the file, anything else is a malformed block.
bool onlyEndOfPem() {
  const unsigned long e = ERR_peek_last_error();
  if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    ERR_clear_error();
    return true;
  }
  return false;
}

bool fail(TlsLoadError* error, const char* field, std::string message) {
  error->field = field;
  error->message = std::move(message);
  ERR_clear_error();
  return false;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

CertificateInfo describe(X509* x) {
  CertificateInfo info;
  if (BioPtr bio{BIO_new(BIO_s_mem())}) {
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len > 0) info.subject.assign(data, static_cast<size_t>(len));
  }
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      info.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    info.not_after = buf;
  }
  info.expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
  ERR_clear_error();
  return info;
}

// The leaf first, then any intermediates, like SSL_CTX_use_certificate_chain_file, but from
// the bytes already read (so the error can say whether the file or its content is at fault).
bool loadChain(SSL_CTX* ctx, const std::string& path, X509** leaf_out, TlsLoadError* error) {
  std::string text, why;
  if (!readFile(path, &text, &why)) return fail(error, "cert", "cannot read " + quoted(path) + ": " + why);
  BioPtr bio = memBio(text);
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, noPassphrase, nullptr));
  if (!leaf) {
    return fail(error, "cert", "no PEM certificate in " + quoted(path) + ": " + drainOpenSslErrors());
  }
  // Refuses what the security level forbids (e.g. RSA keys under 2048 bits, SHA-1 signatures).
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return fail(error, "cert", "the certificate in " + quoted(path) + " is refused: " + drainOpenSslErrors());
  }
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
      X509_free(x);
      return fail(error, "cert", "an intermediate certificate in " + quoted(path) +
                                     " is refused: " + drainOpenSslErrors());
    }
  }
  if (!onlyEndOfPem()) {
    return fail(error, "cert", "a malformed certificate in " + quoted(path) + ": " + drainOpenSslErrors());
  }
  *leaf_out = leaf.release();
  return true;
}

bool loadKey(SSL_CTX* ctx, X509* leaf, const TlsServerOptions& opts, TlsLoadError* error) {
  const std::string& path = opts.key_file;
  std::string text, why;
  if (!readFile(path, &text, &why)) return fail(error, "key", "cannot read " + quoted(path) + ": " + why);
  if (text.find("ENCRYPTED") != std::string::npos) {
    return fail(error, "key",
                quoted(path) + " is passphrase-protected; give the key unencrypted (openssl pkey -in KEY -out PLAIN)");
  }
  BioPtr bio = memBio(text);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
  if (!key) return fail(error, "key", "no PEM private key in " + quoted(path) + ": " + drainOpenSslErrors());
  if (X509_check_private_key(leaf, key.get()) != 1) {
    return fail(error, "key",
                "the private key in " + quoted(path) + " does not match the certificate in " + quoted(opts.cert_file));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    return fail(error, "key", "the private key in " + quoted(path) + " is refused: " + drainOpenSslErrors());
  }
  return true;
}

// Trust anchors for client certificates, and the CA names the server announces to clients so
// they pick the right certificate.
bool loadClientCas(SSL_CTX* ctx, const std::string& path, TlsLoadError* error) {
  std::string text, why;
  if (!readFile(path, &text, &why)) return fail(error, "ca", "cannot read " + quoted(path) + ": " + why);
  BioPtr bio = memBio(text);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  int count = 0;
  while (X509Ptr x{PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr)}) {
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(x.get()));
    if (X509_STORE_add_cert(store, x.get()) != 1 || name == nullptr || sk_X509_NAME_push(names, name) == 0) {
      X509_NAME_free(name);
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return fail(error, "ca", "cannot use a certificate of " + quoted(path) + ": " + drainOpenSslErrors());
    }
    ++count;
  }
  if (!onlyEndOfPem() || count == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    const std::string reasons = ERR_peek_error() != 0 ? ": " + drainOpenSslErrors() : "";
    return fail(error, "ca", "no PEM certificate in " + quoted(path) + reasons);
  }
  SSL_CTX_set_client_CA_list(ctx, names);
  return true;
}

// OpenSSL skips the names of a cipher list it does not know; a typo would silently leave a
// different list than the one asked for, so each name must mean something on its own.
bool setCiphers(SSL_CTX* ctx, const std::string& asked, TlsLoadError* error) {
  const std::string list = asked.empty() ? std::string(kDefaultTls12Ciphers) : asked;
  if (!asked.empty()) {
    SSL_CTX* scratch = SSL_CTX_new(TLS_server_method());
    size_t start = 0;
    while (scratch != nullptr && start <= list.size()) {
      size_t end = list.find_first_of(":, ", start);
      if (end == std::string::npos) end = list.size();
      const std::string token = list.substr(start, end - start);
      start = end + 1;
      if (token.empty() || std::strchr("!-+@", token[0]) != nullptr) continue;
      if (SSL_CTX_set_cipher_list(scratch, token.c_str()) != 1) {
        SSL_CTX_free(scratch);
        return fail(error, "ciphers", "unknown cipher '" + token + "' (OpenSSL cipher list syntax expected)");
      }
    }
    SSL_CTX_free(scratch);
  }
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) {
    return fail(error, "ciphers", "no usable TLS 1.2 cipher in '" + list + "': " + drainOpenSslErrors());
  }
  return true;
}

}  // namespace

std::shared_ptr<const TlsServerContext> TlsServerContext::create(const TlsServerOptions& opts, TlsLoadError* error) {
  ERR_clear_error();
  std::shared_ptr<TlsServerContext> self(new TlsServerContext());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    fail(error, "cert", "cannot create a TLS context: " + drainOpenSslErrors());
    return nullptr;
  }
  self->ctx_ = ctx;
  const int floor = opts.min_version == TlsMinVersion::V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, floor) != 1) {
    fail(error, "min_version", "cannot set the minimum TLS version: " + drainOpenSslErrors());
    return nullptr;
  }
  // Client-initiated renegotiation is a CPU-exhaustion lever and nothing HTTP/1.1 needs.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // RELEASE_BUFFERS: an idle keep-alive connection keeps no 16 KB record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Resumption by tickets only: they are stateless, so no session cache (and its lock) is shared
  // by the workers, and a ticket from any worker resumes on any other (same SSL_CTX, same keys).
  // A reload makes new ticket keys, so resumption starts over with a new certificate.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static const unsigned char kSessionContext[] = "aigw";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_default_passwd_cb(ctx, noPassphrase);

  if (!setCiphers(ctx, opts.ciphers, error)) return nullptr;
  X509* leaf_raw = nullptr;
  if (!loadChain(ctx, opts.cert_file, &leaf_raw, error)) return nullptr;
  X509Ptr leaf(leaf_raw);
  if (!loadKey(ctx, leaf.get(), opts, error)) return nullptr;
  self->info_ = describe(leaf.get());

  if (opts.client_auth != TlsClientAuth::None) {
    if (opts.ca_file.empty()) {
      fail(error, "ca", "client_auth needs a ca file");
      return nullptr;
    }
    if (!loadClientCas(ctx, opts.ca_file, error)) return nullptr;
    int mode = SSL_VERIFY_PEER;
    if (opts.client_auth == TlsClientAuth::Require) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    self->verify_clients_ = true;
  }

  for (const std::string& proto : opts.alpn) {
    if (proto.empty() || proto.size() > 255) {
      fail(error, "alpn", "an ALPN protocol name must have 1 to 255 bytes");
      return nullptr;
    }
    self->alpn_wire_.push_back(static_cast<char>(proto.size()));
    self->alpn_wire_ += proto;
  }
  if (!self->alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, &TlsServerContext::selectAlpn, self.get());
  ERR_clear_error();
  return self;
}

TlsServerContext::~TlsServerContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

int TlsServerContext::selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                                 unsigned inlen, void* arg) {
  const auto* self = static_cast<const TlsServerContext*>(arg);
  unsigned char* selected = nullptr;
  // Our preference order. A client that offers only protocols we do not speak (h2 alone) is
  // refused with no_application_protocol (RFC 7301 section 3.2) instead of being accepted and
  // then sent HTTP/1.1 it cannot read; one that also offers http/1.1 gets it.
  const auto* ours = reinterpret_cast<const unsigned char*>(self->alpn_wire_.data());
  if (SSL_select_next_proto(&selected, outlen, ours, static_cast<unsigned>(self->alpn_wire_.size()), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace aigw::net
