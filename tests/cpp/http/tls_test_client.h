// A blocking HTTPS client for socket tests: RawClient's loopback socket with a client-side
// TlsSession in front, plus a gateway config that serves HTTPS with the test PKI's files.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gateway_fixture.h"
#include "net/tls_server_test_util.h"
#include "net/tls_session.h"

namespace aigw::testing {

// The `server` fields that turn on HTTPS with the files of `opts` (spliced into mockConfig).
inline std::string tlsFields(const net::TlsServerOptions& opts, const std::string& more = "") {
  std::string tls = R"("tls": {"cert": ")" + opts.cert_file + R"(", "key": ")" + opts.key_file + "\"";
  if (!more.empty()) tls += ", " + more;
  return tls + "}";
}

inline std::shared_ptr<net::TlsClientContext> trustingClientContext(tls::TempDir& dir) {
  net::TlsClientOptions o;
  o.ca_file = dir.writePem("client-trust.pem", {tls::Pki::get().ca.get()});
  std::string error;
  auto ctx = net::TlsClientContext::create(o, &error);
  if (ctx == nullptr) ADD_FAILURE() << error;
  return ctx;
}

class TlsTestClient {
 public:
  TlsTestClient(int port, std::shared_ptr<net::TlsClientContext> ctx, int rcvbuf = 0, int sndbuf = 0)
      : raw_(port, rcvbuf, sndbuf), tls_(std::move(ctx), "localhost", port) {}

  bool handshake(int timeout_ms = 3000) {
    if (tls_.start() != net::TlsSession::Result::Ok || !flush()) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!tls_.handshakeDone()) {
      const std::string in = raw_.readSome(leftMs(deadline));
      if (in.empty()) return false;
      const bool ok = tls_.feedEncrypted(in.data(), in.size(), &plain_) == net::TlsSession::Result::Ok;
      flush();
      if (!ok) return false;
    }
    return true;
  }
  bool send(const std::string& plain) {
    return tls_.writePlain(plain) == net::TlsSession::Result::Ok && flush();
  }
  bool flush() {
    std::string out;
    tls_.takeEncrypted(&out);
    return out.empty() || raw_.send(out);
  }
  // Decrypted bytes that arrive within `timeout_ms`: "" on timeout, close or a TLS error.
  std::string readSome(int timeout_ms = 3000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (plain_.empty() && !raw_.closed() && !tls_.peerClosed()) {
      const int left = leftMs(deadline);
      if (left <= 0) break;
      const std::string in = raw_.readSome(left);
      if (in.empty()) break;
      if (tls_.feedEncrypted(in.data(), in.size(), &plain_) != net::TlsSession::Result::Ok) break;
      flush();
    }
    std::string out;
    out.swap(plain_);
    return out;
  }
  // The server ended the connection with close_notify (not just a FIN).
  bool closeNotified() const { return tls_.peerClosed(); }
  bool closed() const { return raw_.closed() || tls_.peerClosed(); }
  RawClient& raw() { return raw_; }
  net::TlsSession& session() { return tls_; }

 private:
  static int leftMs(std::chrono::steady_clock::time_point deadline) {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
  }
  RawClient raw_;
  net::TlsSession tls_;
  std::string plain_;
};

// Reads until `n` complete responses arrived (or the peer closed / timed out).
inline std::vector<ParsedResponse> readResponses(TlsTestClient& c, size_t n, int timeout_ms = 3000) {
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto parsed = parseResponses(raw);
    size_t finals = 0;
    for (const auto& r : parsed) finals += (r.complete && r.status >= 200) ? 1 : 0;
    if (finals >= n || c.closed()) return parsed;
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return parsed;
    std::string more = c.readSome(left);
    if (more.empty() && !c.closed()) return parseResponses(raw);
    raw += more;
  }
}

}  // namespace aigw::testing
