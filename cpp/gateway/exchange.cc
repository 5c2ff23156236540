#include "gateway/exchange.h"

#include "core/clock.h"
#include "core/echo.h"
#include "gateway/config.h"
#include "gateway/worker.h"
#include "guardrails/during_checks.h"
#include "guardrails/request_guardrails.h"
#include "http/response.h"
#include "http/sse.h"

namespace aigw {

Exchange::Exchange(Worker& worker, http::Request&& request, http::ResponseWriter& writer)
    : worker_(worker), request_(std::move(request)), recorder_(writer, *this, rec_), gate_(recorder_), writer_(gate_),
      id_(worker.newRequestId()), start_ns_(monotonicNs()) {
  rec_.start_wall_ms = wallMs();
  worker_.shared().requests_in_flight.fetch_add(1, std::memory_order_relaxed);
}

Exchange::~Exchange() {
  settleCostNow();
  writeRecord(false);
  finishRouting();
  worker_.shared().requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
}

const GatewayConfig& Exchange::config() const { return worker_.config(); }
EventLoop& Exchange::loop() { return worker_.loop(); }
CallContext& Exchange::callContext() { return worker_.callContext(); }
hooks::HookQueue& Exchange::hookQueue() { return worker_.shared().hooks; }

void Exchange::setGuardrails(std::unique_ptr<guardrails::RequestGuardrails> g) { guardrails_ = std::move(g); }

void Exchange::start() {
  if (worker_.logRefuses()) {
    // The request log is over its bound in backpressure mode: not admitted, so no record.
    rec_.skip = true;
    sendError(503, "the gateway's request log is behind; retry shortly", "service_unavailable_error",
              "log_backpressure");
    return;
  }
  continuePipeline();
}

void Exchange::park(DeferredDeletablePtr work) { parked_ = std::move(work); }

void Exchange::continuePipeline() {
  // The parked work is usually on the stack below us: release it on the next iteration.
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  const FilterChain& chain = worker_.filters();
  while (!done_ && next_filter_ < chain.size()) {
    const Filter& filter = *chain[next_filter_++];
    if (filter.onRequest(*this) == FilterStatus::StopIteration) return;
  }
  if (!done_) sendError(500, "the request pipeline ended without an answer", "server_error");
}

void Exchange::onClientGone() {
  settleCostNow();  // usage already reported still counts; a cost hook at work is cancelled
  writeRecord(true);
  done_ = true;
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  during_.reset();  // cancels the during checks now: none of their callbacks runs after this
  dropStreamGuard();
  gate_.discard();
  releaseCall();
  finishRouting();
}

void Exchange::onWritable() {
  if (call_ && !callBlocked()) call_->resume();  // (a stream guard's full queue still holds it)
}

void Exchange::onRequestBody(std::string_view data) {
  if (done_) return;
  if (call_) {
    call_->onRequestBody(data);
    return;
  }
  // The pipeline has not reached the provider yet: hold a bounded amount.
  early_body_.append(data);
  if (early_body_.size() > 256 * 1024) writer_.pauseRequestBody();
}

void Exchange::onRequestEnd() {
  if (done_) return;
  if (call_) {
    call_->onRequestEnd();
  } else {
    early_end_ = true;
  }
}

void Exchange::pauseRequestBody(bool pause) {
  if (done_) return;
  if (pause) {
    writer_.pauseRequestBody();
  } else {
    writer_.resumeRequestBody();
  }
}

void Exchange::releaseCall() {
  // The call may be on the stack below us (we can be inside one of its callbacks).
  if (call_) worker_.loop().deferredDelete(std::move(call_));
}

http::HeaderList Exchange::baseHeaders() const {
  http::HeaderList h;
  h.reserve(6);
  h.add("x-aigw-request-id", id_);
  return h;
}

void Exchange::sendJson(int status, std::string_view body) {
  if (done_) return;
  done_ = true;
  status_ = status;
  http::HeaderList h = baseHeaders();
  h.add("content-type", "application/json");
  writer_.respond(status, h, body);
}

void Exchange::sendError(int status, std::string_view message, std::string_view type, std::string_view code,
                         std::string_view param, const http::HeaderList* extra) {
  if (done_) return;
  done_ = true;
  status_ = status;
  if (type.empty()) type = http::errorTypeForStatus(status);
  // Echoed values are cut where they are put in; this bounds what the words around them add.
  std::string capped;
  if (message.size() > kErrorMessageMaxBytes) message = capped = echoed(message, kErrorMessageMaxBytes);
  rec_.noteError(type, message);  // the record needs no parse of the body we make here
  http::HeaderList h = baseHeaders();
  h.add("content-type", "application/json");
  if (extra != nullptr) {
    for (const auto& x : *extra) h.add(x.name, x.value);
  }
  writer_.respond(status, h, http::openAiErrorBody(message, type, code, param));
}

void Exchange::dispatch() {
  if (api_.route != nullptr) {
    beginRouting();
    return;
  }
  startCall(*api_.provider, nullptr);
}

// Starts one provider call. It may answer (or fail) before start() returns: the zero-latency
// mock does, and a failure may already have led to the next attempt.
void Exchange::startCall(const Provider& provider, const router::Target* target) {
  const bool transformed = target != nullptr && !attempt_body_.empty();
  // A routed attempt goes to the upstream model launch() recorded for it.
  const std::string_view model = target != nullptr ? std::string_view(attempts_.back().model) : std::string_view(api_.model);
  CallRequest req{api_.endpoint,
                  request_,
                  transformed ? std::string_view(attempt_body_) : std::string_view(request_.body),
                  transformed ? attempt_json_ : api_.body,
                  api_.json_object,
                  api_.model,
                  model,
                  api_.stream,
                  id_,
                  api_.path_suffix,
                  request_.body_streamed};
  if (target != nullptr) {
    req.connect_timeout_ms = target->timeouts.connect_ms;
    req.first_byte_timeout_ms = target->timeouts.first_byte_ms;
    req.idle_timeout_ms = target->timeouts.idle_ms;
  }
  const size_t attempt = attempts_.size();  // launch() recorded this attempt already
  rec_.usage = CallUsage{};                 // usage is the answering attempt's
  ProviderCallPtr call = provider.start(worker_.callContext(), req, *this);
  if (done_ || (target != nullptr && (attempts_.size() != attempt || attempts_.back().end_ns != 0))) {
    // Answered (or failed) synchronously: nothing more will come from this call.
    if (call) worker_.loop().deferredDelete(std::move(call));
    return;
  }
  call_ = std::move(call);
  if (request_.body_streamed && call_) {
    if (!early_body_.empty()) {
      std::string early;
      early.swap(early_body_);
      call_->onRequestBody(early);
      writer_.resumeRequestBody();
    }
    if (early_end_ && call_) call_->onRequestEnd();
  }
}

void Exchange::addRoutingHeaders(http::HeaderList& headers, int status) const {
  headers.add("x-aigw-request-id", id_);
  if (route_ != nullptr) {
    // A route that retries has spent what retrying could do; an SDK that retried the answer
    // again would multiply the attempts (3 SDK tries x 3 of ours reached an upstream 9 times).
    // The official SDKs obey x-should-retry before their own status rules.
    const bool sdk_would_retry = status == 408 || status == 409 || status == 429 || status >= 500;
    if (sdk_would_retry && route_->retry.attempts > 1 && !route_->retry.client_retries) {
      headers.set("x-should-retry", "false");
    }
    if (!attempts_.empty()) {
      const Attempt& last = attempts_.back();
      headers.add("x-aigw-provider", last.target->provider->name());
      headers.add("x-aigw-model", echoedHeaderValue(last.model));
    }
    headers.add("x-aigw-attempts", std::to_string(attempts_.size()));
  } else if (api_.provider != nullptr) {
    headers.add("x-aigw-provider", api_.provider->name());
    if (!api_.model.empty()) headers.add("x-aigw-model", echoedHeaderValue(api_.model));
  }
}

void Exchange::onCallHead(int status, http::HeaderList headers, int64_t content_length) {
  if (done_) return;
  status_ = status;
  if (target_ != nullptr && !attempts_.empty()) {
    attempts_.back().status = status;
    if (status < 400) target_->state->recordTtfb((monotonicNs() - attempts_.back().start_ns) / 1000);
  }
  const std::string* type = headers.find("content-type");
  event_stream_ = type != nullptr && type->find("text/event-stream") != std::string::npos;
  dropStreamGuard();
  const bool has_body = status >= 200 && status != 204 && status != 304 && request_.method != "HEAD";
  if (status >= 400 && target_ != nullptr) {
    // A failed attempt: held whole, to be retried, routed elsewhere or relayed.
    failing_ = true;
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}});
    return;
  }
  addRoutingHeaders(headers, status);
  // (Serving as a mock upstream there is nothing to retry, and a test of a stall before the
  // first event needs the head to go out.)
  if (event_stream_ && has_body && target_ != nullptr && !config().server().mock_mode) {
    // Nothing reaches the client before the first event: until then a failure can still retry.
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}});
    sse_head_held_ = true;
    return;
  }
  if (!event_stream_ && has_body && content_length <= static_cast<int64_t>(kMaxHeldBody)) {
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}});
    if (content_length > 0) held_->body.reserve(static_cast<size_t>(content_length));
    return;
  }
  writer_.writeHead(status, headers, content_length);
}

