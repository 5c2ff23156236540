// One keep-alive connection to an upstream: DNS, TCP connect, optional TLS, one request at a
// time, the response parsed and handed to the current exchange. Owned by itself (freed in its
// uv close callback); the pool and the current call hold plain pointers and are told when it
// goes away.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/call.h"
#include "core/event_loop.h"
#include "core/timer.h"
#include "http/response_parser.h"
#include "upstream/dns_cache.h"
#include "upstream/origin.h"

namespace aigw::net {
class TlsClientContext;
class TlsSession;
}  // namespace aigw::net

namespace aigw::upstream {

class UpstreamConnection final : private http::ResponseParser::Listener {
 public:
  // The pool: told about connect results and about the connection going away.
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void onConnected(UpstreamConnection* conn) = 0;
    virtual void onConnectFailed(UpstreamConnection* conn, CallErrorKind kind, const std::string& error) = 0;
    // Always the last call: the object is freed right after.
    virtual void onClosed(UpstreamConnection* conn) = 0;
  };
  // The request currently using the connection.
  class Exchange {
   public:
    virtual ~Exchange() = default;
    virtual void onResponseHead(int status, http::HeaderList& headers, int64_t content_length) = 0;
    virtual void onResponseBody(std::string_view data) = 0;
    virtual void onResponseComplete() = 0;
    // The connection failed; it is closing. `response_started`: some response bytes arrived.
    virtual void onResponseError(CallErrorKind kind, const std::string& error, bool response_started) = 0;
    // The request bytes queued for the socket fell below the low watermark.
    virtual void onRequestDrained() {}
  };

  struct Settings {
    const Origin* origin;
    std::shared_ptr<net::TlsClientContext> tls;  // null for plain http
    uint64_t connect_timeout_ms;
    uint64_t keepalive_idle_ms;  // an idle pooled connection is closed after this
  };

  UpstreamConnection(EventLoop& loop, DnsCache& dns, const Settings& settings, Owner* owner);

  void connect();
  // Starts a request: the connection reports the response to `exchange`.
  void send(Exchange* exchange, std::string&& request);
  // More request bytes (a streamed body) for the exchange in progress.
  void sendMore(std::string_view data);
  // Request bytes not yet handed to the kernel.
  size_t writeQueueSize() const;
  // The exchange no longer wants events (it was cancelled or the response ended).
  void detach() { exchange_ = nullptr; }
  void pauseReading();
  void resumeReading();
  // Idle in the pool: watch for the peer closing it.
  void park();
  void close();
  // The owner is going away first: no more Owner calls (the close callback still frees us).
  void disown() { owner_ = nullptr; }

  bool reusable() const { return reusable_ && !closing_; }
  bool closing() const { return closing_; }
  uint64_t requestsServed() const { return served_; }

 private:
  ~UpstreamConnection();
  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onClose(uv_handle_t* h);

  void connectNext();
  void onTimer();
  void onTcpConnected();
  void handshakeProgress();
  void connectFailed(CallErrorKind kind, std::string error);
  void handlePlain(const char* data, size_t len);
  void fail(CallErrorKind kind, std::string error);
  void writeRaw(std::string&& data);
  void flushTls();
  std::string describe() const;

  // http::ResponseParser::Listener
  void onHead(int status, http::HeaderList& headers, int64_t content_length) override;
  void onBody(std::string_view data) override;
  void onComplete(bool keep_alive) override;

  enum class State { Resolving, Connecting, Handshaking, Ready, Active, Idle };

  EventLoop& loop_;
  DnsCache& dns_;
  Settings settings_;
  Owner* owner_;
  Exchange* exchange_ = nullptr;
  State state_ = State::Resolving;
  uv_tcp_t* tcp_ = nullptr;
  Timer timer_;
  std::unique_ptr<DnsCache::Lookup> lookup_;
  AddressList addresses_;
  size_t next_address_ = 0;
  std::string last_connect_error_;
  std::unique_ptr<net::TlsSession> tls_;
  std::string pending_plain_;   // request bytes written before the TLS handshake finished
  http::ResponseParser parser_;
  uint64_t served_ = 0;
  bool reusable_ = false;
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
};

}  // namespace aigw::upstream
