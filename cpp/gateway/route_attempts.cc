#include "gateway/route_attempts.h"

#include <algorithm>

#include "core/clock.h"
#include "core/echo.h"
#include "core/glob.h"

namespace aigw {
namespace {

bool contains(const std::vector<const router::Target*>& list, const router::Target* t) {
  return std::find(list.begin(), list.end(), t) != list.end();
}

RouteAttempts::Step next() { return {RouteAttempts::Step::Kind::Next}; }
RouteAttempts::Step giveUp() { return {RouteAttempts::Step::Kind::GiveUp}; }
RouteAttempts::Step waitMs(uint64_t ms) {
  RouteAttempts::Step s{RouteAttempts::Step::Kind::Wait};
  s.wait_ms = ms;
  return s;
}

}  // namespace

void RouteAttempts::begin() {
  route_ = api_.route;
  captured_ = api_.captured;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  attempts_.reserve(2);
}

// What a pick looks at: the request (model, headers, the body's metadata when a condition
// reads it) and the targets this request saw fail.
router::PickInput RouteAttempts::pickInput(uint64_t now) {
  router::PickInput in;
  in.model = api_.model;
  in.headers = &http_.headers;
  if (route_->needs_metadata && api_.json_object) {
    const nlohmann::json& body = api_.body.get();
    if (auto it = body.find("metadata"); it != body.end() && it->is_object()) in.metadata = &*it;
  }
  in.now_ns = now;
  in.rng = &rng_;
  in.failed = &failed_;
  return in;
}

RouteAttempts::Pick RouteAttempts::pick(EventLoop& loop, std::function<void()> on_slot) {
  const router::Route& route = *route_;
  skip_.clear();
  for (;;) {
    const uint64_t now = monotonicNs();
    router::PickInput in = pickInput(now);
    in.skip = &skip_;
    const router::Target* target = router::pick(route, in);
    if (target == nullptr) return Pick::None;
    router::TargetState& state = *target->state;
    bool probe = false;
    if (!state.breaker.admit(now, &probe)) {
      skip_.push_back(target);  // another request took the half-open probe
      continue;
    }
    router::ConcurrencyLimit::WaiterPtr waiter;
    const auto admitted = state.limit.acquire(loop, on_slot, &waiter);
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
      return Pick::Queued;
    }
    slot_held_ = true;
    return Pick::Launch;
  }
}

void RouteAttempts::slotGranted() {
  waiter_.reset();
  slot_held_ = true;
}

const router::Target& RouteAttempts::launch() {
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
  return target;
}

bool RouteAttempts::launched() const {
  return target_ != nullptr && !attempts_.empty() && attempts_.back().end_ns == 0 && attempts_.back().target == target_;
}

