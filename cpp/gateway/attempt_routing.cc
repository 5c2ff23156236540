// The attempt loop of one routed request: pick a target (strategy, breaker, Retry-After,
// caps), call it, classify the failure, then retry, fall back or answer, all inside one
// deadline. See docs/routing.md for the semantics.
#include <algorithm>

#include "core/clock.h"
#include "core/json_text.h"
#include "gateway/config.h"
#include "gateway/attempt_loop.h"
#include "http/response.h"
#include "http/sse.h"
#include "log/request_record.h"
#include "router/glob.h"

namespace aigw {
namespace {

bool contains(const std::vector<const router::Target*>& list, const router::Target* t) {
  return std::find(list.begin(), list.end(), t) != list.end();
}

bool truthy(const std::string* value) {
  return value != nullptr && (*value == "1" || *value == "true" || *value == "yes" || *value == "on");
}

}  // namespace

bool AttemptLoop::summaryAsked() const {
  if (req_.api.route == nullptr) return false;
  switch (req_.server.routing_summary) {
    case ServerSettings::RoutingSummary::Always: return true;
    case ServerSettings::RoutingSummary::Never: return false;
    case ServerSettings::RoutingSummary::Header: return truthy(req_.http.headers.find("x-aigw-routing-summary"));
  }
  return false;
}

void AttemptLoop::beginRouting() {
  route_ = req_.api.route;
  captured_ = req_.api.captured;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  attempts_.reserve(2);
  if (route_->timeout_ms > 0) {
    deadline_ns_ = req_.start_ns + route_->timeout_ms * 1000000ull;
    deadline_timer_ = std::make_unique<Timer>(req_.loop.uv(), [this] { onDeadline(); });
    const uint64_t now = monotonicNs();
    deadline_timer_->start(deadline_ns_ > now ? (deadline_ns_ - now + 999999) / 1000000 : 0);
  }
  nextAttempt();
}

// What a pick looks at: the request (model, headers, the body's metadata when a condition
// reads it) and the targets this request saw fail.
router::PickInput AttemptLoop::pickInput(uint64_t now) {
  router::PickInput in;
  in.model = req_.api.model;
  in.headers = &req_.http.headers;
  if (route_->needs_metadata && req_.api.json_object) {
    const nlohmann::json& body = req_.api.body.get();
    if (auto it = body.find("metadata"); it != body.end() && it->is_object()) in.metadata = &*it;
  }
  in.now_ns = now;
  in.rng = &req_.calls.rng;
  in.failed = &failed_;
  return in;
}

void AttemptLoop::nextAttempt() {
  if (finished_) return;
  const router::Route& route = *route_;
  skip_.clear();
  for (;;) {
    const uint64_t now = monotonicNs();
    router::PickInput in = pickInput(now);
    in.skip = &skip_;
    const router::Target* target = router::pick(route, in);
    if (target == nullptr) {
      noTarget();
      return;
    }
    router::TargetState& state = *target->state;
    bool probe = false;
    if (!state.breaker.admit(now, &probe)) {
      skip_.push_back(target);  // another request took the half-open probe
      continue;
    }
    router::ConcurrencyLimit::WaiterPtr waiter;
    const auto admitted = state.limit.acquire(req_.loop, [this] { onSlotGranted(); }, &waiter);
    if (admitted == router::ConcurrencyLimit::Result::Rejected) {
      if (probe) state.breaker.record(router::Outcome::Neutral, true, now);
      state.cap_rejections.fetch_add(1, std::memory_order_relaxed);
      skip_.push_back(target);
      continue;
    }
    target_ = target;
    probe_ = probe;
    if (admitted == router::ConcurrencyLimit::Result::Queued) {
      waiter_ = std::move(waiter);  // the deadline still runs while it waits
      return;
    }
    slot_held_ = true;
    launch();
    return;
  }
}

void AttemptLoop::onSlotGranted() {
  waiter_.reset();
  slot_held_ = true;
  if (finished_) {
    endAttempt(router::Outcome::Neutral, 0, {});
    return;
  }
  launch();
}

void AttemptLoop::launch() {
  const router::Target& target = *target_;
  router::TargetState& state = *target.state;
  state.in_flight.fetch_add(1, std::memory_order_relaxed);
  state.attempts.fetch_add(1, std::memory_order_relaxed);
  ++route_attempts_;
  attempt_body_.clear();
  if (!target.transforms.empty() && req_.api.json_object) {
    nlohmann::json copy = req_.api.body.get();
    if (copy.is_object() && router::applyTransforms(target.transforms, copy)) {
      attempt_body_ = copy.dump();
      attempt_json_.reset(attempt_body_);
    }
  }
  Attempt& attempt = attempts_.emplace_back();
  attempt.target = &target;
  attempt.model = target.upstreamModel(req_.api.model, captured_);
  attempt.start_ns = monotonicNs();
  startCall(*target.provider, &target);
}

// Closes the books on the attempt in progress (or the slot wait before it).
void AttemptLoop::endAttempt(router::Outcome outcome, int status, std::string_view error) {
  if (target_ == nullptr) return;
  const router::Target* target = target_;
  target_ = nullptr;
  router::TargetState& state = *target->state;
  const uint64_t now = monotonicNs();
  if (waiter_) {
    state.limit.cancel(waiter_);
    waiter_.reset();
  }
  const bool launched = !attempts_.empty() && attempts_.back().target == target && attempts_.back().end_ns == 0;
  if (launched) {
    state.in_flight.fetch_sub(1, std::memory_order_relaxed);
    Attempt& attempt = attempts_.back();
    attempt.end_ns = now;
    if (status != 0) attempt.status = status;
    attempt.error.assign(error);
  }
  if (slot_held_) {
    slot_held_ = false;
    state.limit.release();
  }
  state.breaker.record(outcome, probe_, now);
  probe_ = false;
  if (outcome == router::Outcome::Failure) state.failures.fetch_add(1, std::memory_order_relaxed);
  if (!error.empty()) state.setLastError(std::string(error), wallMs());
  retrying_ = false;
}

void AttemptLoop::afterFailure(router::Failure failure) {
  if (finished_) return;
  const router::Route& route = *route_;
  const router::Target* failed = attempts_.empty() ? nullptr : attempts_.back().target;
  if (failure == router::Failure::ContextWindow || failure == router::Failure::ContentPolicy) {
    const router::Route* next = failure == router::Failure::ContextWindow ? route.fallback_context_window
                                                                          : route.fallback_content_policy;
    if (next != nullptr && hops_ < kMaxRouteHops) {
      switchRoute(next);
      return;
    }
    giveUp();
    return;
  }
  if (!router::retryable(route.retry, failure) || req_.http.body_streamed) {
    giveUp();
    return;
  }
  if (failed != nullptr && !contains(failed_, failed)) failed_.push_back(failed);
  if (route_attempts_ >= route.retry.attempts) {
    if (route.fallback_unavailable != nullptr && hops_ < kMaxRouteHops) {
      switchRoute(route.fallback_unavailable);
      return;
    }
    giveUp();
    return;
  }
  // Straight on to a target this request has not seen fail; back off before going back to one.
  // Moving on is a fallback: it adds nothing to the load of the target that failed, so only
  // going back (a retry proper) spends the retry budget.
  const uint64_t now = monotonicNs();
  const router::Target* next = router::pick(route, pickInput(now));
  const bool fallback = next != nullptr && !contains(failed_, next);
  if (!fallback && !route.budget.tryStartRetry(route.retry, now)) {
    route.retries_budget_denied.fetch_add(1, std::memory_order_relaxed);
    giveUp();
    return;
  }
  retrying_ = true;
  route.retries.fetch_add(1, std::memory_order_relaxed);
  if (fallback) {
    nextAttempt();
    return;
  }
  waitThen(router::backoffMs(route.retry, route_attempts_, req_.calls.rng));
}

// Waits (backoff, Retry-After) and then starts the next attempt, unless the deadline comes first.
void AttemptLoop::waitThen(uint64_t ms) {
  if (deadline_ns_ != 0 && monotonicNs() + ms * 1000000ull >= deadline_ns_) {
    giveUp();  // the wait alone would outlast the deadline
    return;
  }
  if (ms == 0) {
    nextAttempt();
    return;
  }
  if (!wait_timer_) wait_timer_ = std::make_unique<Timer>(req_.loop.uv(), [this] { nextAttempt(); });
  wait_timer_->start(ms);
}

// No target of the route can take the request right now.
void AttemptLoop::noTarget() {
  const router::Route& route = *route_;
  const uint64_t now = monotonicNs();
  if (retrying_) {
    // A retry whose targets are all rate-limited (Retry-After): wait for the first to come back.
    uint64_t earliest = 0;
    for (const auto& t : route.targets) {
      const uint64_t nb = t->state->not_before_ns.load(std::memory_order_relaxed);
      if (nb > now && t->state->breaker.available(now) && (earliest == 0 || nb < earliest)) earliest = nb;
    }
    if (earliest != 0) {
      waitThen((earliest - now + 999999) / 1000000);
      return;
    }
  }
  if (route.fallback_unavailable != nullptr && hops_ < kMaxRouteHops) {
    switchRoute(route.fallback_unavailable);
    return;
  }
  route.unavailable.fetch_add(1, std::memory_order_relaxed);
  if (failure_ || !last_error_.empty()) {
    giveUp();
    return;
  }
  // Tell the client when the first target may be back. When every target is only waiting out
  // a provider's Retry-After, the answer is the provider's own: 429.
  uint64_t back_ns = 0;
  bool rate_limited_only = true;
  for (const auto& t : route.targets) {
    const auto snap = t->state->breaker.snapshot(now);
    const uint64_t not_before = t->state->not_before_ns.load(std::memory_order_relaxed);
    uint64_t at = snap.state == router::BreakerState::Open ? now + snap.ejected_for_ms * 1000000ull : 0;
    if (not_before <= now || at > 0) rate_limited_only = false;
    at = std::max(at, not_before);
    if (at > now && (back_ns == 0 || at < back_ns)) back_ns = at;
  }
  const int64_t retry_after = back_ns == 0 ? -1 : static_cast<int64_t>((back_ns - now + 999999999) / 1000000000);
  const std::string message =
      "no target of route '" + route.name + "' can take the request now: " + router::unavailableReason(route, now);
  if (rate_limited_only) {
    sendRoutingError(429, message, "rate_limit_error", "rate_limit_exceeded", retry_after);
  } else {
    sendRoutingError(503, message, "service_unavailable_error", "no_available_target", retry_after);
  }
}

// Out of options: the last failure is the answer.
void AttemptLoop::giveUp() {
  if (finished_) return;
  retrying_ = false;
  if (failure_) {
    // The failure is the answer: usage it reported is counted (and priced) like any answer's.
    std::unique_ptr<HeldResponse> failure = std::move(failure_);
    addRoutingHeaders(failure->headers, failure->status);
    req_.record.usage = failure_usage_;
    respondHeld(std::move(failure));
    return;
  }
  const int status = last_error_kind_ == CallErrorKind::Timeout ? 504 : last_error_kind_ == CallErrorKind::Overflow ? 503 : 502;
  std::string message = last_error_;
  if (attempts_.size() > 1) message += " (" + std::to_string(attempts_.size()) + " attempts)";
  sendRoutingError(status, message, "upstream_error", {});
}

void AttemptLoop::switchRoute(const router::Route* next) {
  route_->fallbacks.fetch_add(1, std::memory_order_relaxed);
  retrying_ = false;
  ++hops_;
  route_ = next;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  std::string_view captured = req_.api.model;
  if (next->pattern) router::globMatch(next->name, req_.api.model, &captured);
  captured_ = captured;
  route_attempts_ = 0;
  failed_.clear();
  nextAttempt();
}

void AttemptLoop::onDeadline() {
  if (req_.record.ended) return;
  // Work the deadline bounds downstream ends first: during checks still running time out, and
  // their on_error may block (that is the answer then).
  out_->onEvent(AnswerEvent::Deadline);
  if (req_.record.ended) return;
  if (wait_timer_) wait_timer_->stop();
  const std::string message =
      "the request did not complete within its deadline of " + std::to_string(route_->timeout_ms) + " ms";
  releaseCall();
  const bool launched = target_ != nullptr && !attempts_.empty() && attempts_.back().end_ns == 0 &&
                        attempts_.back().target == target_;
  endAttempt(launched ? router::Outcome::Failure : router::Outcome::Neutral, 0, launched ? "deadline exceeded" : "");
  dropAnswer();
  if (out_->headSent()) {
    cutAnswer("timeout_error", message, "deadline_exceeded");
    return;
  }
  sendRoutingError(504, message, "timeout_error", "deadline_exceeded");
}

// Releases what the routing holds (slot, waiter, budget); safe to call more than once.
void AttemptLoop::finishRouting() {
  if (route_ == nullptr) return;
  endAttempt(router::Outcome::Neutral, 0, {});
  retrying_ = false;
  route_ = nullptr;
  deadline_timer_.reset();
  wait_timer_.reset();
}

std::string AttemptLoop::summaryJson() const {
  std::string out = "{\"route\":";
  appendJsonString(out, currentRoute()->name);
  out += ",\"attempts\":";
  log::appendAttempts(out, attemptRecords(monotonicNs(), nullptr));  // the one answering is not over yet
  out += "}";
  return out;
}

void AttemptLoop::sendRoutingError(int status, std::string_view message, std::string_view type, std::string_view code,
                                int64_t retry_after_s) {
  if (req_.record.ended) return;
  finished_ = true;
  status_ = status;
  req_.record.relayed = false;
  req_.record.noteError(type, message);  // the record needs no parse of the body we make here
  http::HeaderList h;
  addRoutingHeaders(h, status);
  h.add("content-type", "application/json");
  if (retry_after_s >= 0) h.add("retry-after", std::to_string(retry_after_s));
  out_->respond(status, h, http::openAiErrorBody(message, type, code));
}

}  // namespace aigw
