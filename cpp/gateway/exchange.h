// One request's journey through the gateway: the pipeline position, what the API request
// asked for, the attempts that route it to providers (retries, fallbacks, deadline), and the
// relay of the chosen answer to the client.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/timer.h"
#include "gateway/answer_gate.h"
#include "gateway/api_body.h"
#include "gateway/exchange_record.h"
#include "guardrails/stream_guard.h"
#include "log/request_record.h"
#include "http/exchange_api.h"
#include "pipeline/api_call.h"
#include "pipeline/request_stage.h"
#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw {

class Worker;
class GatewayConfig;
namespace guardrails {
class RequestGuardrails;
class DuringChecks;
}

class Exchange final : public http::RequestHandler,
                       public RequestContext,
                       public CallObserver,
                       private guardrails::StreamHost {
 public:
  Exchange(Worker& worker, http::Request&& request, http::ResponseWriter& writer);
  ~Exchange() override;

  // http::RequestHandler
  void start() override;
  void onClientGone() override;
  void onWritable() override;
  void onRequestBody(std::string_view data) override;
  void onRequestEnd() override;

  // RequestContext
  http::Request& request() override { return request_; }
  ApiCall& api() override { return api_; }
  const std::string& id() const override { return id_; }
  uint64_t startNs() const override { return start_ns_; }
  EventLoop& loop() override;
  CallContext& callContext() override;
  hooks::HookQueue& hookQueue() override;
  void continuePipeline() override;
  void park(DeferredDeletablePtr work) override;
  void sendJson(int status, std::string_view body) override;
  void sendError(int status, std::string_view message, std::string_view type = {}, std::string_view code = {},
                 std::string_view param = {}, const http::HeaderList* extra = nullptr) override;
  void dispatch() override;
  void setGuardrails(std::unique_ptr<guardrails::RequestGuardrails> g) override;
  guardrails::RequestGuardrails* guardrails() override { return guardrails_.get(); }
  // The during stage (guardrails/during_filter.cc; exchange_during.cc): its checks run beside
  // the attempts. holdForDuring() keeps everything the client would get in the AnswerGate
  // (and the checks, destroyed, cancelling them, if the exchange ends first) until they decide:
  // every check allowed (it goes out, the rest follows as usual) or one blocked (the call in
  // flight is cancelled, what was held dropped, the block is the answer).
  void holdForDuring(std::unique_ptr<guardrails::DuringChecks> checks) override;
  void duringDecided(bool blocked) override;

  Worker& worker() { return worker_; }
  const GatewayConfig& config() const;

  // CallObserver
  void onCallHead(int status, http::HeaderList headers, int64_t content_length) override;
  void onCallBody(std::string_view data) override;
  void onCallEnd(const CallUsage& usage) override;
  void onCallError(CallErrorKind kind, std::string message) override;
  void onCallUsage(const CallUsage& usage) override;
  bool callBlocked() const override;
  void pauseRequestBody(bool pause) override;

  // Answers that are not event streams are held until complete (up to this size), so a
  // failure before the end is still a clean error response (or a retry), and the answer goes
  // out in one write. An event stream's head is held until its first event.
  static constexpr size_t kMaxHeldBody = 8 << 20;
  // Error-class and unavailable fallbacks followed per request, at most.
  static constexpr int kMaxRouteHops = 3;

  // The request log (exchange_record.cc). The record is written once: just before the
  // response's last write, when the client goes away, or at destruction, whichever is first.
  void writeRecord(bool client_gone);
  // A response that had started was cut (error event after bytes went out).
  void notePartial(std::string_view type, std::string_view message);

  // One attempt, for the x-aigw-attempts header and the routing summary.
  struct Attempt {
    const router::Target* target;
    std::string model;       // upstream model
    int status = 0;          // 0: no answer
    uint64_t start_ns = 0;
    uint64_t end_ns = 0;
    std::string error;
  };
  const std::vector<Attempt>& attempts() const { return attempts_; }
  // The attempts as the log and the routing summary write them; an attempt still running gets
  // `unfinished` as its error (null: none).
  std::vector<log::AttemptRecord> attemptRecords(uint64_t now, const char* unfinished) const;

 private:
  struct HeldResponse {
    int status;
    http::HeaderList headers;
    int64_t content_length;
    std::string body;
  };

  http::HeaderList baseHeaders() const;
  // x-aigw-* (and, on an error answer of a route that retried, x-should-retry: false).
  void addRoutingHeaders(http::HeaderList& headers, int status) const;
  void startCall(const Provider& provider, const router::Target* target);
  void releaseCall();
  void commitHeld();
  void respondHeld(std::unique_ptr<HeldResponse> held);
  // Usage and cost of the answer that ended or was cut (exchange_cost.cc, rec_.usage): prices
  // it, counts it, and tells the client the cost (a header on a held answer, a comment at the
  // end of an event stream). Returns true when the Python cost hook prices it first: the
  // answer then waits, and releaseAnswer() follows once the cost is known.
  bool priceAnswer();
  void costHookDone(double usd);
  // The client left, or the answer is cut with no way to tell its cost: usage already seen
  // is counted at the table's cost (a cost hook still working is cancelled by the caller).
  void settleCostNow();
  void bookCost(double usd);
  void tellCost();
  void answeredBy(std::string_view* model, const Provider** provider) const;
  // The answer is complete (and priced): a held one goes out (output guardrails first), a
  // stream ends.
  void releaseAnswer();
  // A stream cut after its head went out, its error event written: its usage is priced, then it ends.
  void endCutStream();
  // With a cost hook: a stream's closing "data: [DONE]" (at the end of `data`) is kept back
  // until the cost is known, so clients that stop reading there (the OpenAI SDKs) wait for it.
  void holdStreamEnd(std::string_view& data);
  void blockAnswer();  // an output or stream guardrail refused the answer
  // Relays answer bytes the client may have (through the head hold, the cost hook's [DONE]
  // hold and the answer hold).
  void relayBody(std::string_view data);
  // The answer's bytes are all relayed: a held stream head goes out, then the cost, then the end.
  void endAnswer();

  // The stream stage (exchange_stream.cc): a guarded event stream goes through stream_guard_,
  // which hands back what may go out, maybe later (asynchronous guardrails).
  bool guardsStream() const;
  // The stream guard of an attempt that stopped answering: it hears nothing more.
  void dropStreamGuard();
  void streamOut(std::string_view bytes) override;
  void streamBlocked() override;
  void streamFinished() override;
  void streamDrained() override;
  guardrails::AsyncCheckPtr startStreamCheck(const guardrails::Guardrail& g, const guardrails::CheckInput& in,
                                             std::function<std::string_view()> subject,
                                             guardrails::CheckDone done) override;
  void appendStreamSubject(std::string& out) override;
  void releaseLater(DeferredDeletablePtr p) override;
  // The answer hold (exchange_answer.cc): a complete held answer waits for the output
  // guardrails (which may be asynchronous) before it goes out; answerChecked() releases it
  // with `body` (lent to them, as they left it), or the client gets the block. Ignored when
  // the request already ended (deadline, client gone) while they ran.
  void holdAnswer();
  void answerChecked(bool blocked, std::string body);
  void releaseDuring();
  void blockDuring();

  // The attempt loop (exchange_routing.cc).
  void beginRouting();
  router::PickInput pickInput(uint64_t now);
  void nextAttempt();
  void onSlotGranted();
  void launch();
  void endAttempt(router::Outcome outcome, int status, std::string_view error);
  void afterFailure(router::Failure failure);
  void noTarget();
  void giveUp();
  void switchRoute(const router::Route* route);
  void waitThen(uint64_t ms);
  void onDeadline();
  void finishRouting();
  bool wantsSummary() const { return summary_; }
  std::string summaryJson() const;
  std::string withSummary(std::string body) const;
  void sendRoutingError(int status, std::string_view message, std::string_view type, std::string_view code,
                        int64_t retry_after_s = -1);

  Worker& worker_;
  http::Request request_;
  RecordState rec_;
  RecordingWriter recorder_;        // what the log sees of the response
  AnswerGate gate_;                 // in front of recorder_: holds the answer while during checks run
  http::ResponseWriter& writer_;    // gate_
  std::string id_;
  uint64_t start_ns_;
  size_t next_filter_ = 0;
  ApiCall api_;
  ProviderCallPtr call_;
  DeferredDeletablePtr parked_;
  bool event_stream_ = false;      // the answer being relayed is text/event-stream
  std::unique_ptr<HeldResponse> held_;
  bool sse_head_held_ = false;     // held_ is an event stream's head, waiting for its first event
  std::string early_body_;         // streamed body that arrived before the provider call existed
  bool early_end_ = false;
  bool done_ = false;
  int status_ = 0;
  enum class CostStep : uint8_t { Open, Waiting, Settled };
  CostStep cost_step_ = CostStep::Open;
  double table_cost_ = -1;          // the table's cost, kept while the cost hook works
  std::string stream_end_;          // a held "data: [DONE]" event (holdStreamEnd)
  std::unique_ptr<guardrails::RequestGuardrails> guardrails_;
  std::unique_ptr<guardrails::DuringChecks> during_;  // the during checks still running (after guardrails_: destroyed first)
  std::unique_ptr<guardrails::StreamGuard> stream_guard_;  // the stream stage of the answering attempt (idem)

  // Routing state (only used when api_.route is set).
  const router::Route* route_ = nullptr;
  std::string_view captured_;
  int hops_ = 0;
  int route_attempts_ = 0;                    // attempts started on route_
  const router::Target* target_ = nullptr;    // the attempt in progress (or waiting for a slot)
  bool probe_ = false;                        // it is the breaker's half-open probe
  bool slot_held_ = false;                    // it holds a concurrency slot
  bool retry_slot_ = false;                   // it (or the wait before it) is a retry the budget allowed
  bool failing_ = false;                      // the attempt answered >= 400: held for a decision
  bool summary_ = false;
  router::ConcurrencyLimit::WaiterPtr waiter_;
  std::vector<const router::Target*> failed_;
  std::vector<const router::Target*> skip_;
  std::vector<Attempt> attempts_;
  std::string attempt_body_;                  // the body rewritten by the target's transforms
  LazyJson attempt_json_;
  std::unique_ptr<HeldResponse> failure_;     // the last failed attempt's answer, relayed on giving up
  CallUsage failure_usage_;                   // and the usage it reported (counted if it is relayed)
  CallErrorKind last_error_kind_ = CallErrorKind::Internal;
  std::string last_error_;                    // the last attempt's error with no answer
  uint64_t deadline_ns_ = 0;
  std::unique_ptr<Timer> deadline_timer_;
  std::unique_ptr<Timer> wait_timer_;
};

}  // namespace aigw
