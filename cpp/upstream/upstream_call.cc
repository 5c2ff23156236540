#include "upstream/upstream_call.h"

namespace aigw::upstream {

UpstreamCall::UpstreamCall(EventLoop& loop, UpstreamPool& pool, CallTimeouts timeouts, Listener& listener)
    : pool_(pool), timeouts_(timeouts), listener_(listener), timer_(loop.uv(), [this] { onTimer(); }) {}

UpstreamCall::~UpstreamCall() {
  done_ = true;
  if (waiting_) pool_.cancel(this);
  if (conn_ != nullptr) {
    // Cancelled mid-response: the rest of that response would poison the connection.
    UpstreamConnection* conn = conn_;
    conn_ = nullptr;
    conn->detach();
    conn->close();
    pool_.release(conn);
  }
}

void UpstreamCall::start(std::string request) {
  request_ = std::move(request);
  waiting_ = true;
  pool_.acquire(this, false);
}

void UpstreamCall::onPoolReady(UpstreamConnection* conn) {
  waiting_ = false;
  if (done_) {
    pool_.release(conn);
    return;
  }
  conn_ = conn;
  // Keep a copy for one retry only when the connection was reused (it may be stale).
  std::string bytes;
  if (conn->requestsServed() > 0 && !retried_) {
    bytes = request_;
  } else {
    bytes = std::move(request_);
    request_.clear();
  }
  timer_.start(timeouts_.first_byte_ms);
  conn->send(this, std::move(bytes));
}

void UpstreamCall::onPoolFailure(CallErrorKind kind, const std::string& error) {
  waiting_ = false;
  if (done_) return;
  done_ = true;
  listener_.onUpstreamError(kind, error);
}

void UpstreamCall::onResponseHead(int status, http::HeaderList& headers, int64_t content_length) {
  if (done_) return;
  response_started_ = true;
  request_.clear();
  request_.shrink_to_fit();
  if (!paused_) timer_.start(timeouts_.idle_ms);
  listener_.onUpstreamHead(status, headers, content_length);
}

void UpstreamCall::onResponseBody(std::string_view data) {
  if (done_) return;
  if (!paused_) timer_.start(timeouts_.idle_ms);
  listener_.onUpstreamBody(data);
}

void UpstreamCall::onResponseComplete() {
  if (done_) return;
  done_ = true;
  timer_.stop();
  UpstreamConnection* conn = conn_;
  conn_ = nullptr;
  pool_.release(conn);
  listener_.onUpstreamComplete();
}

void UpstreamCall::onResponseError(CallErrorKind kind, const std::string& error, bool response_started) {
  UpstreamConnection* conn = conn_;
  conn_ = nullptr;
  if (conn != nullptr) pool_.release(conn);  // it is closing; the pool just forgets it
  if (done_) return;
  timer_.stop();
  if (!response_started && !response_started_ && !retried_ && !request_.empty() && conn != nullptr &&
      conn->requestsServed() > 0 && kind == CallErrorKind::Reset) {
    retried_ = true;
    waiting_ = true;
    pool_.acquire(this, /*fresh=*/true);
    return;
  }
  done_ = true;
  listener_.onUpstreamError(kind, error);
}

void UpstreamCall::onTimer() {
  if (done_) return;
  done_ = true;
  const bool before_first_byte = !response_started_;
  if (conn_ != nullptr) {
    UpstreamConnection* conn = conn_;
    conn_ = nullptr;
    conn->detach();
    conn->close();
    pool_.release(conn);
  }
  listener_.onUpstreamError(CallErrorKind::Timeout,
                            before_first_byte
                                ? "no response within " + std::to_string(timeouts_.first_byte_ms) + " ms"
                                : "response stalled: nothing received for " + std::to_string(timeouts_.idle_ms) + " ms");
}

void UpstreamCall::pause() {
  if (paused_) return;
  paused_ = true;
  if (response_started_) timer_.stop();  // a slow client is not an idle upstream
  if (conn_ != nullptr) conn_->pauseReading();
}

void UpstreamCall::resume() {
  if (!paused_) return;
  paused_ = false;
  if (done_) return;
  timer_.start(response_started_ ? timeouts_.idle_ms : timeouts_.first_byte_ms);
  if (conn_ != nullptr) conn_->resumeReading();
}

}  // namespace aigw::upstream
