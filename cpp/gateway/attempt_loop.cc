// The attempt loop's side of the provider call: starting it, and deciding what each attempt's
// outcome leads to (the relay holds and writes the answer).
#include "gateway/attempt_loop.h"

#include "core/clock.h"
#include "gateway/config.h"
#include "providers/local_answer.h"

namespace aigw {

AttemptLoop::AttemptLoop(const AttemptRequest& req)
    : req_(req),
      routes_(req.api, req.http, req.calls.rng),
      relay_(routes_, req.http, req.id, req.server, req.record, *this) {}

AttemptLoop::~AttemptLoop() { finishRouting(); }

void AttemptLoop::start(ResponseStage& out) {
  out_ = &out;
  relay_.start(out);
  if (req_.api.route == nullptr) {
    startCall(*req_.api.provider, nullptr);
    return;
  }
  routes_.begin();
  const router::Route& route = *routes_.route();
  if (route.timeout_ms > 0) {
    deadline_ns_ = req_.start_ns + route.timeout_ms * 1000000ull;
    deadline_timer_ = std::make_unique<Timer>(req_.loop.uv(), [this] { onDeadline(); });
    const uint64_t now = monotonicNs();
    deadline_timer_->start(deadline_ns_ > now ? (deadline_ns_ - now + 999999) / 1000000 : 0);
  }
  nextAttempt();
}

void AttemptLoop::clientGone() {
  relay_.stop();
  releaseCall();
  finishRouting();
}

void AttemptLoop::onRequestBody(std::string_view data) {
  if (relay_.finished()) return;
  if (call_) {
    call_->onRequestBody(data);
    return;
  }
  // No call can take it yet (a slot wait, a backoff): hold a bounded amount.
  if (req_.pending.hold(data)) out_->pauseRequestBody();
}

void AttemptLoop::onRequestEnd() {
  if (relay_.finished()) return;
  if (call_) {
    call_->onRequestEnd();
  } else {
    req_.pending.ended = true;
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
  // Same API both ends (an Anthropic client, an Anthropic provider): the client's own bytes go,
  // and its answer comes back untranslated, unless a stage rewrote the request (native_body is
  // then gone) or a transform applies (transforms speak OpenAI's field names).
  const bool native = api.client != ApiShape::OpenAi && !api.native_body.empty() && !transformed &&
                      provider.nativeShape() == api.client;
  relay_.setShape(native ? api.client : ApiShape::OpenAi);
  if (!native && !api.refusal.empty()) {
    // The OpenAI-shaped reading of the request lost a field: this attempt refuses rather than
    // send less than the client asked for.
    req_.record.usage = CallUsage{};
    answerNow(relay_, 400, refusalBody(api.refusal, api.refusal_field));
    return;
  }
  std::string_view text = transformed ? std::string_view(routes_.attemptBody()) : std::string_view(req_.http.body);
  if (native) text = api.native_body;
  CallRequest call{api.endpoint,
                   req_.http,
                   text,
                   transformed ? routes_.attemptJson() : api.body,
                   api.json_object,
                   api.model,
                   model,
                   api.stream,
                   req_.id,
                   api.path_suffix,
                   req_.http.body_streamed};
  call.shape = native ? api.client : ApiShape::OpenAi;
  if (const router::Route* route = currentRoute(); route != nullptr) call.drop_params = &route->drop_params;
  if (target != nullptr) {
    call.connect_timeout_ms = target->timeouts.connect_ms;
    call.first_byte_timeout_ms = target->timeouts.first_byte_ms;
    call.idle_timeout_ms = target->timeouts.idle_ms;
  }
  const std::vector<RouteAttempts::Attempt>& attempts = routes_.attempts();
  const size_t attempt = attempts.size();  // launch() recorded this attempt already
  req_.record.usage = CallUsage{};          // usage is the answering attempt's
  ProviderCallPtr started = provider.start(req_.calls, call, relay_);
  if (relay_.finished() || (target != nullptr && (attempts.size() != attempt || attempts.back().end_ns != 0))) {
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

void AttemptLoop::attemptAnswered(int status) {
  const router::Target* target = routes_.target();
  RouteAttempts::Attempt* last = routes_.last();
  if (target != nullptr && last != nullptr) {
    last->status = status;
    if (status < 400) target->state->recordTtfb((monotonicNs() - last->start_ns) / 1000);
  }
}

void AttemptLoop::attemptFailed(std::unique_ptr<HeldResponse> held, const CallUsage& usage) {
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
}

void AttemptLoop::attemptEnded(int status) {
  // An error answer too big to hold for a decision was relayed as it came: it still counts.
  const router::Failure failure = status >= 400 ? router::classifyStatus(status, {}) : router::Failure::None;
  routes_.end(router::countsAsFailure(failure) ? router::Outcome::Failure
              : failure == router::Failure::None ? router::Outcome::Success
                                                 : router::Outcome::Neutral,
              status, {});
}

void AttemptLoop::attemptErrored(CallErrorKind kind, const std::string& message, bool head_sent) {
  const router::Target* target = routes_.target();
  const std::string provider = target != nullptr ? target->provider->name() : req_.api.provider->name();
  if (head_sent) {
    routes_.end(kind == CallErrorKind::Timeout || kind == CallErrorKind::Reset || kind == CallErrorKind::Protocol
                    ? router::Outcome::Failure
                    : router::Outcome::Neutral,
                relay_.status(), message);
    relay_.cut("upstream_error", "provider '" + provider + "' failed mid-stream: " + message, {});
    return;
  }
  if (target == nullptr) {
    const int status = kind == CallErrorKind::Timeout ? 504 : kind == CallErrorKind::Overflow ? 503 : 502;
    relay_.sendError(status, "provider '" + provider + "' failed: " + message, "upstream_error", {});
    return;
  }
  const bool answered = routes_.last() != nullptr && routes_.attempts().back().status != 0;
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
}

void AttemptLoop::resumeAnswer() {
  if (call_ && !relay_.callBlocked()) call_->resume();
}

void AttemptLoop::stopAnswer() {
  // The provider did answer: its attempt counts as one.
  releaseCall();
  routes_.end(router::Outcome::Success, relay_.status(), {});
  relay_.stop();
  req_.record.blocked = true;
}

bool AttemptLoop::abandonAnswer(std::string_view why) {
  const bool in_flight = call_ != nullptr && !relay_.finished();
  if (call_) releaseCall();
  out_->onEvent(AnswerEvent::Restart);
  routes_.end(router::Outcome::Neutral, 0, in_flight ? why : std::string_view());
  if (wait_timer_) wait_timer_->stop();
  relay_.stop();
  failure_.reset();
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
