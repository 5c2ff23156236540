// One accepted client TCP connection speaking HTTP/1.1: reads and parses requests, hands each
// to a RequestHandler, writes the response, enforces timeouts, limits and backpressure.
// A connection owns itself: it is freed in the close callback of its uv_tcp_t. Its parts:
// server_connection.cc (life, timer, close), _request.cc (reads, parsing), _response.cc (the
// ResponseWriter, writes through its net::WriteQueue) and _tls.cc (its HTTPS half).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/timer.h"
#include "http/exchange_api.h"
#include "http/request_parser.h"
#include "http/server_limits.h"
#include "net/write_queue.h"

namespace aigw::net {
class TlsSession;
class TlsServerContext;
}  // namespace aigw::net

namespace aigw::http {

class ServerConnection;

// What a connection needs from the worker that accepted it.
struct ServerContext {
  EventLoop* loop = nullptr;
  ServerLimits limits;
  RequestHandlerFactory* factory = nullptr;
  ServerCounters* counters = nullptr;
  bool draining = false;
  // Intrusive list of live connections, for draining and shutdown.
  ServerConnection* head = nullptr;
  size_t live = 0;
};

class ServerConnection final : public ResponseWriter {
 public:
  // Takes over `client`, which must already be initialized on ctx.loop and accepted, and holds
  // a place taken with ServerCounters::admit (released when the connection ends). With `tls`,
  // the connection speaks HTTPS: every byte read is decrypted first and every byte written
  // encrypted; the handshake and the first request's headers share header_timeout.
  static void adopt(ServerContext& ctx, uv_tcp_t* client, std::shared_ptr<const net::TlsServerContext> tls = nullptr);

  // Draining: close now if idle, otherwise after the current response.
  void drain();
  // Shutdown: cancel the current request and close at once.
  void abort();

  // ResponseWriter
  void respond(int status, const HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  void resetConnection() override;
  bool writeBlocked() const override;
  bool headSent() const override { return head_sent_; }
  void pauseRequestBody() override;
  void resumeRequestBody() override;

  ServerConnection* next() const { return next_; }

 private:
  ServerConnection(ServerContext& ctx, uv_tcp_t* tcp);
  ~ServerConnection();

  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWritten(void* self, int status);  // a queued write finished
  static void onShutdown(uv_shutdown_t* req, int status);
  static void onClose(uv_handle_t* h);

  void handleData(const char* data, size_t len);
  // HTTPS: decrypts, sends what the TLS session produced (handshake, alerts), passes the
  // plaintext to handleData.
  void handleEncrypted(const char* data, size_t len);
  void tlsFailed();
  void flushTls();
  // close_notify, once, before a graceful close (after the last response is queued).
  void sendCloseNotify();
  void onPeerEof();
  // After the client's EOF: once nothing more can be answered, close when the queue is flushed.
  void closeIfInputDone();
  // Feeds bytes to the parser and dispatches what it finds; returns bytes used.
  size_t consume(const char* data, size_t len);
  void processBuffered();
  void startRequest();
  void startStreamedRequest();
  static bool onHead(void* ctx, RequestParser& parser);
  static void onBodyPiece(void* ctx, const char* data, size_t len);
  void startReading();
  void finishExchange();
  void onTimeout();
  void setPhase(int phase, uint64_t ms);
  void sendErrorAndClose(int status, std::string_view message);
  void writeRaw(std::string&& data);     // HTTP bytes: encrypted first on an HTTPS connection
  void writeSocket(std::string&& data);  // bytes as they go on the wire
  void failSoon();  // a write failed: close on the next loop iteration, never inside a handler
  void closeAfterFlush();
  void beginLinger();
  void close(bool client_gone, bool reset = false);
  void appendHead(std::string& out, int status, const HeaderList& headers, int64_t content_length);
  bool idle() const;
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(tcp_); }

  // What the one timer means now. kWrite: bytes are queued for the client. When it fires, the
  // connection closes only if the client took none of our bytes during the last
  // idle_timeout_ms (a send timeout); otherwise it is re-armed. Progress is counted in bytes
  // the peer acknowledged, not in write callbacks: one uv_write may be megabytes, and the
  // kernel's send buffer (megabytes on loopback) drains long before libuv's queue moves. The
  // idle phase begins only once the queue is flushed.
  enum TimerPhase : int { kNone = 0, kHeader, kBody, kIdle, kLinger, kFail, kWrite };

  ServerContext& ctx_;
  uv_tcp_t* tcp_;
  net::WriteQueue out_;  // to the client: encrypted bytes on an HTTPS connection
  RequestParser parser_;
  Timer timer_;
  RequestHandlerPtr handler_;
  std::unique_ptr<net::TlsSession> tls_;  // null on plain HTTP: no per-byte work there
  std::string buffered_;        // unparsed input held while a request is in flight
  size_t buffered_off_ = 0;
  ServerConnection* prev_ = nullptr;
  ServerConnection* next_ = nullptr;

  // Current response.
  bool head_sent_ = false;
  bool chunked_ = false;
  bool close_delimited_ = false;
  bool head_request_ = false;
  bool no_body_ = false;  // the response status forbids a body (1xx, 204, 304)
  bool keep_alive_ = true;
  bool response_ended_ = false;
  bool write_blocked_ = false;

  bool reading_ = false;
  bool streaming_body_ = false;    // a handler consumes this request's body as it arrives
  bool stream_decided_ = false;    // the head callback chose streaming for the current message
  bool body_paused_ = false;
  bool in_consume_ = false;
  bool close_after_flush_ = false;
  bool lingering_ = false;
  size_t discarded_ = 0;  // bytes read and dropped since the connection began to end
  bool closing_ = false;
  bool http10_ = false;
  bool failed_ = false;
  bool peer_eof_ = false;  // the client sent FIN; it may still be reading
  bool tls_bytes_seen_ = false;  // a handshake byte came: closing now is a failed handshake
  int timer_phase_ = 0;
  uint64_t write_mark_ = 0;  // out_.delivered() when the kWrite phase was armed
};

}  // namespace aigw::http
