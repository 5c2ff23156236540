// The routing state of one request, apart from its calls and timers: the route it is on
// (fallbacks change it), the attempts made, the books of the one in progress (breaker probe,
// concurrency slot, in flight), and what to do after a failure or when no target can take it.
// The AttemptLoop acts on what it says; see docs/routing.md for the semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/lazy_json.h"
#include "http/request.h"
#include "log/request_record.h"
#include "pipeline/api_call.h"
#include "router/route_table.h"

namespace aigw {

class RouteAttempts {
 public:
  // Error-class and unavailable fallbacks followed per request, at most.
  static constexpr int kMaxRouteHops = 3;

  struct Attempt {
    const router::Target* target;
    std::string model;  // upstream model
    int status = 0;     // 0: no answer
    uint64_t start_ns = 0;
    uint64_t end_ns = 0;
    std::string error;
  };
  enum class Pick : uint8_t { Launch, Queued, None };
  // What comes next after a failure, or when no target can take the request.
  struct Step {
    enum class Kind : uint8_t { Next, Wait, GiveUp, Unavailable } kind = Kind::GiveUp;
    uint64_t wait_ms = 0;     // Wait
    int status = 0;           // Unavailable: the answer (429 or 503), its message and Retry-After
    std::string message;
    const char* type = "";
    const char* code = "";
    int64_t retry_after_s = -1;
  };

  RouteAttempts(const ApiCall& api, const http::Request& http, std::mt19937_64& rng) : api_(api), http_(http), rng_(rng) {}

  // The request starts on its route (counted there).
  void begin();
  // Picks the next target (strategy, breaker, caps). Launch: it holds a slot, call launch();
  // Queued: `on_slot` runs when one frees up; None: ask noTarget().
  Pick pick(EventLoop& loop, std::function<void()> on_slot);
  void slotGranted();
  // Books the attempt on the picked target and records it; returns the target.
  const router::Target& launch();
  // Closes the books on the attempt in progress (or the slot wait before it).
  void end(router::Outcome outcome, int status, std::string_view error);
  // The attempt in progress was started (not only waiting for a slot) and has not ended.
  bool launched() const;
  Step afterFailure(router::Failure failure);
  // `answered`: some attempt failed with an answer or an error to give instead.
  Step noTarget(bool answered);
  // Out of options: the retry it was is over.
  void givingUp() { retrying_ = false; }
  // Releases what the routing holds (slot, waiter); safe to call more than once.
  void finish();

  const router::Route* route() const { return route_; }
  const router::Target* target() const { return target_; }
  const std::vector<Attempt>& attempts() const { return attempts_; }
  Attempt* last() { return attempts_.empty() ? nullptr : &attempts_.back(); }
  // The body the attempt sends when the target's transforms rewrote it (empty: the request's).
  const std::string& attemptBody() const { return attempt_body_; }
  const LazyJson& attemptJson() const { return attempt_json_; }
  // The attempts as the log and the routing summary write them; an attempt still running gets
  // `unfinished` as its error (null: none).
  std::vector<log::AttemptRecord> records(uint64_t now, const char* unfinished) const;
  // x-aigw-* on an answer (and, on an error answer of a route that retried, x-should-retry: false).
  void addAnswerHeaders(http::HeaderList& headers, int status, const std::string& request_id) const;

 private:
  router::PickInput pickInput(uint64_t now);
  void switchRoute(const router::Route* next);

  const ApiCall& api_;
  const http::Request& http_;
  std::mt19937_64& rng_;
  const router::Route* route_ = nullptr;
  std::string_view captured_;
  int hops_ = 0;
  int route_attempts_ = 0;                    // attempts started on route_
  const router::Target* target_ = nullptr;    // the attempt in progress (or waiting for a slot)
  bool probe_ = false;                        // it is the breaker's half-open probe
  bool slot_held_ = false;                    // it holds a concurrency slot
  bool retrying_ = false;                     // it (or the wait before it) is a retry the budget allowed
  router::ConcurrencyLimit::WaiterPtr waiter_;
  std::vector<const router::Target*> failed_;
  std::vector<const router::Target*> skip_;
  std::vector<Attempt> attempts_;
  std::string attempt_body_;
  LazyJson attempt_json_;
};

}  // namespace aigw
