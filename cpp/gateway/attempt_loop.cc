// The attempt loop's side of the provider call: starting it, holding an answer back while a
// failure could still be retried, and writing the answer it settles on into the response stages.
#include "gateway/attempt_loop.h"

#include "core/clock.h"
#include "core/echo.h"
#include "gateway/config.h"
#include "http/response.h"
#include "http/sse.h"

namespace aigw {

AttemptLoop::AttemptLoop(const AttemptRequest& req)
    : req_(req), routes_(req.api, req.http, req.calls.rng), summary_(summaryAsked()) {}

AttemptLoop::~AttemptLoop() { finishRouting(); }

void AttemptLoop::start(ResponseStage& out) {
  out_ = &out;
  if (req_.api.route != nullptr) {
    beginRouting();
    return;
  }
  startCall(*req_.api.provider, nullptr);
}

void AttemptLoop::clientGone() {
  finished_ = true;
  releaseCall();
  finishRouting();
}

void AttemptLoop::onRequestBody(std::string_view data) {
  if (finished_) return;
  if (call_) {
    call_->onRequestBody(data);
    return;
  }
  // No call can take it yet (a slot wait, a backoff): hold a bounded amount.
  if (req_.pending.hold(data)) out_->pauseRequestBody();
}

void AttemptLoop::onRequestEnd() {
  if (finished_) return;
  if (call_) {
    call_->onRequestEnd();
  } else {
    req_.pending.ended = true;
  }
}

void AttemptLoop::pauseRequestBody(bool pause) {
  if (finished_) return;
  if (pause) {
    out_->pauseRequestBody();
  } else {
    out_->resumeRequestBody();
  }
}

void AttemptLoop::releaseCall() {
  // The call may be on the stack below us (we can be inside one of its callbacks).
  if (call_) req_.loop.deferredDelete(std::move(call_));
}

// Starts one provider call. It may answer (or fail) before start() returns: the zero-latency
// mock does, and a failure may already have led to the next attempt.
void AttemptLoop::startCall(const Provider& provider, const router::Target* target) {
  const ApiCall& api = req_.api;
  const bool transformed = target != nullptr && !routes_.attemptBody().empty();
  // A routed attempt goes to the upstream model launch() recorded for it.
  const std::string_view model = target != nullptr ? std::string_view(routes_.last()->model) : std::string_view(api.model);
  CallRequest call{api.endpoint,
                   req_.http,
                   transformed ? std::string_view(routes_.attemptBody()) : std::string_view(req_.http.body),
                   transformed ? routes_.attemptJson() : api.body,
                   api.json_object,
                   api.model,
                   model,
                   api.stream,
                   req_.id,
                   api.path_suffix,
                   req_.http.body_streamed};
  if (target != nullptr) {
    call.connect_timeout_ms = target->timeouts.connect_ms;
    call.first_byte_timeout_ms = target->timeouts.first_byte_ms;
    call.idle_timeout_ms = target->timeouts.idle_ms;
  }
  const std::vector<RouteAttempts::Attempt>& attempts = routes_.attempts();
  const size_t attempt = attempts.size();  // launch() recorded this attempt already
  req_.record.usage = CallUsage{};          // usage is the answering attempt's
  ProviderCallPtr started = provider.start(req_.calls, call, *this);
  if (finished_ || (target != nullptr && (attempts.size() != attempt || attempts.back().end_ns != 0))) {
    // Answered (or failed) synchronously: nothing more will come from this call.
    if (started) req_.loop.deferredDelete(std::move(started));
    return;
  }
  call_ = std::move(started);
  if (req_.http.body_streamed && call_) {
    PendingBody& pending = req_.pending;
    if (!pending.bytes.empty()) {
      std::string early;
      early.swap(pending.bytes);
      call_->onRequestBody(early);
      out_->resumeRequestBody();
    }
    if (pending.ended && call_) call_->onRequestEnd();
  }
}

void AttemptLoop::addRoutingHeaders(http::HeaderList& headers, int status) const {
  headers.add("x-aigw-request-id", req_.id);
  if (const router::Route* route = routes_.route()) {
    // A route that retries has spent what retrying could do; an SDK that retried the answer
    // again would multiply the attempts (3 SDK tries x 3 of ours reached an upstream 9 times).
    // The official SDKs obey x-should-retry before their own status rules.
    const bool sdk_would_retry = status == 408 || status == 409 || status == 429 || status >= 500;
    if (sdk_would_retry && route->retry.attempts > 1 && !route->retry.client_retries) {
      headers.set("x-should-retry", "false");
    }
    const std::vector<RouteAttempts::Attempt>& attempts = routes_.attempts();
    if (!attempts.empty()) {
      headers.add("x-aigw-provider", attempts.back().target->provider->name());
      headers.add("x-aigw-model", echoedHeaderValue(attempts.back().model));
    }
    headers.add("x-aigw-attempts", std::to_string(attempts.size()));
  } else if (req_.api.provider != nullptr) {
    headers.add("x-aigw-provider", req_.api.provider->name());
    if (!req_.api.model.empty()) headers.add("x-aigw-model", echoedHeaderValue(req_.api.model));
  }
}

void AttemptLoop::onCallHead(int status, http::HeaderList headers, int64_t content_length) {
  if (finished_) return;
  status_ = status;
  const router::Target* target = routes_.target();
  RouteAttempts::Attempt* last = routes_.last();
  if (target != nullptr && last != nullptr) {
    last->status = status;
    if (status < 400) target->state->recordTtfb((monotonicNs() - last->start_ns) / 1000);
  }
  event_stream_ = http::isEventStream(headers);
  out_->onEvent(AnswerEvent::Restart);  // a new attempt answers: the stages drop the last one's
  const bool has_body = status >= 200 && status != 204 && status != 304 && req_.http.method != "HEAD";
  if (status >= 400 && target != nullptr) {
    // A failed attempt: held whole, to be retried, routed elsewhere or relayed.
    failing_ = true;
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}});
    return;
  }
  addRoutingHeaders(headers, status);
  // (Serving as a mock upstream there is nothing to retry, and a test of a stall before the
  // first event needs the head to go out.)
  if (event_stream_ && has_body && target != nullptr && !req_.server.mock_mode) {
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
  req_.record.relayed = true;
  out_->writeHead(status, headers, content_length);
}

