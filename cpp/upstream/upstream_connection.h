// One keep-alive connection to an upstream: dialled (UpstreamDial), TLS when https, one request
// at a time (ResponseRelay), its bytes through an UpstreamStream. Owned by itself (freed in its
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
#include "upstream/dns_cache.h"
#include "upstream/origin.h"
#include "upstream/response_relay.h"
#include "upstream/upstream_dial.h"
#include "upstream/upstream_stream.h"

namespace aigw::net {
class TlsClientContext;
}  // namespace aigw::net

namespace aigw::upstream {

class UpstreamConnection final : private UpstreamDial::Listener {
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
  using Exchange = UpstreamExchange;

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
  size_t writeQueueSize() const { return closing_ ? 0 : stream_.queued(); }
  // The exchange no longer wants events (it was cancelled or the response ended).
  void detach() { relay_.detach(); }
  void pauseReading();
  void resumeReading();
  // Idle in the pool: watch for the peer closing it.
  void park();
  void close();
  // The owner is going away first: no more Owner calls (the close callback still frees us).
  void disown() { owner_ = nullptr; }

  bool reusable() const { return relay_.reusable() && !closing_; }
  bool closing() const { return closing_; }
  uint64_t requestsServed() const { return relay_.served(); }

 private:
  ~UpstreamConnection();
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWritten(void* self, int status);  // a queued write finished
  static void onClose(uv_handle_t* h);

  // UpstreamDial::Listener (connectFailed also ends a TLS handshake that failed or timed out)
  void dialed() override;
  void connectFailed(CallErrorKind kind, std::string error) override;
  void connected();  // TCP up and, for https, the handshake done
  void onTimer();
  void onReadEnd(ssize_t status);  // EOF or a read error
  // The connection broke: a Connect failure (its TLS handshake) goes to the owner as a failed
  // connect, anything else to the exchange in progress, if any.
  void fail(CallErrorKind kind, std::string error);

  enum class State { Dialing, Handshaking, Open, Idle };

  Settings settings_;
  Owner* owner_;
  State state_ = State::Dialing;
  uv_tcp_t* tcp_ = nullptr;
  Timer timer_;  // the connect timeout, then an idle connection's keep-alive
  UpstreamDial dial_;
  UpstreamStream stream_;
  ResponseRelay relay_;
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
};

}  // namespace aigw::upstream
