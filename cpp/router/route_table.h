// The compiled route table: what each model name a client may ask for maps to, and how one
// target is picked for each attempt. Built once from the core config document; immutable
// afterwards except for the per-target runtime state (atomics, breaker, limits), which every
// worker shares.
//
// Core config document, "routes" (Python's config.py produces it):
//   {"name": "gpt-4o" | "openai/*" | "*",      exact name, alias, or a pattern with one '*'
//    "aliases": ["smart", ...],
//    "plan": NODE,
//    "retry": {"attempts", "on_connect", "on_timeout", "on_5xx", "on_429", "backoff_base_ms",
//              "backoff_max_ms", "budget_ratio", "budget_min", "max_retry_after_ms"},
//    "timeout_ms": 600000,                      overall deadline (0: none)
//    "fallbacks": {"context_window_exceeded": "route", "content_policy_violation": "route",
//                  "unavailable": "route"},     each optional
//    "guardrails": ["name", ...] | null,       null or absent: the guardrails marked default
//    "drop_params": ["seed", "messages.name", ...]}  fields translation drops instead of refusing
//   NODE = {"type": "target", "provider": "openai", "model": "gpt-4o" | "*"-pattern | null,
//           "weight": 1, "when": [COND...] | null, "transforms": [TRANSFORM...],
//           "connect_timeout_ms": 0, "first_byte_timeout_ms": 0, "idle_timeout_ms": 0,  (0: provider's)
//           "max_in_flight": 0, "max_pending": 0,                                       (0: no cap)
//           "breaker": {"enabled", "consecutive_failures", "failure_rate", "min_requests",
//                       "window_ms", "ejection_ms", "max_ejection_ms"}}
//        | {"type": "group", "strategy": "single" | "fallback" | "weighted" | "conditional" |
//           "least_latency" | "least_busy", "weight": 1, "when": [COND...] | null,
//           "children": [NODE...]}
//   COND = {"source": "model" | "header" | "metadata", "key": "x-tier" (header: lower-case;
//           metadata: a key of the body's "metadata" object), "values": ["glob", ...]}
//   A node's "when" matches when every COND matches (one of its values, as a glob).
//
// Upstream model of a target: its "model" with '*' replaced by what the route pattern's '*'
// captured; no "model": the captured part for a pattern route ("openai/*" + "openai/gpt-4o" ->
// "gpt-4o"; "*" -> the whole name), else the requested name.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/headers.h"
#include "router/breaker.h"
#include "router/limit.h"
#include "router/retry.h"
#include "router/transform.h"

namespace aigw {
class Provider;
}

namespace aigw::router {

enum class Strategy { Single, Fallback, Weighted, Conditional, LeastLatency, LeastBusy };
const char* strategyName(Strategy s);

struct Condition {
  enum class Source { Model, Header, Metadata };
  Source source = Source::Model;
  std::string key;
  std::vector<std::string> values;  // globs; any one matching is enough
};

struct AttemptTimeouts {
  uint64_t connect_ms = 0;     // 0: the provider's own
  uint64_t first_byte_ms = 0;
  uint64_t idle_ms = 0;
};

// Runtime state of one target, shared by every worker.
struct TargetState {
  explicit TargetState(const BreakerSettings& breaker, int64_t max_in_flight, int64_t max_pending)
      : breaker(breaker), limit(max_in_flight, max_pending) {}
  CircuitBreaker breaker;
  ConcurrencyLimit limit;
  std::atomic<int64_t> in_flight{0};         // attempts running now (whether capped or not)
  std::atomic<int64_t> ewma_ttfb_us{-1};     // moving average of time to first byte; -1: no sample
  std::atomic<uint64_t> not_before_ns{0};    // Retry-After: not tried again before this (monotonic)
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> failures{0};         // attempts that counted against the breaker
  std::atomic<uint64_t> cap_rejections{0};   // refused by the concurrency cap

  // Thread-safe.
  void recordTtfb(uint64_t ttfb_us);         // EWMA, alpha 0.2; the first sample is taken as is
  void setLastError(std::string error, uint64_t wall_ms);
  std::string lastError(uint64_t* wall_ms) const;