void RouteAttempts::end(router::Outcome outcome, int status, std::string_view error) {
  if (target_ == nullptr) return;
  const router::Target* target = target_;
  target_ = nullptr;
  router::TargetState& state = *target->state;
  const uint64_t now = monotonicNs();
  if (waiter_) {
    state.limit.cancel(waiter_);
    waiter_.reset();
  }
  const bool started = !attempts_.empty() && attempts_.back().target == target && attempts_.back().end_ns == 0;
  if (started) {
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

RouteAttempts::Step RouteAttempts::afterFailure(router::Failure failure) {
  const router::Route& route = *route_;
  const router::Target* failed = attempts_.empty() ? nullptr : attempts_.back().target;
  if (failure == router::Failure::ContextWindow || failure == router::Failure::ContentPolicy) {
    const router::Route* fallback = failure == router::Failure::ContextWindow ? route.fallback_context_window
                                                                              : route.fallback_content_policy;
    if (fallback != nullptr && hops_ < kMaxRouteHops) {
      switchRoute(fallback);
      return next();
    }
    return giveUp();
  }
  if (!router::retryable(route.retry, failure) || http_.body_streamed) return giveUp();
  if (failed != nullptr && !contains(failed_, failed)) failed_.push_back(failed);
  if (route_attempts_ >= route.retry.attempts) {
    if (route.fallback_unavailable != nullptr && hops_ < kMaxRouteHops) {
      switchRoute(route.fallback_unavailable);
      return next();
    }
    return giveUp();
  }
  // Straight on to a target this request has not seen fail; back off before going back to one.
  // Moving on is a fallback: it adds nothing to the load of the target that failed, so only
  // going back (a retry proper) spends the retry budget.
  const uint64_t now = monotonicNs();
  const router::Target* candidate = router::pick(route, pickInput(now));
  const bool fallback = candidate != nullptr && !contains(failed_, candidate);
  if (!fallback && !route.budget.tryStartRetry(route.retry, now)) {
    route.retries_budget_denied.fetch_add(1, std::memory_order_relaxed);
    return giveUp();
  }
  retrying_ = true;
  route.retries.fetch_add(1, std::memory_order_relaxed);
  if (fallback) return next();
  return waitMs(router::backoffMs(route.retry, route_attempts_, rng_));
}

RouteAttempts::Step RouteAttempts::noTarget(bool answered) {
  const router::Route& route = *route_;
  const uint64_t now = monotonicNs();
  if (retrying_) {
    // A retry whose targets are all rate-limited (Retry-After): wait for the first to come back.
    uint64_t earliest = 0;
    for (const auto& t : route.targets) {
      const uint64_t nb = t->state->not_before_ns.load(std::memory_order_relaxed);
      if (nb > now && t->state->breaker.available(now) && (earliest == 0 || nb < earliest)) earliest = nb;
    }
    if (earliest != 0) return waitMs((earliest - now + 999999) / 1000000);
  }
  if (route.fallback_unavailable != nullptr && hops_ < kMaxRouteHops) {
    switchRoute(route.fallback_unavailable);
    return next();
  }
  route.unavailable.fetch_add(1, std::memory_order_relaxed);
  if (answered) return giveUp();
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
  Step s{Step::Kind::Unavailable};
  s.retry_after_s = back_ns == 0 ? -1 : static_cast<int64_t>((back_ns - now + 999999999) / 1000000000);
  s.message = "no target of route '" + route.name + "' can take the request now: " + router::unavailableReason(route, now);
  s.status = rate_limited_only ? 429 : 503;
  s.type = rate_limited_only ? "rate_limit_error" : "service_unavailable_error";
  s.code = rate_limited_only ? "rate_limit_exceeded" : "no_available_target";
  return s;
}

void RouteAttempts::switchRoute(const router::Route* fallback) {
  route_->fallbacks.fetch_add(1, std::memory_order_relaxed);
  retrying_ = false;
  ++hops_;
  route_ = fallback;
  route_->requests.fetch_add(1, std::memory_order_relaxed);
  route_->budget.requestStarted(monotonicNs());
  std::string_view captured = api_.model;
  if (fallback->pattern) globMatch(fallback->name, api_.model, &captured);
  captured_ = captured;
  route_attempts_ = 0;
  failed_.clear();
}

void RouteAttempts::finish() {
  if (route_ == nullptr) return;
  end(router::Outcome::Neutral, 0, {});
  retrying_ = false;
  route_ = nullptr;
}

std::vector<log::AttemptRecord> RouteAttempts::records(uint64_t now, const char* unfinished) const {
  std::vector<log::AttemptRecord> out;
  out.reserve(attempts_.size());
  for (const Attempt& a : attempts_) {
    log::AttemptRecord& one = out.emplace_back();
    one.target = a.target->label;
    one.provider = a.target->provider->name();
    one.model = a.model;
    one.status = a.status;
    one.duration_ms = static_cast<double>((a.end_ns != 0 ? a.end_ns : now) - a.start_ns) / 1e6;
    one.error = a.error;
    if (a.end_ns == 0 && one.error.empty() && unfinished != nullptr) one.error = unfinished;
  }
  return out;
}

void RouteAttempts::addAnswerHeaders(http::HeaderList& headers, int status, const std::string& request_id) const {
  headers.add("x-aigw-request-id", request_id);
  if (route_ != nullptr) {
    // A route that retries has spent what retrying could do; an SDK that retried the answer
    // again would multiply the attempts (3 SDK tries x 3 of ours reached an upstream 9 times).
    // The official SDKs obey x-should-retry before their own status rules.
    const bool sdk_would_retry = status == 408 || status == 409 || status == 429 || status >= 500;
    if (sdk_would_retry && route_->retry.attempts > 1 && !route_->retry.client_retries) {
      headers.set("x-should-retry", "false");
    }
    if (!attempts_.empty()) {
      headers.add("x-aigw-provider", attempts_.back().target->provider->name());
      headers.add("x-aigw-model", echoedHeaderValue(attempts_.back().model));
    }
    headers.add("x-aigw-attempts", std::to_string(attempts_.size()));
  } else if (api_.provider != nullptr) {
    headers.add("x-aigw-provider", api_.provider->name());
    if (!api_.model.empty()) headers.add("x-aigw-model", echoedHeaderValue(api_.model));
  }
}

}  // namespace aigw
