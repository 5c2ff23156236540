// The attempt loop's routing side: the deadline and the waits between attempts, and acting on
// what RouteAttempts decides (launch, retry, fall back, give up). See docs/routing.md.
#include "core/clock.h"
#include "core/json_text.h"
#include "gateway/attempt_loop.h"
#include "gateway/config.h"
#include "http/response.h"
#include "log/request_record.h"

namespace aigw {
namespace {

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

void AttemptLoop::nextAttempt() {
  if (finished_) return;
  switch (routes_.pick(req_.loop, [this] { onSlotGranted(); })) {
    case RouteAttempts::Pick::Launch: return launch();
    case RouteAttempts::Pick::Queued: return;  // the deadline still runs while it waits
    case RouteAttempts::Pick::None:
      // No target of the route can take the request right now.
      return follow(routes_.noTarget(failure_ != nullptr || !last_error_.empty()));
  }
}

void AttemptLoop::onSlotGranted() {
  routes_.slotGranted();
  if (finished_) {
    routes_.end(router::Outcome::Neutral, 0, {});
    return;
  }
  launch();
}

void AttemptLoop::launch() {
  const router::Target& target = routes_.launch();
  startCall(*target.provider, &target);
}

void AttemptLoop::follow(const RouteAttempts::Step& step) {
  if (finished_) return;
  switch (step.kind) {
    case RouteAttempts::Step::Kind::Next: return nextAttempt();
    case RouteAttempts::Step::Kind::Wait: return waitThen(step.wait_ms);
    case RouteAttempts::Step::Kind::GiveUp: return giveUp();
    case RouteAttempts::Step::Kind::Unavailable:
      return sendRoutingError(step.status, step.message, step.type, step.code, step.retry_after_s);
  }
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

// Out of options: the last failure is the answer.
void AttemptLoop::giveUp() {
  if (finished_) return;
  routes_.givingUp();
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
  const size_t attempts = routes_.attempts().size();
  if (attempts > 1) message += " (" + std::to_string(attempts) + " attempts)";
  sendRoutingError(status, message, "upstream_error", {});
}

void AttemptLoop::onDeadline() {
  if (req_.record.ended) return;
  // Work the deadline bounds downstream ends first: during checks still running time out, and
  // their on_error may block (that is the answer then).
  out_->onEvent(AnswerEvent::Deadline);
  if (req_.record.ended) return;
  if (wait_timer_) wait_timer_->stop();
  const std::string message =
      "the request did not complete within its deadline of " + std::to_string(routes_.route()->timeout_ms) + " ms";
  releaseCall();
  const bool launched = routes_.launched();
  routes_.end(launched ? router::Outcome::Failure : router::Outcome::Neutral, 0, launched ? "deadline exceeded" : "");
  dropAnswer();
  if (out_->headSent()) {
    cutAnswer("timeout_error", message, "deadline_exceeded");
    return;
  }
  sendRoutingError(504, message, "timeout_error", "deadline_exceeded");
}

// Releases what the routing holds (slot, waiter, budget, timers); safe to call more than once.
void AttemptLoop::finishRouting() {
  routes_.finish();
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