 private:
  mutable std::mutex error_mu_;
  std::string last_error_;
  uint64_t last_error_ms_ = 0;
};

struct Target {
  const Provider* provider = nullptr;
  std::string model;                 // may hold one '*'; empty: see the header comment
  std::string label;                 // "provider/model" (model as configured, or "*")
  std::vector<Transform> transforms;
  AttemptTimeouts timeouts;
  std::unique_ptr<TargetState> state;

  // The provider's model name for a request of `requested` that the route pattern captured as
  // `captured` (equal to `requested` for exact routes).
  std::string upstreamModel(std::string_view requested, std::string_view captured) const;
};

struct Node {
  bool is_target = false;
  Strategy strategy = Strategy::Single;
  uint32_t weight = 1;
  std::vector<Condition> when;
  std::vector<Node> children;  // groups
  Target* target = nullptr;    // targets (owned by the Route)
};

struct Route {
  std::string name;
  std::vector<std::string> aliases;
  bool pattern = false;              // name has a '*'
  bool needs_metadata = false;       // some condition reads the body's "metadata" (parse it for picks)
  Node plan;
  std::vector<std::unique_ptr<Target>> targets;  // every leaf, in config order
  RetryPolicy retry;
  uint64_t timeout_ms = 0;           // overall deadline; 0: none
  const Route* fallback_context_window = nullptr;
  const Route* fallback_content_policy = nullptr;
  const Route* fallback_unavailable = nullptr;
  // Request fields a translating provider drops instead of refusing (docs/providers.md).
  std::vector<std::string> drop_params;
  // Guardrails selected by name (GuardrailSet compiles them); not given: the default ones.
  std::vector<std::string> guardrails;
  bool guardrails_given = false;
  mutable RetryBudget budget;
  mutable std::atomic<uint64_t> requests{0};
  mutable std::atomic<uint64_t> retries{0};
  mutable std::atomic<uint64_t> retries_budget_denied{0};
  mutable std::atomic<uint64_t> fallbacks{0};       // times this route handed a request to a fallback route
  mutable std::atomic<uint64_t> unavailable{0};     // times no target could take a request
};

// What a pick may look at besides the plan.
struct PickInput {
  std::string_view model;                 // the requested model name
  const http::HeaderList* headers = nullptr;
  const nlohmann::json* metadata = nullptr;  // the body's "metadata" object, or null
  uint64_t now_ns = 0;
  std::mt19937_64* rng = nullptr;
  // Targets this request already tried and saw fail: picked only when nothing else is left.
  const std::vector<const Target*>* failed = nullptr;
  // Targets that must not be picked for this attempt (refused admission just now).
  const std::vector<const Target*>* skip = nullptr;
};

// Picks the target for one attempt: the plan's strategy over the targets that are available
// (breaker not ejected, Retry-After passed, not in `skip`), preferring those not in `failed`.
// Returns null when no target is available.
const Target* pick(const Route& route, const PickInput& in);
// Why no target of the route is available right now, for the 503 message
// ("openai/gpt-4o: ejected for 8.2 s after 5 consecutive failures; ...").
std::string unavailableReason(const Route& route, uint64_t now_ns);

class RouteTable {
 public:
  // `routes` is the core document's "routes" array, every field present (Python resolved the
  // defaults and checked names, plans and ranges); `providers` resolves provider names. Throws
  // std::runtime_error naming the route and the problem (a missing field, an unknown provider,
  // strategy or fallback route ...).
  static std::unique_ptr<RouteTable> fromJson(const nlohmann::json& routes,
                                              const std::unordered_map<std::string, const Provider*>& providers);

  // The route for a requested model name: an exact name or alias, else the most specific
  // pattern (longest literal part; config order breaks ties). `captured` receives what the
  // pattern's '*' matched (the whole name for exact matches).
  const Route* resolve(std::string_view model, std::string_view* captured) const;
  // A route by its name (fallback targets, tests).
  const Route* byName(std::string_view name) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // Names clients can ask for as they are (route names and aliases without '*'), in config order.
  const std::vector<std::string>& listedNames() const { return listed_; }
  // The route serving listedNames()[i].
  const Route* listedRoute(size_t i) const { return listed_routes_[i]; }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::unique_ptr<Route>> routes_;
  std::unordered_map<std::string, const Route*, NameHash, std::equal_to<>> exact_;
  std::vector<const Route*> patterns_;  // most specific first
  std::vector<std::string> listed_;
  std::vector<const Route*> listed_routes_;
};

}  // namespace aigw::router