// Commits to the held answer: its head (and what arrived so far) goes out; the rest follows.
void Exchange::commitHeld() {
  std::unique_ptr<HeldResponse> held = std::move(held_);
  if (failing_) {
    // Too big to hold for a retry decision: this failure is the answer.
    failing_ = false;
    addRoutingHeaders(held->headers, held->status);
  }
  sse_head_held_ = false;
  writer_.writeHead(held->status, held->headers, held->content_length);
  if (event_stream_ && wantsSummary()) {
    std::string comment = ": aigw_routing " + summaryJson() + "\n\n";
    writer_.writeBody(comment);
  }
  if (!held->body.empty()) writer_.writeBody(held->body);
}

void Exchange::onCallBody(std::string_view data) {
  if (done_) return;
  if (guardsStream()) {
    if (!stream_guard_) {
      guardrails::StreamHost& host = *this;
      stream_guard_ = std::make_unique<guardrails::StreamGuard>(*guardrails_, guardrails_->endpoint(), host);
    }
    stream_guard_->feed(data);  // what may go out comes back through streamOut()
    return;
  }
  relayBody(data);
}

void Exchange::relayBody(std::string_view data) {
  if (event_stream_ && config().hooks().cost && status_ < 400) {
    holdStreamEnd(data);
    if (data.empty()) return;
  }
  if (held_) {
    if (sse_head_held_) {
      commitHeld();
      writer_.writeBody(data);
      return;
    }
    held_->body.append(data);
    if (held_->body.size() > kMaxHeldBody) commitHeld();  // too big to hold: relay the rest as it comes
    return;
  }
  writer_.writeBody(data);
}

