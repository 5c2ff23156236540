// The terminal stage: answers one API request through its route's attempts (pick a target,
// call it, classify the failure, retry, fall back or give up, inside one deadline), or straight
// from its provider when it has no route. It is the provider call's observer, holds an answer
// back while a failure could still be retried, and writes the answer it settles on into the
// response stages. See docs/routing.md for the semantics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/timer.h"
#include "gateway/route_attempts.h"
#include "log/request_record.h"
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

class AttemptLoop final : public CallObserver, public AnswerSource {
 public:
  explicit AttemptLoop(const AttemptRequest& req);
  ~AttemptLoop() override;

  // Starts answering into `out`, the first response stage.
  void start(ResponseStage& out);
  // The client went away: the call in flight is cancelled, the slot and budget released.
  void clientGone();
  void onWritable() { resumeAnswer(); }
  void onRequestBody(std::string_view data);
  void onRequestEnd();

  // Answers that are not event streams are held until complete (up to this size), so a
  // failure before the end is still a clean error response (or a retry), and the answer goes
  // out in one write. An event stream's head is held until its first event.
  static constexpr size_t kMaxHeldBody = 8 << 20;
  // The attempts as the log and the routing summary write them; an attempt still running gets
  // `unfinished` as its error (null: none).
  std::vector<log::AttemptRecord> attemptRecords(uint64_t now, const char* unfinished) const {
    return routes_.records(now, unfinished);
  }
  // {"route": ..., "attempts": [...]}: what x-aigw-routing-summary asks for.
  std::string summaryJson() const;
  bool wantsSummary() const { return summary_; }

  // CallObserver
  void onCallHead(int status, http::HeaderList headers, int64_t content_length) override;
  void onCallBody(std::string_view data) override;
  void onCallEnd(const CallUsage& usage) override;
  void onCallError(CallErrorKind kind, std::string message) override;
  void onCallUsage(const CallUsage& usage) override;
  bool callBlocked() const override;
  void pauseRequestBody(bool pause) override;

  // AnswerSource
  void stopAnswer() override;
  bool abandonAnswer(std::string_view why) override;
  void resumeAnswer() override;
  void answerComplete() override;
  void answeredBy(std::string_view* model, const Provider** provider) const override;
  const router::Route* currentRoute() const override {
    return routes_.route() != nullptr ? routes_.route() : req_.api.route;
  }

 private:
  struct HeldResponse {
    int status;
    http::HeaderList headers;
    int64_t content_length;
    std::string body;
  };

  // The call (attempt_loop.cc).
  void startCall(const Provider& provider, const router::Target* target);
  void releaseCall();
  // x-aigw-* (and, on an error answer of a route that retried, x-should-retry: false).
  void addRoutingHeaders(http::HeaderList& headers, int status) const;
  void commitHeld();
  void respondHeld(std::unique_ptr<HeldResponse> held);
  void relayBody(std::string_view data);
  // Drops what is held of the answer in progress, here and in the stages.
  void dropAnswer();
  // The answer was cut after its head went out: an error event ends an event stream, anything
  // else is reset.
  void cutAnswer(std::string_view type, std::string_view message, std::string_view code);

  // The routing (attempt_routing.cc): timers, and acting on what routes_ decides.
  bool summaryAsked() const;
  void beginRouting();
  void nextAttempt();
  void onSlotGranted();
  void launch();
  void follow(const RouteAttempts::Step& step);
  void giveUp();
  void waitThen(uint64_t ms);
  void onDeadline();
  void finishRouting();
  void sendRoutingError(int status, std::string_view message, std::string_view type, std::string_view code,
                        int64_t retry_after_s = -1);

  AttemptRequest req_;
  ResponseStage* out_ = nullptr;
  ProviderCallPtr call_;
  bool finished_ = false;          // nothing more comes from the loop (it wrote its end, or was stopped)
  bool event_stream_ = false;      // the answer being relayed is text/event-stream
  int status_ = 0;
  std::unique_ptr<HeldResponse> held_;
  bool sse_head_held_ = false;     // held_ is an event stream's head, waiting for its first event

  RouteAttempts routes_;                      // the route, its attempts and their books
  const bool summary_;
  bool failing_ = false;                      // the attempt answered >= 400: held for a decision
  std::unique_ptr<HeldResponse> failure_;     // the last failed attempt's answer, relayed on giving up
  CallUsage failure_usage_;                   // and the usage it reported (counted if it is relayed)
  CallErrorKind last_error_kind_ = CallErrorKind::Internal;
  std::string last_error_;                    // the last attempt's error with no answer
  uint64_t deadline_ns_ = 0;
  std::unique_ptr<Timer> deadline_timer_;
  std::unique_ptr<Timer> wait_timer_;
};

}  // namespace aigw
