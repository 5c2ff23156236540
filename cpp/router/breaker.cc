#include "router/breaker.h"

#include <algorithm>

namespace aigw::router {
namespace {

constexpr uint64_t kNsPerMs = 1000000;

// ejection_ms * 2^(n-1), capped at max_ms without overflowing on long runs of ejections.
uint64_t ejectionMs(const BreakerSettings& s, uint32_t n) {
  const uint32_t shift = n - 1;
  if (shift >= 63 || s.ejection_ms > (s.max_ejection_ms >> shift)) return s.max_ejection_ms;
  return std::min(s.max_ejection_ms, s.ejection_ms << shift);
}

}  // namespace

const char* breakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(BreakerSettings settings) : settings_(settings) {}

BreakerState CircuitBreaker::stateLocked(uint64_t now_ns) const {
  if (!open_) return BreakerState::Closed;
  return now_ns < ejected_until_ns_ ? BreakerState::Open : BreakerState::HalfOpen;
}

bool CircuitBreaker::available(uint64_t now_ns) const {
  if (!settings_.enabled) return true;
  std::lock_guard<std::mutex> lock(mu_);
  switch (stateLocked(now_ns)) {
    case BreakerState::Closed: return true;
    case BreakerState::Open: return false;
    case BreakerState::HalfOpen: return !probe_out_;
  }
  return true;
}

bool CircuitBreaker::admit(uint64_t now_ns, bool* probe) {
  if (probe) *probe = false;
  if (!settings_.enabled) return true;
  std::lock_guard<std::mutex> lock(mu_);
  switch (stateLocked(now_ns)) {
    case BreakerState::Closed: return true;
    case BreakerState::Open: return false;
    case BreakerState::HalfOpen:
      if (probe_out_) return false;
      probe_out_ = true;
      if (probe) *probe = true;
      return true;
  }
  return true;
}

void CircuitBreaker::record(Outcome outcome, bool probe, uint64_t now_ns) {
  if (!settings_.enabled) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (probe) {
    if (!open_ || !probe_out_) return;  // not the probe this breaker handed out
    switch (outcome) {
      case Outcome::Success:
        open_ = false;
        probe_out_ = false;
        consecutive_ = 0;
        std::fill(std::begin(buckets_), std::end(buckets_), Bucket{});
        closed_since_ns_ = now_ns;
        break;
      case Outcome::Failure:
        ++consecutive_;
        ejectLocked(now_ns);
        break;
      case Outcome::Neutral:
        probe_out_ = false;
        break;
    }
    return;
  }
  // Requests admitted before an ejection may still finish while it lasts; the ejection has
  // already judged the target, so their outcomes change nothing.
  if (open_) return;
  switch (outcome) {
    case Outcome::Success:
      consecutive_ = 0;
      addToWindowLocked(false, now_ns);
      break;
    case Outcome::Failure: {
      ++consecutive_;
      addToWindowLocked(true, now_ns);
      if (settings_.consecutive_failures > 0 && consecutive_ >= settings_.consecutive_failures) {
        ejectLocked(now_ns);
        break;
      }
      if (settings_.failure_rate > 0) {
        uint64_t requests = 0, failures = 0;
        windowTotalsLocked(now_ns, &requests, &failures);
        if (requests >= settings_.min_requests &&
            static_cast<double>(failures) >= settings_.failure_rate * static_cast<double>(requests)) {
          ejectLocked(now_ns);
        }
      }
      break;
    }
    case Outcome::Neutral:
      break;
  }
}

void CircuitBreaker::ejectLocked(uint64_t now_ns) {
  // A long healthy stretch means this is a new problem, not the continuation of the old one.
  if (!open_ && now_ns - closed_since_ns_ >= settings_.max_ejection_ms * kNsPerMs) ejections_ = 0;
  ++ejections_;
  ++total_ejections_;
  open_ = true;
  probe_out_ = false;
  ejected_until_ns_ = now_ns + ejectionMs(settings_, ejections_) * kNsPerMs;
}

void CircuitBreaker::addToWindowLocked(bool failure, uint64_t now_ns) {
  const uint64_t bucket_ns = std::max<uint64_t>(1, settings_.window_ms * kNsPerMs / kBuckets);
  Bucket& b = buckets_[(now_ns / bucket_ns) % kBuckets];
  const uint64_t start = now_ns - now_ns % bucket_ns;
  if (b.start_ns != start) b = Bucket{start, 0, 0};
  ++b.requests;
  if (failure) ++b.failures;
}

void CircuitBreaker::windowTotalsLocked(uint64_t now_ns, uint64_t* requests, uint64_t* failures) const {
  const uint64_t window_ns = settings_.window_ms * kNsPerMs;
  *requests = 0;
  *failures = 0;
  for (const Bucket& b : buckets_) {
    if (b.start_ns + window_ns <= now_ns) continue;  // older than the window
    *requests += b.requests;
    *failures += b.failures;
  }
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot(uint64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot s;
  s.state = stateLocked(now_ns);
  s.consecutive_failures = consecutive_;
  const bool forgotten = !open_ && now_ns - closed_since_ns_ >= settings_.max_ejection_ms * kNsPerMs;
  s.ejections = forgotten ? 0 : ejections_;
  s.total_ejections = total_ejections_;
  if (s.state == BreakerState::Open) s.ejected_for_ms = (ejected_until_ns_ - now_ns + kNsPerMs - 1) / kNsPerMs;
  windowTotalsLocked(now_ns, &s.window_requests, &s.window_failures);
  return s;
}

}  // namespace aigw::router