void Exchange::respondHeld(std::unique_ptr<HeldResponse> held) {
  done_ = true;
  status_ = held->status;
  if (wantsSummary()) {
    const std::string* type = held->headers.find("content-type");
    if (type != nullptr && type->find("json") != std::string::npos) held->body = withSummary(std::move(held->body));
  }
  writer_.respond(held->status, held->headers, held->body);
}

void Exchange::onCallEnd(const CallUsage& usage) {
  if (done_) return;
  if (failing_) {
    failing_ = false;
    std::unique_ptr<HeldResponse> held = std::move(held_);
    const router::Failure failure = router::classifyStatus(held->status, held->body);
    // Retry-After keeps every request off the target for a while, where this route retries it.
    const std::string* after = held->headers.find("retry-after");
    if (after != nullptr && route_->retry.attempts > 1 && router::retryable(route_->retry, failure)) {
      const int64_t ms = router::parseRetryAfterMs(*after, wallMs());
      if (ms > 0) {
        const uint64_t wait = std::min<uint64_t>(static_cast<uint64_t>(ms), route_->retry.max_retry_after_ms);
        target_->state->not_before_ns.store(monotonicNs() + wait * 1000000ull, std::memory_order_relaxed);
      }
    }
    const std::string error = "upstream answered " + std::to_string(held->status) + " (" + router::failureName(failure) + ")";
    releaseCall();
    endAttempt(router::countsAsFailure(failure) ? router::Outcome::Failure : router::Outcome::Neutral, held->status,
               error);
    failure_ = std::move(held);
    failure_usage_ = usage;
    afterFailure(failure);
    return;
  }
  rec_.usage = usage;
  // An error answer too big to hold for a decision was relayed as it came: it still counts.
  const router::Failure failure = status_ >= 400 ? router::classifyStatus(status_, {}) : router::Failure::None;
  endAttempt(router::countsAsFailure(failure) ? router::Outcome::Failure
             : failure == router::Failure::None ? router::Outcome::Success
                                                : router::Outcome::Neutral,
             status_, {});
  if (stream_guard_) {
    stream_guard_->finish();  // what it still holds goes out, then streamFinished()
    return;
  }
  endAnswer();
}

