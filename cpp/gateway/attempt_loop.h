// The terminal stage: answers one API request through its route's attempts (pick a target,
// call it, classify the failure, retry, fall back or give up, inside one deadline), or straight
// from its provider when it has no route. Its AnswerRelay observes the call and writes the
// answer the loop settles on into the response stages. See docs/routing.md for the semantics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/timer.h"
#include "gateway/answer_relay.h"
#include "gateway/route_attempts.h"
#include "pipeline/answer_source.h"
#include "pipeline/api_call.h"
#include "pipeline/record_state.h"
#include "pipeline/response_stage.h"
#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw {

struct ServerSettings;

// A streamed request body that arrives before a provider call can take it.
struct PendingBody {
  std::string bytes;
  bool ended = false;

  // Holds `data`; true when the client should stop sending for now (past a bounded amount).
  bool hold(std::string_view data) {
    bytes.append(data);
    return bytes.size() > 256 * 1024;
  }
};

// What the loop needs of its request: all of it owned by the exchange, which outlives the loop.
struct AttemptRequest {
  http::Request& http;
  const ApiCall& api;
  const std::string& id;
  uint64_t start_ns;
  EventLoop& loop;
  CallContext& calls;
  const ServerSettings& server;
  RecordState& record;
  PendingBody& pending;
};

class AttemptLoop final : public AnswerSource, private AttemptOutcomes {
 public:
  explicit AttemptLoop(const AttemptRequest& req);
  ~AttemptLoop() override;

  // Starts answering into `out`, the first response stage.
  void start(ResponseStage& out);
  // The client went away: the call in flight is cancelled, the slot and budget released.
  void clientGone();
  void onRequestBody(std::string_view data);
  void onRequestEnd();
  // The route, its attempts and their books (for the record and the routing summary).
  const RouteAttempts& routes() const { return routes_; }

  // AnswerSource
  void stopAnswer() override;
  bool abandonAnswer(std::string_view why) override;
  void resumeAnswer() override;
  void answerComplete() override;
  void answeredBy(std::string_view* model, const Provider** provider) const override;
  ApiShape answerShape() const override { return relay_.shape(); }
  const router::Route* currentRoute() const override {
    return routes_.route() != nullptr ? routes_.route() : req_.api.route;
  }

 private:
  // AttemptOutcomes (attempt_loop.cc): what the relay saw of the attempt in progress.
  void attemptAnswered(int status) override;
  void attemptFailed(std::unique_ptr<HeldResponse> answer, const CallUsage& usage) override;
  void attemptEnded(int status) override;
  void attemptErrored(CallErrorKind kind, const std::string& message, bool head_sent) override;

  // The call (attempt_loop.cc).
  void startCall(const Provider& provider, const router::Target* target);
  void releaseCall();

  // The routing (attempt_routing.cc): timers, and acting on what routes_ decides.
  void nextAttempt();
  void onSlotGranted();
  void follow(const RouteAttempts::Step& step);
  void giveUp();
  void waitThen(uint64_t ms);
  void onDeadline();
  void finishRouting();

  AttemptRequest req_;
  ResponseStage* out_ = nullptr;
  ProviderCallPtr call_;
  RouteAttempts routes_;                      // the route, its attempts and their books
  AnswerRelay relay_;                         // the call's observer: holds and writes the answer
  std::unique_ptr<HeldResponse> failure_;     // the last failed attempt's answer, relayed on giving up
  CallUsage failure_usage_;                   // and the usage it reported (counted if it is relayed)
  CallErrorKind last_error_kind_ = CallErrorKind::Internal;
  std::string last_error_;                    // the last attempt's error with no answer
  uint64_t deadline_ns_ = 0;
  std::unique_ptr<Timer> deadline_timer_;
  std::unique_ptr<Timer> wait_timer_;
};

}  // namespace aigw
