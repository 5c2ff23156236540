// The byte stream of one accepted client connection, under the HTTP layer: reads (decrypted
// first on HTTPS), writes through a WriteQueue with its watermarks, and the graceful end
// (close_notify, half-close, a lingering read) before the socket closes.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>

#include "http/connection_deadline.h"
#include "http/server_limits.h"
#include "http/server_tls.h"
#include "net/write_queue.h"

namespace aigw::http {

class ClientStream {
 public:
  enum class Event {
    kPeerEof,    // the client sent FIN or close_notify; it may still be reading
    kBroken,     // a read or write failed, or a TLS record was bad: close, aborting any exchange
    kFinished,   // the graceful end is over (or cannot be had): close
    kPlainHttp,  // plain HTTP came to the HTTPS port: answer in plain text, then close
    kFlushed,    // the queue emptied while the deadline waited on it (kWrite)
    kWritable,   // the queue fell to the low watermark after backlogged()
    kClosed,     // the socket is closed: the owner may free itself, and this stream with it
  };
  class Owner {
   public:
    // Plaintext from the client, in a buffer the next read reuses.
    virtual void onStreamData(const char* data, size_t len) = 0;
    virtual void onStreamEvent(Event event) = 0;

   protected:
    ~Owner() = default;
  };

  // Takes `tcp` (initialized and accepted; freed with the stream). The deadline is shared
  // with the owner: the stream arms its write, linger and fail phases.
  ClientStream(uv_tcp_t* tcp, const ServerLimits& limits, ServerCounters& counters, ConnectionDeadline& deadline,
               Owner& owner);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  // Starts reading; with `tls`, as HTTPS. False: close the stream.
  bool start(std::shared_ptr<const net::TlsServerContext> tls);
  void startReading();  // not after the client's EOF
  void stopReading();
  // HTTP bytes, encrypted first on HTTPS. A failed write closes on the next loop iteration
  // (kFail), never inside the caller.
  void write(std::string&& data);
  // True (and backlogged(), the send timeout armed) when more than the high watermark is
  // queued: the client is not reading our answers, so take no new request.
  bool throttleInput();
  // The last bytes are queued: once they are flushed, half-close and read-and-discard until
  // the client closes or the linger time passes, then kFinished.
  void closeAfterFlush();
  // Closes now (a RST with `reset`); kClosed follows from the loop.
  void close(bool reset);
  bool handshakeTimedOut() { return tls_.handshakeTimedOut(); }  // counted

  bool closing() const { return closing_; }
  bool failed() const { return failed_; }
  bool finishing() const { return close_after_flush_; }
  bool accepting() const { return !closing_ && !failed_ && !close_after_flush_; }  // may start a request
  bool backlogged() const { return backlogged_; }
  bool peerEof() const { return peer_eof_; }
  const net::WriteQueue& out() const { return out_; }

 private:
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWritten(void* self, int status);  // a queued write finished
  static void onShutdown(uv_shutdown_t* req, int status);
  static void onClose(uv_handle_t* h);

  void handleEncrypted(const char* data, size_t len);
  void deliver(const char* data, size_t len);  // plaintext: to the owner, or discarded when ending
  void writeSocket(std::string&& data);        // bytes as they go on the wire (may be empty)
  void beginLinger();

  uv_tcp_t* tcp_;
  const ServerLimits& limits_;
  ConnectionDeadline& deadline_;
  Owner& owner_;
  net::WriteQueue out_;  // encrypted bytes on an HTTPS connection
  ServerTls tls_;
  bool reading_ = false;
  bool backlogged_ = false;
  bool peer_eof_ = false;
  bool close_after_flush_ = false;
  bool lingering_ = false;
  bool failed_ = false;
  bool closing_ = false;
  size_t discarded_ = 0;  // bytes read and dropped since the connection began to end
};

}  // namespace aigw::http