// Commits to the held answer: its head (and what arrived so far) goes out; the rest follows.
void AttemptLoop::commitHeld() {
  std::unique_ptr<HeldResponse> held = std::move(held_);
  if (failing_) {
    // Too big to hold for a retry decision: this failure is the answer.
    failing_ = false;
    addRoutingHeaders(held->headers, held->status);
  }
  sse_head_held_ = false;
  req_.record.relayed = true;
  out_->writeHead(held->status, held->headers, held->content_length);
  if (!held->body.empty()) out_->writeBody(held->body);
}

void AttemptLoop::onCallBody(std::string_view data) {
  if (finished_) return;
  relayBody(data);
}

void AttemptLoop::relayBody(std::string_view data) {
  if (held_) {
    if (sse_head_held_) {
      commitHeld();
      out_->writeBody(data);
      return;
    }
    held_->body.append(data);
    if (held_->body.size() > kMaxHeldBody) commitHeld();  // too big to hold: relay the rest as it comes
    return;
  }
  out_->writeBody(data);
}

void AttemptLoop::respondHeld(std::unique_ptr<HeldResponse> held) {
  finished_ = true;
  status_ = held->status;
  req_.record.relayed = true;
  out_->respond(held->status, held->headers, held->body);
}

void AttemptLoop::onCallUsage(const CallUsage& usage) {
  if (!finished_) req_.record.usage = usage;
}

void AttemptLoop::onCallEnd(const CallUsage& usage) {
  if (finished_) return;
  if (failing_) {
    failing_ = false;
    std::unique_ptr<HeldResponse> held = std::move(held_);
    const router::Failure failure = router::classifyStatus(held->status, held->body);
    // Retry-After keeps every request off the target for a while, where this route retries it.
    const router::Route& route = *routes_.route();
    const std::string* after = held->headers.find("retry-after");
    if (after != nullptr && route.retry.attempts > 1 && router::retryable(route.retry, failure)) {
      const int64_t ms = router::parseRetryAfterMs(*after, wallMs());
      if (ms > 0) {
        const uint64_t wait = std::min<uint64_t>(static_cast<uint64_t>(ms), route.retry.max_retry_after_ms);
        routes_.target()->state->not_before_ns.store(monotonicNs() + wait * 1000000ull, std::memory_order_relaxed);
      }
    }
    const std::string error = "upstream answered " + std::to_string(held->status) + " (" + router::failureName(failure) + ")";
    releaseCall();
    routes_.end(router::countsAsFailure(failure) ? router::Outcome::Failure : router::Outcome::Neutral, held->status,
                error);
    failure_ = std::move(held);
    failure_usage_ = usage;
    follow(routes_.afterFailure(failure));
    return;
  }
  req_.record.usage = usage;
  // An error answer too big to hold for a decision was relayed as it came: it still counts.
  const router::Failure failure = status_ >= 400 ? router::classifyStatus(status_, {}) : router::Failure::None;
  routes_.end(router::countsAsFailure(failure) ? router::Outcome::Failure
              : failure == router::Failure::None ? router::Outcome::Success
                                                 : router::Outcome::Neutral,
              status_, {});
  if (held_ && sse_head_held_) commitHeld();  // an event stream with no events
  if (held_) {
    respondHeld(std::move(held_));
    return;
  }
  finished_ = true;
  out_->endResponse();
}