void Exchange::endAnswer() {
  if (held_ && sse_head_held_) commitHeld();  // an event stream with no events
  if (priceAnswer()) return;                   // the cost hook prices it first, then releaseAnswer()
  releaseAnswer();
}

void Exchange::onCallError(CallErrorKind kind, std::string message) {
  if (done_) return;
  dropStreamGuard();  // what it held back stays unsent
  if (kind == CallErrorKind::Reset && worker_.config().server().mock_mode) {
    done_ = true;
    writer_.resetConnection();
    return;
  }
  const std::string provider = target_ != nullptr ? target_->provider->name() : api_.provider->name();
  const bool answered = target_ != nullptr && !attempts_.empty() && attempts_.back().status != 0;
  held_.reset();  // an unfinished answer is not relayed: the client gets a clean error instead
  sse_head_held_ = false;
  failing_ = false;
  if (!writer_.headSent()) {
    if (target_ != nullptr) {
      router::Failure failure = router::Failure::StatusFinal;
      switch (kind) {
        case CallErrorKind::Connect: failure = router::Failure::Connect; break;
        case CallErrorKind::Timeout: failure = router::Failure::Timeout; break;
        case CallErrorKind::Reset: failure = answered ? router::Failure::Protocol : router::Failure::Connect; break;
        case CallErrorKind::Protocol: failure = router::Failure::Protocol; break;
        case CallErrorKind::Overflow: failure = router::Failure::Connect; break;  // the provider's own queue is full
        case CallErrorKind::Internal: break;
      }
      // A full connection queue says nothing about the target's health.
      const router::Outcome outcome = kind == CallErrorKind::Overflow ? router::Outcome::Neutral
                                      : router::countsAsFailure(failure) ? router::Outcome::Failure
                                                                         : router::Outcome::Neutral;
      last_error_kind_ = kind;
      last_error_ = "provider '" + provider + "' failed: " + message;
      failure_.reset();
      releaseCall();
      endAttempt(outcome, 0, message);
      afterFailure(failure);
      return;
    }
    const int status = kind == CallErrorKind::Timeout ? 504 : kind == CallErrorKind::Overflow ? 503 : 502;
    sendError(status, "provider '" + provider + "' failed: " + message, "upstream_error");
    return;
  }
  done_ = true;
  notePartial("upstream_error", "provider '" + provider + "' failed mid-stream: " + message);
  if (target_ != nullptr) {
    endAttempt(kind == CallErrorKind::Timeout || kind == CallErrorKind::Reset || kind == CallErrorKind::Protocol
                   ? router::Outcome::Failure
                   : router::Outcome::Neutral,
               status_, message);
  }
  if (event_stream_) {
    // Bytes already reached the client: end the stream with an error event and a clean end.
    std::string event;
    http::appendSseEvent(event, http::openAiErrorBody("provider '" + provider + "' failed mid-stream: " + message,
                                                      "upstream_error"));
    writer_.writeBody(event);
    endCutStream();
  } else {
    // A partial fixed-length body cannot be finished honestly: drop the connection.
    settleCostNow();
    writer_.resetConnection();
  }
}

// The answer stops here: a clean error response when nothing went out yet, else an error
// event and a clean end of the stream. The provider did answer: its attempt counts as one.
void Exchange::blockAnswer() {
  const guardrails::BlockInfo block = guardrails_->blocked();
  releaseCall();
  if (target_ != nullptr) endAttempt(router::Outcome::Success, status_, {});
  held_.reset();
  sse_head_held_ = false;
  failing_ = false;
  if (!writer_.headSent()) {
    http::HeaderList extra;
    if (block.guardrail != nullptr) extra.add("x-aigw-guardrail", block.guardrail->name());
    sendError(block.status, block.message, block.type, block.code, {}, &extra);
    return;
  }
  done_ = true;
  std::string event;
  http::appendSseEvent(event, http::openAiErrorBody(block.message, block.type, block.code));
  writer_.writeBody(event);
  writer_.endResponse();
}

// After onClientGone the writer may already be freed (the call is deleted on the next idle
// turn, after timers have run): a finished exchange reports itself blocked so the call stops.
// While an answer is held nothing is written, so nothing can block.
bool Exchange::callBlocked() const {
  return done_ || (stream_guard_ && stream_guard_->full()) || (!held_ && writer_.writeBlocked());
}

}  // namespace aigw
