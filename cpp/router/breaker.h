// Circuit breaking by outlier ejection, per target, shared by every worker thread.
//
// Closed: requests flow; failures are counted. The target is ejected (Open) after
// `consecutive_failures` failures in a row, or when at least `min_requests` outcomes in the last
// `window_ms` have a failure fraction >= `failure_rate` (0 turns the rate check off).
// Open: no request goes to it until the ejection time has passed. The n-th ejection in a row
// lasts ejection_ms * 2^(n-1), capped at max_ejection_ms. Then HalfOpen: exactly one probe
// request is admitted; its success closes the breaker, its failure ejects it again (longer).
// A breaker that stayed closed for max_ejection_ms forgets earlier ejections (n back to 0).
// Only Failure outcomes count against a target: connect errors, timeouts, resets, protocol
// errors and 5xx. 429 and other 4xx are Neutral (they say nothing about the target's health).
//
// Every method takes the time explicitly (monotonic ns), so tests drive a simulated clock.
// Thread-safe (one small mutex per breaker; it is held for a few field updates only).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace aigw::router {

struct BreakerSettings {
  bool enabled = true;
  uint32_t consecutive_failures = 5;  // 0: no consecutive-failure ejection
  double failure_rate = 0.0;          // 0: no rate-based ejection; else 0 < rate <= 1
  uint32_t min_requests = 20;         // outcomes in the window before the rate is judged
  uint64_t window_ms = 30000;
  uint64_t ejection_ms = 10000;
  uint64_t max_ejection_ms = 300000;
};

enum class Outcome { Success, Failure, Neutral };

enum class BreakerState { Closed, Open, HalfOpen };
const char* breakerStateName(BreakerState s);

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerSettings settings = {});

  // Without side effects: false while the target is ejected, or half-open with its probe out.
  bool available(uint64_t now_ns) const;
  // Admits one request. Returns false when ejected (or half-open with the probe already out).
  // When this request is the half-open probe, *probe is set true; its outcome must be recorded
  // with probe = true (Neutral if the request ended without telling anything, which frees the
  // probe slot for another request).
  bool admit(uint64_t now_ns, bool* probe);
  void record(Outcome outcome, bool probe, uint64_t now_ns);

  struct Snapshot {
    BreakerState state = BreakerState::Closed;
    uint32_t consecutive_failures = 0;
    uint32_t ejections = 0;          // ejections in a row (drives the growing ejection time)
    uint64_t total_ejections = 0;    // since start
    uint64_t ejected_for_ms = 0;     // Open: time left
    uint64_t window_requests = 0;
    uint64_t window_failures = 0;
  };
  Snapshot snapshot(uint64_t now_ns) const;
  const BreakerSettings& settings() const { return settings_; }

 private:
  struct Bucket {
    uint64_t start_ns = 0;
    uint32_t requests = 0;
    uint32_t failures = 0;
  };
  static constexpr size_t kBuckets = 10;

  BreakerState stateLocked(uint64_t now_ns) const;
  void ejectLocked(uint64_t now_ns);
  void addToWindowLocked(bool failure, uint64_t now_ns);
  void windowTotalsLocked(uint64_t now_ns, uint64_t* requests, uint64_t* failures) const;

  BreakerSettings settings_;
  mutable std::mutex mu_;
  bool open_ = false;             // ejected (Open, or HalfOpen once ejected_until_ns passed)
  bool probe_out_ = false;
  uint32_t consecutive_ = 0;
  uint32_t ejections_ = 0;
  uint64_t total_ejections_ = 0;
  uint64_t ejected_until_ns_ = 0;
  uint64_t closed_since_ns_ = 0;
  Bucket buckets_[kBuckets];
};

}  // namespace aigw::router
