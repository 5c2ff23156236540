#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <ctime>

namespace aigw::net {
namespace {

// Bounds the cache even if a provider is (mis)configured with many hosts.
constexpr size_t kMaxKeys = 256;

bool expired(const SSL_SESSION* s) {
  return std::time(nullptr) >= SSL_SESSION_get_time(s) + SSL_SESSION_get_timeout(s);
}

}  // namespace

std::string drainOpenSslErrors() {
  std::string out;
  unsigned long e;
  const char* data = nullptr;
  int flags = 0;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(e);
    if (reason != nullptr) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof(buf));
      out += buf;
    }
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

int TlsClientContext::sessionKeyIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::shared_ptr<TlsClientContext> TlsClientContext::create(const TlsClientOptions& opts, std::string* error) {
  ERR_clear_error();
  std::shared_ptr<TlsClientContext> self(new TlsClientContext());
  if (sessionKeyIndex() < 0) {
    *error = "TLS: cannot allocate SSL ex_data index: " + drainOpenSslErrors();
    return nullptr;
  }
  self->verify_ = opts.verify;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "TLS: cannot create context: " + drainOpenSslErrors();
    return nullptr;
  }
  self->ctx_ = ctx;
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    *error = "TLS: cannot set minimum version: " + drainOpenSslErrors();
    return nullptr;
  }
  // Renegotiation is a source of CVEs and nothing an HTTP/1.1 API client needs; compression
  // (CRIME) is already off by default but say so anyway.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Memory BIOs never block, but partial writes + moving buffers make a WANT_WRITE retry safe if
  // that ever changes. RELEASE_BUFFERS keeps idle pooled connections small.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);

  // The system store (honours SSL_CERT_FILE / SSL_CERT_DIR) is loaded even when verify is off so
  // that flipping the flag is the only difference between the two modes.
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    *error = "TLS: cannot load the system CA store: " + drainOpenSslErrors();
    return nullptr;
  }
  if (!opts.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, opts.ca_file.c_str(), nullptr) != 1) {
      *error = "TLS: cannot load CA file '" + opts.ca_file + "': " + drainOpenSslErrors();
      return nullptr;
    }
  }
  SSL_CTX_set_verify(ctx, opts.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);

  if (!opts.alpn.empty()) {
    if (opts.alpn.size() > 255) {
      *error = "TLS: ALPN protocol name longer than 255 bytes";
      return nullptr;
    }
    std::string wire(1, static_cast<char>(opts.alpn.size()));
    wire += opts.alpn;
    // Beware: unlike most of OpenSSL, this one returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      *error = "TLS: cannot set ALPN: " + drainOpenSslErrors();
      return nullptr;
    }
  }

  // Client-side caching only through our callback: OpenSSL has no client-side internal store
  // anyway, and TLS 1.3 tickets arrive after the handshake, which only a callback sees.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_app_data(ctx, self.get());
  SSL_CTX_sess_set_new_cb(ctx, &TlsClientContext::onNewSession);
  return self;
}

TlsClientContext::~TlsClientContext() {
  for (auto& [key, list] : sessions_) {
    for (SSL_SESSION* s : list) SSL_SESSION_free(s);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

int TlsClientContext::onNewSession(SSL* ssl, SSL_SESSION* s) {
  auto* self = static_cast<TlsClientContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, sessionKeyIndex()));
  if (self != nullptr && key != nullptr) self->saveSession(*key, s);
  return 0;  // we took our own reference; OpenSSL keeps (and later drops) its own
}

void TlsClientContext::saveSession(const std::string& key, SSL_SESSION* s) {
  if (s == nullptr || SSL_SESSION_is_resumable(s) != 1) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    if (sessions_.size() >= kMaxKeys) {
      for (SSL_SESSION* old : sessions_.begin()->second) SSL_SESSION_free(old);
      sessions_.erase(sessions_.begin());
    }
    it = sessions_.emplace(key, std::deque<SSL_SESSION*>()).first;
  }
  auto& list = it->second;
  for (SSL_SESSION* have : list) {
    if (have == s) return;
  }
  if (SSL_SESSION_up_ref(s) != 1) return;
  list.push_back(s);
  while (list.size() > kMaxSessionsPerKey) {
    SSL_SESSION_free(list.front());
    list.pop_front();
  }
}

SSL_SESSION* TlsClientContext::takeSession(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  auto& list = it->second;
  SSL_SESSION* found = nullptr;
  while (!list.empty() && found == nullptr) {
    SSL_SESSION* s = list.back();
    // A fatal alert on a connection that used a TLS 1.2 session marks it not resumable.
    if (expired(s) || SSL_SESSION_is_resumable(s) != 1) {
      list.pop_back();
      SSL_SESSION_free(s);
      continue;
    }
    if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION) {
      list.pop_back();  // hand over the cache's reference: single use
      found = s;
    } else if (SSL_SESSION_up_ref(s) == 1) {
      found = s;
    } else {
      break;
    }
  }
  if (list.empty()) sessions_.erase(it);
  return found;
}

size_t TlsClientContext::cachedSessions(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  return it == sessions_.end() ? 0 : it->second.size();
}

}  // namespace aigw::net
