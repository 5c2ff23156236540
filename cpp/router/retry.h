// Retry policy: what is retried, how long to wait between attempts, and the retry budget that
// keeps a storm of failures from multiplying the load on upstreams.
#pragma once

#include <atomic>
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
  double budget_ratio = 0.2;     // retries in progress may be this fraction of requests in progress
  int64_t budget_min = 3;        // ... but at least this many (a floor for low traffic)
  uint64_t max_retry_after_ms = 60000;  // longer Retry-After values are capped to this
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

// Envoy-style retry budget, shared by every worker for one route: a retry may start only while
// retries in progress < max(budget_min, budget_ratio * requests in progress).
class RetryBudget {
 public:
  void requestStarted() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void requestEnded() { requests_.fetch_sub(1, std::memory_order_relaxed); }
  // On true, the caller must call retryEnded() when that retry attempt ends.
  bool tryStartRetry(const RetryPolicy& policy);
  void retryEnded() { retries_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  int64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> retries_{0};
};

}  // namespace aigw::router
