// The HTTPS half of a server connection: TLS records in, plaintext out and back, and what each
// way a handshake or a session ends counts as (ServerCounters). No socket: the connection
// sends the bytes it is handed here.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "http/server_limits.h"

namespace aigw::net {
class TlsSession;
class TlsServerContext;
}  // namespace aigw::net

namespace aigw::http {

class ServerTls {
 public:
  explicit ServerTls(ServerCounters& counters);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // Makes the connection HTTPS. False (logged) when the session cannot be set up.
  bool start(std::shared_ptr<const net::TlsServerContext> ctx);
  // Plain HTTP: no session, no per-byte work.
  bool active() const { return session_ != nullptr; }

  enum class Read {
    kOk,
    kBroken,           // a bad record or message after the handshake: its alert is in `wire`
    kHandshakeFailed,  // the alert that says why is in `wire`
    kPlainHttp,        // plain HTTP came to this port: the session is gone, answer in plain text
  };
  // Bytes read from the socket. `plain` views the decrypted bytes until the next open() on
  // this thread; `wire` gets what must be sent whatever the result (handshake messages,
  // alerts, session tickets).
  Read open(const char* data, size_t len, std::string_view* plain, std::string* wire);
  // Encrypts `plain` into `wire` (nothing while the handshake runs: it is sent after). False:
  // the session is broken.
  bool seal(std::string_view plain, std::string* wire);
  // close_notify, once, after the handshake; empty otherwise.
  std::string closeNotify();
  bool peerClosed() const;  // the client sent close_notify

  // The handshake ran out of time (true, counted) or is not running (false).
  bool handshakeTimedOut();
  // The socket ended while the handshake ran: true, and a failure unless the client sent
  // nothing (a port probe) or the connection was already `ending` (a failure counted then).
  bool handshakeAbandoned(bool ending);

 private:
  Read failed();  // counts and logs why the session failed

  ServerCounters& counters_;
  std::unique_ptr<net::TlsSession> session_;
  bool bytes_seen_ = false;  // a handshake byte came: closing now is a failed handshake
};

}  // namespace aigw::http
