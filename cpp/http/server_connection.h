// One accepted client TCP connection speaking HTTP/1.1: reads and parses requests, hands each
// to a RequestHandler, writes the response, enforces timeouts, limits and backpressure.
// A connection owns itself: it is freed when its socket's close completes. Its parts: a
// ClientStream (the socket, TLS, writes, the lingering close), a ConnectionDeadline (its one
// timer) and a ResponseFraming (the current response's HTTP/1.1 framing). Its files:
// server_connection.cc (life, timer, close), _request.cc (parsing, dispatch, pipelining) and
// _response.cc (the ResponseWriter).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "http/client_stream.h"
#include "http/connection_deadline.h"
#include "http/exchange_api.h"
#include "http/request_parser.h"
#include "http/response_framing.h"
#include "http/server_limits.h"

namespace aigw::net {
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

class ServerConnection final : public ResponseWriter, private ClientStream::Owner {
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
  bool headSent() const override { return framing_.headSent(); }
  void pauseRequestBody() override;
  void resumeRequestBody() override;

  ServerConnection* next() const { return next_; }

 private:
  ServerConnection(ServerContext& ctx, uv_tcp_t* tcp);
  ~ServerConnection();

  // ClientStream::Owner
  void onStreamData(const char* data, size_t len) override;
  void onStreamEvent(ClientStream::Event event) override;

  // Feeds bytes to the parser and dispatches what it finds; returns bytes used.
  size_t consume(const char* data, size_t len);
  // Consumes the pipelined input held back while a request was in flight, as far as it may.
  void processBuffered();
  static bool onHead(void* ctx, RequestParser& parser);
  static void onBodyPiece(void* ctx, const char* data, size_t len);
  // A request goes to a handler: whole, or (`streamed`) at its head, its body to follow.
  void startExchange(bool streamed);
  void onTimeout();
  void sendErrorAndClose(int status, std::string_view message);
  void close(bool client_gone, bool reset = false);

  ServerContext& ctx_;
  ConnectionDeadline deadline_;
  ClientStream stream_;
  RequestParser parser_;
  ResponseFraming framing_;
  RequestHandlerPtr handler_;
  std::string buffered_;  // unparsed input held while a request is in flight
  size_t buffered_off_ = 0;
  ServerConnection* prev_ = nullptr;
  ServerConnection* next_ = nullptr;
  bool streaming_body_ = false;  // a handler consumes this request's body as it arrives
  bool stream_decided_ = false;  // the head callback chose streaming for the current message
  bool body_paused_ = false;
  bool in_consume_ = false;
};

}  // namespace aigw::http
