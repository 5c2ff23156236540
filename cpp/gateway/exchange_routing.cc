// The attempt loop of one routed request: pick a target (strategy, breaker, Retry-After,
// caps), call it, classify the failure, then retry, fall back or answer, all inside one
// deadline. See docs/routing.md for the semantics.
#include <algorithm>

#include "core/clock.h"
#include "core/json_text.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/during_checks.h"
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

void Exchange::beginRouting() {
  route_ = api_.route;
  captured_ = api_.captured;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  attempts_.reserve(2);
  switch (config().server().routing_summary) {
    case ServerSettings::RoutingSummary::Always: summary_ = true; break;
    case ServerSettings::RoutingSummary::Never: summary_ = false; break;
    case ServerSettings::RoutingSummary::Header:
      summary_ = truthy(request_.headers.find("x-aigw-routing-summary"));
      break;
  }
  if (route_->timeout_ms > 0) {
    deadline_ns_ = start_ns_ + route_->timeout_ms * 1000000ull;
    deadline_timer_ = std::make_unique<Timer>(worker_.loop().uv(), [this] { onDeadline(); });
    const uint64_t now = monotonicNs();
    deadline_timer_->start(deadline_ns_ > now ? (deadline_ns_ - now + 999999) / 1000000 : 0);
  }
  nextAttempt();
}

// What a pick looks at: the request (model, headers, the body's metadata when a condition
// reads it) and the targets this request saw fail.
router::PickInput Exchange::pickInput(uint64_t now) {
  router::PickInput in;
  in.model = api_.model;
  in.headers = &request_.headers;
  if (route_->needs_metadata && api_.json_object) {
    const nlohmann::json& body = api_.body.get();
    if (auto it = body.find("metadata"); it != body.end() && it->is_object()) in.metadata = &*it;
  }
  in.now_ns = now;
  in.rng = &worker_.callContext().rng;
  in.failed = &failed_;
  return in;
}

