// Retry policy: what is retried, how long to wait between attempts, and the retry budget that
// keeps a storm of failures from multiplying the load on upstreams.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <cstdint>
#include <random>
#include <string_view>

namespace aigw::router {

// Why one attempt failed, as far as retrying and circuit breaking are concerned.
enum class Failure {
  None,            // the attempt succeeded (2xx/3xx) or ended without an upstream verdict
  Connect,         // could not connect (DNS, TCP, TLS), or the connection was refused/reset before an answer
  Timeout,         // connect, first-byte or idle timeout
  Protocol,        // broken framing, redirect, reset mid-answer
  Status5xx,       // the upstream answered 5xx
  Status429,       // the upstream answered 429
  ContextWindow,   // 4xx saying the prompt does not fit the model's context window
  ContentPolicy,   // 4xx saying the request or answer was refused by a content policy
  StatusFinal,     // any other 4xx (400, 401, 403, 404, 413, 422 ...): never retried
};
const char* failureName(Failure f);

struct RetryPolicy {
  int attempts = 3;  // total attempts per route, the first one included (>= 1)
  bool on_connect = true;
  bool on_timeout = true;
  bool on_5xx = true;
  bool on_429 = true;
  uint64_t backoff_base_ms = 100;
  uint64_t backoff_max_ms = 5000;
  double budget_ratio = 0.2;     // retries may be this fraction of the requests of the last 10 s
  int64_t budget_min = 3;        // ... plus this many per 10 s (a floor for low traffic)
  uint64_t max_retry_after_ms = 60000;  // longer Retry-After values are capped to this
  bool client_retries = false;  // false: error answers tell SDKs not to retry (x-should-retry)
};

// True when the failure may be retried under this policy (Protocol counts as Connect).
bool retryable(const RetryPolicy& policy, Failure failure);
// Whether the failure counts against the target's circuit breaker.
bool countsAsFailure(Failure failure);

// Full-jitter exponential backoff before retry number `retry` (1 = the first retry):
// uniform in [0, min(max, base * 2^(retry-1))].
uint64_t backoffMs(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). Returns milliseconds from now
// (0 for a date in the past), or -1 when the value is not valid.
int64_t parseRetryAfterMs(std::string_view value, uint64_t now_wall_ms);

// Classifies an upstream error answer (status and body) from OpenAI, Azure, Anthropic and
// compatible providers: context-window and content-policy errors get their own class.
Failure classifyStatus(int status, std::string_view body);

// Retry budget, shared by every worker for one route: a true ratio of recent requests (as
// Finagle's RetryBudget). Over the last kWindowSeconds, retries started may not exceed
// budget_ratio x requests started + budget_min, so a 503 storm sends at most (1 + ratio) x the
// requests upstream, plus the floor. (Envoy's budget caps retries in flight instead, which lets
// short retries multiply the load; see docs/routing.md.)
class RetryBudget {
 public:
  static constexpr int kWindowSeconds = 10;

  void requestStarted(uint64_t now_ns);
  // True when a retry may start now; it is counted against the budget at once.
  bool tryStartRetry(const RetryPolicy& policy, uint64_t now_ns);
  // Requests and retries started in the window that ends at `now_ns` (for stats and tests).
  int64_t requests(uint64_t now_ns) const;
  int64_t retries(uint64_t now_ns) const;

 private:
  struct Second {
    int64_t second = -1;  // which second (of the monotonic clock) these counts are for
    int64_t requests = 0;
    int64_t retries = 0;
  };
  // The bucket of `second`, emptied first when it last counted an older second.
  Second& bucket(int64_t second);
  void sums(int64_t second, int64_t* requests, int64_t* retries) const;

  // One short critical section per request; workers of one route rarely meet here, and the
  // counts must be exact for the bound to hold.
  mutable std::mutex mu_;
  std::array<Second, kWindowSeconds> seconds_{};
};

}  // namespace aigw::router
