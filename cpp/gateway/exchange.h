// One request's journey through the gateway: the request stages (the worker's filter chain, from
// the current position), then the terminal stage (the AttemptLoop) writing the answer into the
// response stages, then the record. The exchange owns the request, the pipeline position, the
// lifecycle (client gone, destruction) and the chain of response stages; the work is theirs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client_api/client_answer_stage.h"
#include "gateway/attempt_loop.h"
#include "gateway/exchange_record.h"
#include "http/exchange_api.h"
#include "pipeline/api_call.h"
#include "pipeline/record_state.h"
#include "pipeline/request_stage.h"
#include "pipeline/response_stage.h"

namespace aigw {

class Worker;
class GatewayConfig;
namespace guardrails {
class DuringGate;
}

class Exchange final : public http::RequestHandler, public RequestContext {
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
  void holdForDuring(std::unique_ptr<guardrails::DuringChecks> checks) override;
  void duringDecided(bool blocked) override;

  Worker& worker() { return worker_; }
  const GatewayConfig& config() const;
  // The request log (exchange_record.cc). The record is written once: just before the
  // response's last write, when the client goes away, or at destruction, whichever is first.
  void writeRecord(bool client_gone);

 private:
  // Builds the response stages this request needs over the record stage, top last.
  ResponseStage& buildStages();
  // Where the gateway's answers go in: the record stage, or for a client of another API than
  // OpenAI the stage that speaks it (made when first needed).
  ResponseStage& bottom();

  Worker& worker_;
  http::Request request_;
  std::string id_;
  uint64_t start_ns_;
  size_t next_filter_ = 0;
  ApiCall api_;
  DeferredDeletablePtr parked_;
  bool done_ = false;
  RecordState rec_;
  RecordingWriter recorder_;  // the last response stage, in front of the connection
  PendingBody pending_;       // a streamed body arriving before a call can take it
  std::unique_ptr<guardrails::RequestGuardrails> guardrails_;
  std::unique_ptr<guardrails::DuringChecks> during_;  // during checks started, not yet handed to their gate
  std::unique_ptr<AttemptLoop> attempts_;             // the terminal stage, once dispatched
  std::unique_ptr<ClientAnswerStage> client_stage_;  // over recorder_, for clients of another API
  std::vector<std::unique_ptr<ResponseStage>> stages_;  // over recorder_, bottom first
  guardrails::DuringGate* gate_ = nullptr;              // one of stages_, while during checks run
};

}  // namespace aigw
