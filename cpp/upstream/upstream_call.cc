#include "upstream/upstream_call.h"

namespace aigw::upstream {

UpstreamCall::UpstreamCall(EventLoop& loop, UpstreamPool& pool, CallTimeouts timeouts, Listener& listener)
    : pool_(pool), timeouts_(timeouts), listener_(listener), timer_(loop.uv(), [this] { onTimer(); }) {}

UpstreamCall::~UpstreamCall() {
  done_ = true;
  if (waiting_) pool_.cancel(this);
  abandonConnection();
}

// Gives up the connection mid-response: the rest of that response would poison it, so it is
// closed rather than returned for reuse.
void UpstreamCall::abandonConnection() {
  if (conn_ == nullptr) return;
  UpstreamConnection* conn = conn_;
  conn_ = nullptr;
  conn->detach();
  conn->close();
  pool_.release(conn);
}

void UpstreamCall::start(std::string request, bool complete) {
  request_ = std::move(request);
  body_complete_ = complete;
  waiting_ = true;
  if (timeouts_.connect_ms > 0) timer_.start(timeouts_.connect_ms);
  pool_.acquire(this, false);
}

namespace {
constexpr size_t kBodyHighWatermark = 1 << 20;
}

void UpstreamCall::writeBody(std::string_view data) {
  if (done_ || data.empty()) return;
  if (conn_ == nullptr) {
    request_.append(data);  // not connected yet: hold it (bounded by backpressure)
  } else {
    conn_->sendMore(data);
    timer_.start(timeouts_.idle_ms);  // an upload that stops moving is a stalled upstream
  }
  checkBackpressure();
}

void UpstreamCall::endBody() {
  if (done_ || body_complete_) return;
  body_complete_ = true;
  if (conn_ != nullptr && !response_started_) timer_.start(timeouts_.first_byte_ms);
}

void UpstreamCall::checkBackpressure() {
  const size_t queued = conn_ != nullptr ? conn_->writeQueueSize() : request_.size();
  if (!body_paused_ && queued > kBodyHighWatermark) {
    body_paused_ = true;
    listener_.onUpstreamBodyBackpressure(true);
  } else if (body_paused_ && queued <= kBodyHighWatermark / 4) {
    body_paused_ = false;
    listener_.onUpstreamBodyBackpressure(false);
  }
}

void UpstreamCall::onRequestDrained() {
  if (done_) return;
  if (!body_complete_) timer_.start(timeouts_.idle_ms);
  checkBackpressure();
}

void UpstreamCall::onPoolReady(UpstreamConnection* conn) {
  waiting_ = false;
  if (done_) {
    pool_.release(conn);
    return;
  }
  conn_ = conn;
  // Keep a copy for one retry only when the connection was reused (it may be stale) and the
  // whole request is at hand.
  std::string bytes;
  if (conn->requestsServed() > 0 && !retried_ && body_complete_) {
    bytes = request_;
  } else {
    bytes = std::move(request_);
    request_.clear();
  }
  timer_.start(body_complete_ ? timeouts_.first_byte_ms : timeouts_.idle_ms);
  conn->send(this, std::move(bytes));
  if (!body_complete_) checkBackpressure();
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
  if (waiting_) {
    waiting_ = false;
    pool_.cancel(this);
    listener_.onUpstreamError(CallErrorKind::Connect,
                              "no connection within " + std::to_string(timeouts_.connect_ms) + " ms");
    return;
  }
  const bool before_first_byte = !response_started_;
  abandonConnection();
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
