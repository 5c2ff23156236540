// The bytes of a connected upstream connection: what goes out is encrypted first when the
// origin is https, then written through a net::WriteQueue; what comes in is decrypted.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/call.h"
#include "net/write_queue.h"
#include "upstream/origin.h"

namespace aigw::net {
class TlsClientContext;
class TlsSession;
}  // namespace aigw::net

namespace aigw::upstream {

class UpstreamStream {
 public:
  // `written` runs for each write the socket did not take at once (see net::WriteQueue).
  UpstreamStream(const Origin& origin, net::WriteQueue::Written written, void* owner);
  ~UpstreamStream();
  UpstreamStream(const UpstreamStream&) = delete;
  UpstreamStream& operator=(const UpstreamStream&) = delete;

  // The socket connected: writes may start. With `tls` the handshake begins; false when it
  // cannot (error() says why; a Connect failure).
  bool open(uv_tcp_t* tcp, const std::shared_ptr<net::TlsClientContext>& tls);
  // Request bytes (not written before open()). False: the connection is unusable; errorKind()
  // and error() say why. A TLS stream holds them until its handshake is done.
  bool write(std::string&& data);
  bool write(std::string_view data);
  // Bytes read from the socket. `plain` is what they carry: `data` itself on plain http, the
  // decrypted bytes (valid until the next read on this thread) on TLS. False: errorKind() and error().
  bool read(const char* data, size_t len, std::string_view* plain);
  // Sends what TLS produced on its own (the ClientHello). False: errorKind() and error().
  bool flush();

  bool handshaking() const;                                    // TLS whose handshake is not done yet
  bool peerClosed() const;                                     // TLS close_notify received
  size_t queued() const { return out_ ? out_->queued() : 0; }  // bytes in libuv's write queue
  CallErrorKind errorKind() const { return error_kind_; }
  const std::string& error() const { return error_; }

 private:
  bool send(std::string&& bytes);
  bool failed(CallErrorKind kind, std::string error);

  const Origin& origin_;
  net::WriteQueue::Written written_;
  void* owner_;
  std::optional<net::WriteQueue> out_;    // from open(): a failed connect may replace the handle before
  std::unique_ptr<net::TlsSession> tls_;  // null for plain http
  CallErrorKind error_kind_ = CallErrorKind::Internal;
  std::string error_;
};

}  // namespace aigw::upstream