void AttemptLoop::dropAnswer() {
  held_.reset();
  sse_head_held_ = false;
  failing_ = false;
  out_->onEvent(AnswerEvent::Restart);
}

void AttemptLoop::cutAnswer(std::string_view type, std::string_view message, std::string_view code) {
  finished_ = true;
  req_.record.notePartial(type, message);
  if (event_stream_) {
    // Bytes already reached the client: end the stream with an error event and a clean end.
    std::string event;
    http::appendSseEvent(event, http::openAiErrorBody(message, type, code));
    out_->writeBody(event);
    out_->endResponse();
  } else {
    // A partial fixed-length body cannot be finished honestly: drop the connection.
    out_->resetConnection();
  }
}

void AttemptLoop::onCallError(CallErrorKind kind, std::string message) {
  if (finished_) return;
  out_->onEvent(AnswerEvent::Restart);  // what a stage held back of this attempt stays unsent
  if (kind == CallErrorKind::Reset && req_.server.mock_mode) {
    finished_ = true;
    out_->resetConnection();
    return;
  }
  const router::Target* target = routes_.target();
  const std::string provider = target != nullptr ? target->provider->name() : req_.api.provider->name();
  const bool answered = target != nullptr && routes_.last() != nullptr && routes_.last()->status != 0;
  held_.reset();  // an unfinished answer is not relayed: the client gets a clean error instead
  sse_head_held_ = false;
  failing_ = false;
  if (!out_->headSent()) {
    if (target != nullptr) {
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
      routes_.end(outcome, 0, message);
      follow(routes_.afterFailure(failure));
      return;
    }
    const int status = kind == CallErrorKind::Timeout ? 504 : kind == CallErrorKind::Overflow ? 503 : 502;
    sendRoutingError(status, "provider '" + provider + "' failed: " + message, "upstream_error", {});
    return;
  }
  routes_.end(kind == CallErrorKind::Timeout || kind == CallErrorKind::Reset || kind == CallErrorKind::Protocol
                  ? router::Outcome::Failure
                  : router::Outcome::Neutral,
              status_, message);
  cutAnswer("upstream_error", "provider '" + provider + "' failed mid-stream: " + message, {});
}

// After the client left the writer may already be freed (the call is deleted on the next idle
// turn, after timers have run): a finished loop reports itself blocked so the call stops.
// While an answer is held nothing is written, so nothing can block.
bool AttemptLoop::callBlocked() const { return finished_ || (!held_ && out_->writeBlocked()); }

void AttemptLoop::resumeAnswer() {
  if (!finished_ && call_ && !callBlocked()) call_->resume();
}

void AttemptLoop::stopAnswer() {
  // The provider did answer: its attempt counts as one.
  releaseCall();
  routes_.end(router::Outcome::Success, status_, {});
  held_.reset();
  sse_head_held_ = false;
  failing_ = false;
  finished_ = true;
  req_.record.blocked = true;
}

bool AttemptLoop::abandonAnswer(std::string_view why) {
  const bool in_flight = call_ != nullptr && !finished_;
  if (call_) releaseCall();
  out_->onEvent(AnswerEvent::Restart);
  routes_.end(router::Outcome::Neutral, 0, in_flight ? why : std::string_view());
  if (wait_timer_) wait_timer_->stop();
  held_.reset();
  failure_.reset();
  sse_head_held_ = false;
  failing_ = false;
  finished_ = true;
  return in_flight;
}

void AttemptLoop::answerComplete() {
  if (deadline_timer_) deadline_timer_->stop();
}

// The model the answer came from (x-aigw-model), and who answered. Only routed requests have
// attempts; the last one answered (its route may be released already: the client left).
void AttemptLoop::answeredBy(std::string_view* model, const Provider** provider) const {
  *model = req_.api.model;
  *provider = req_.api.provider;
  if (!routes_.attempts().empty()) {
    *model = routes_.attempts().back().model;
    *provider = routes_.attempts().back().target->provider;
  }
}

}  // namespace aigw