void Exchange::nextAttempt() {
  if (done_) return;
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
    const auto admitted = state.limit.acquire(worker_.loop(), [this] { onSlotGranted(); }, &waiter);
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

void Exchange::onSlotGranted() {
  waiter_.reset();
  slot_held_ = true;
  if (done_) {
    endAttempt(router::Outcome::Neutral, 0, {});
    return;
  }
  launch();
}

void Exchange::launch() {
  const router::Target& target = *target_;
  router::TargetState& state = *target.state;
  state.in_flight.fetch_add(1, std::memory_order_relaxed);
  state.attempts.fetch_add(1, std::memory_order_relaxed);
  ++route_attempts_;
  attempt_body_.clear();
  if (!target.transforms.empty() && api_.json_object) {
    nlohmann::json copy = api_.body.get();
    if (copy.is_object() && router::applyTransforms(target.transforms, copy)) {
      attempt_body_ = copy.dump();
      attempt_json_.reset(attempt_body_);
    }
  }
  Attempt& attempt = attempts_.emplace_back();
  attempt.target = &target;
  attempt.model = target.upstreamModel(api_.model, captured_);
  attempt.start_ns = monotonicNs();
  startCall(*target.provider, &target);
}

// Closes the books on the attempt in progress (or the slot wait before it).
void Exchange::endAttempt(router::Outcome outcome, int status, std::string_view error) {
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
  retry_slot_ = false;
}

void Exchange::afterFailure(router::Failure failure) {
  if (done_) return;
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
  if (!router::retryable(route.retry, failure) || request_.body_streamed) {
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
  retry_slot_ = true;
  route.retries.fetch_add(1, std::memory_order_relaxed);
  if (fallback) {
    nextAttempt();
    return;
  }
  waitThen(router::backoffMs(route.retry, route_attempts_, worker_.callContext().rng));
}

// Waits (backoff, Retry-After) and then starts the next attempt, unless the deadline comes first.
void Exchange::waitThen(uint64_t ms) {
  if (deadline_ns_ != 0 && monotonicNs() + ms * 1000000ull >= deadline_ns_) {
    giveUp();  // the wait alone would outlast the deadline
    return;
  }
  if (ms == 0) {
    nextAttempt();
    return;
  }
  if (!wait_timer_) wait_timer_ = std::make_unique<Timer>(worker_.loop().uv(), [this] { nextAttempt(); });
  wait_timer_->start(ms);
}

// No target of the route can take the request right now.
void Exchange::noTarget() {
  const router::Route& route = *route_;
  const uint64_t now = monotonicNs();
  if (retry_slot_) {
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
void Exchange::giveUp() {
  if (done_) return;
  retry_slot_ = false;
  if (failure_) {
    // The failure is the answer: usage it reported is counted (and priced) like any answer's.
    held_ = std::move(failure_);
    addRoutingHeaders(held_->headers, held_->status);
    status_ = held_->status;
    rec_.usage = failure_usage_;
    if (priceAnswer()) return;
    releaseAnswer();
    return;
  }
  const int status = last_error_kind_ == CallErrorKind::Timeout ? 504 : last_error_kind_ == CallErrorKind::Overflow ? 503 : 502;
  std::string message = last_error_;
  if (attempts_.size() > 1) message += " (" + std::to_string(attempts_.size()) + " attempts)";
  sendRoutingError(status, message, "upstream_error", {});
}

void Exchange::switchRoute(const router::Route* next) {
  route_->fallbacks.fetch_add(1, std::memory_order_relaxed);
  retry_slot_ = false;
  ++hops_;
  route_ = next;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  std::string_view captured = api_.model;
  if (next->pattern) router::globMatch(next->name, api_.model, &captured);
  captured_ = captured;
  route_attempts_ = 0;
  failed_.clear();
  nextAttempt();
}

void Exchange::onDeadline() {
  if (done_) return;
  // During checks still running time out first: their on_error may block (that is the answer).
  if (during_) {
    during_->expire();
    if (done_) return;
  }
  if (wait_timer_) wait_timer_->stop();
  const std::string message =
      "the request did not complete within its deadline of " + std::to_string(route_->timeout_ms) + " ms";
  releaseCall();
  dropStreamGuard();
  const bool launched = target_ != nullptr && !attempts_.empty() && attempts_.back().end_ns == 0 &&
                        attempts_.back().target == target_;
  endAttempt(launched ? router::Outcome::Failure : router::Outcome::Neutral, 0, launched ? "deadline exceeded" : "");
  held_.reset();
  sse_head_held_ = false;
  failing_ = false;
  if (writer_.headSent()) {
    done_ = true;
    notePartial("timeout_error", message);
    if (event_stream_) {
      std::string event;
      http::appendSseEvent(event, http::openAiErrorBody(message, "timeout_error", "deadline_exceeded"));
      writer_.writeBody(event);
      endCutStream();
    } else {
      settleCostNow();
      writer_.resetConnection();
    }
    return;
  }
  sendRoutingError(504, message, "timeout_error", "deadline_exceeded");
}

// Releases what the routing holds (slot, waiter, budget); safe to call more than once.
void Exchange::finishRouting() {
  if (route_ == nullptr) return;
  endAttempt(router::Outcome::Neutral, 0, {});
  retry_slot_ = false;
  route_ = nullptr;
  deadline_timer_.reset();
  wait_timer_.reset();
}

std::string Exchange::summaryJson() const {
  std::string out = "{\"route\":";
  appendJsonString(out, route_ != nullptr ? route_->name : api_.route->name);
  out += ",\"attempts\":";
  log::appendAttempts(out, attemptRecords(monotonicNs(), nullptr));  // the one answering is not over yet
  out += "}";
  return out;
}

// Adds "aigw_routing" to a JSON object body (anything else is returned as is).
std::string Exchange::withSummary(std::string body) const {
  const size_t open = body.find_first_not_of(" \t\r\n");
  const size_t close = body.find_last_not_of(" \t\r\n");
  if (open == std::string::npos || body[open] != '{' || body[close] != '}') return body;
  const size_t last = body.find_last_not_of(" \t\r\n", close - 1);
  std::string field = (last != std::string::npos && body[last] == '{') ? "" : ",";
  field += "\"aigw_routing\":" + summaryJson();
  body.insert(close, field);
  return body;
}

void Exchange::sendRoutingError(int status, std::string_view message, std::string_view type, std::string_view code,
                                int64_t retry_after_s) {
  if (done_) return;
  done_ = true;
  status_ = status;
  http::HeaderList h;
  addRoutingHeaders(h, status);
  h.add("content-type", "application/json");
  if (retry_after_s >= 0) h.add("retry-after", std::to_string(retry_after_s));
  std::string body = http::openAiErrorBody(message, type, code);
  if (wantsSummary()) body = withSummary(std::move(body));
  writer_.respond(status, h, body);
}

}  // namespace aigw
