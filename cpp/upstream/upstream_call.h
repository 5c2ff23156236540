// One HTTP request to an upstream through its pool: acquire a connection, send, relay the
// response with first-byte and idle timeouts, release the connection for reuse. A reused
// keep-alive connection that turns out to be dead before any response byte is retried once on
// a fresh connection (the upstream never saw the request). Destroying the call cancels it.
#pragma once

#include <cstdint>
#include <string>

#include "core/timer.h"
#include "upstream/upstream_pool.h"

namespace aigw::upstream {

struct CallTimeouts {
  uint64_t connect_ms = 0;          // waiting for a connection from the pool; 0: the pool's connect timeout only
  uint64_t first_byte_ms = 300000;  // request sent -> first response byte
  uint64_t idle_ms = 120000;        // between two reads of the response
};

class UpstreamCall final : private UpstreamPool::Waiter, private UpstreamConnection::Exchange {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onUpstreamHead(int status, http::HeaderList& headers, int64_t content_length) = 0;
    virtual void onUpstreamBody(std::string_view data) = 0;
    virtual void onUpstreamComplete() = 0;
    virtual void onUpstreamError(CallErrorKind kind, const std::string& error) = 0;
    // Streamed request bodies: stop (true) or restart (false) feeding writeBody().
    virtual void onUpstreamBodyBackpressure(bool pause) {}
  };

  UpstreamCall(EventLoop& loop, UpstreamPool& pool, CallTimeouts timeouts, Listener& listener);
  ~UpstreamCall() override;

  // `request` is the head and the whole body, or (complete = false) the head and the start of a
  // body that writeBody() continues and endBody() finishes.
  void start(std::string request, bool complete = true);
  void writeBody(std::string_view data);
  void endBody();
  void pause();
  void resume();

 private:
  void onPoolReady(UpstreamConnection* conn) override;
  void onPoolFailure(CallErrorKind kind, const std::string& error) override;
  void onResponseHead(int status, http::HeaderList& headers, int64_t content_length) override;
  void onResponseBody(std::string_view data) override;
  void onResponseComplete() override;
  void onResponseError(CallErrorKind kind, const std::string& error, bool response_started) override;
  void onRequestDrained() override;
  void onTimer();
  void abandonConnection();
  void checkBackpressure();
  void finish();

  UpstreamPool& pool_;
  CallTimeouts timeouts_;
  Listener& listener_;
  Timer timer_;
  UpstreamConnection* conn_ = nullptr;
  std::string request_;  // kept only while a stale-connection retry is still possible
  bool waiting_ = false;
  bool retried_ = false;
  bool response_started_ = false;
  bool paused_ = false;
  bool done_ = false;
  bool body_complete_ = true;
  bool body_paused_ = false;
};

}  // namespace aigw::upstream
