#include "gateway/exchange.h"

#include "core/clock.h"
#include "core/echo.h"
#include "cost/cost_stage.h"
#include "gateway/config.h"
#include "gateway/routing_summary.h"
#include "gateway/worker.h"
#include "guardrails/block_answer.h"
#include "guardrails/during_checks.h"
#include "guardrails/during_gate.h"
#include "guardrails/output_guard_stage.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/stream_guard_stage.h"
#include "http/response.h"
#include "pipeline/error_answer.h"

namespace aigw {

Exchange::Exchange(Worker& worker, http::Request&& request, http::ResponseWriter& writer)
    : worker_(worker), request_(std::move(request)), id_(worker.newRequestId()), start_ns_(monotonicNs()),
      recorder_(writer, *this, rec_) {
  rec_.start_wall_ms = wallMs();
  worker_.shared().requests_in_flight.fetch_add(1, std::memory_order_relaxed);
}

Exchange::~Exchange() {
  // Checks still in flight will not decide anything for this request any more: booked as
  // cancelled before the stages holding them go.
  if (guardrails_ && !rec_.written) guardrails_->cutShort();
  // Top first: the cost stage settles usage it saw before the record is written.
  while (!stages_.empty()) stages_.pop_back();
  writeRecord(false);
  attempts_.reset();
  worker_.shared().requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
}

const GatewayConfig& Exchange::config() const { return worker_.config(); }
EventLoop& Exchange::loop() { return worker_.loop(); }
CallContext& Exchange::callContext() { return worker_.callContext(); }
hooks::HookQueue& Exchange::hookQueue() { return worker_.shared().hooks; }

void Exchange::setGuardrails(std::unique_ptr<guardrails::RequestGuardrails> g) { guardrails_ = std::move(g); }

void Exchange::start() {
  if (worker_.logRefuses()) {
    // The request log is over its bound in backpressure mode: not admitted, so no record.
    rec_.skip = true;
    sendError(503, "the gateway's request log is behind; retry shortly", "service_unavailable_error",
              "log_backpressure");
    return;
  }
  continuePipeline();
}

void Exchange::park(DeferredDeletablePtr work) { parked_ = std::move(work); }

void Exchange::continuePipeline() {
  // The parked work is usually on the stack below us: release it on the next iteration.
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  const FilterChain& chain = worker_.filters();
  while (!done_ && next_filter_ < chain.size()) {
    const Filter& filter = *chain[next_filter_++];
    if (filter.onRequest(*this) == FilterStatus::StopIteration) return;
  }
  if (!done_) sendError(500, "the request pipeline ended without an answer", "server_error");
}

void Exchange::onClientGone() {
  done_ = true;
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  during_.reset();  // cancels during checks not yet handed to their gate
  if (guardrails_) guardrails_->cutShort();  // checks in flight are booked as cancelled
  // The stages hear it top down (the cost settles, then the record is written), then the
  // attempts end (an attempt still running is recorded as cancelled by the client).
  ResponseStage& top = stages_.empty() ? bottom() : *stages_.back();
  top.onEvent(AnswerEvent::ClientGone);
  if (attempts_) attempts_->clientGone();
}

void Exchange::onWritable() {
  if (attempts_) attempts_->resumeAnswer();
}

void Exchange::onRequestBody(std::string_view data) {
  if (done_) return;
  if (attempts_) {
    attempts_->onRequestBody(data);
    return;
  }
  // The pipeline has not reached the provider yet: hold a bounded amount.
  if (pending_.hold(data)) recorder_.pauseRequestBody();
}

void Exchange::onRequestEnd() {
  if (done_) return;
  if (attempts_) {
    attempts_->onRequestEnd();
  } else {
    pending_.ended = true;
  }
}

void Exchange::sendJson(int status, std::string_view body) {
  if (done_) return;
  done_ = true;
  http::HeaderList h;
  h.add("x-aigw-request-id", id_);
  h.add("content-type", "application/json");
  bottom().respond(status, h, body);
}

void Exchange::sendError(int status, std::string_view message, std::string_view type, std::string_view code,
                         std::string_view param, const http::HeaderList* extra) {
  if (done_) return;
  done_ = true;
  // The record needs no parse of the body we make here.
  rec_.noteError(type.empty() ? std::string_view(http::errorTypeForStatus(status)) : type,
                 message.substr(0, kErrorMessageMaxBytes));
  respondError(bottom(), id_, status, message, type, code, param, extra);
}

ResponseStage& Exchange::bottom() {
  if (api_.client == ApiShape::OpenAi) return recorder_;
  if (!client_stage_) client_stage_ = std::make_unique<ClientAnswerStage>(recorder_, clientEncoder(api_.client));
  return *client_stage_;
}

void Exchange::dispatch() {
  // A stage that reads the answer reads OpenAI's shape: no attempt may answer in another.
  if (guardrails_ && (guardrails_->checksAnswer() || guardrails_->streaming())) api_.native_body.clear();
  attempts_ = std::make_unique<AttemptLoop>(AttemptRequest{request_, api_, id_, start_ns_, worker_.loop(),
                                                           worker_.callContext(), config().server(), rec_, pending_});
  attempts_->start(buildStages());
}

ResponseStage& Exchange::buildStages() {
  ResponseStage* top = &bottom();
  if (client_stage_) client_stage_->attach(*attempts_, api_.endpoint);
  auto add = [&](std::unique_ptr<ResponseStage> stage) {
    top = stage.get();
    stages_.push_back(std::move(stage));
  };
  // Bottom up: what the client gets passes the stages in the reverse order.
  if (during_) {
    auto gate = std::make_unique<guardrails::DuringGate>(*top, std::move(during_), *guardrails_, *attempts_,
                                                         worker_.loop(), id_);
    gate_ = gate.get();
    add(std::move(gate));
  }
  if (routingSummaryAsked(api_, request_, config().server())) {
    add(std::make_unique<RoutingSummaryStage>(*top, *attempts_, attempts_->routes(), rec_));
  }
  if (guardrails_ && guardrails_->checksAnswer()) {
    add(std::make_unique<guardrails::OutputGuardStage>(*top, *this, *guardrails_, rec_, *attempts_));
  }
  add(std::make_unique<cost::CostStage>(*top, worker_.costSettings(), *this, rec_, *attempts_));
  if (guardrails_ && guardrails_->streaming()) {
    add(std::make_unique<guardrails::StreamGuardStage>(*top, *this, *guardrails_, *attempts_));
  }
  return *top;
}

void Exchange::holdForDuring(std::unique_ptr<guardrails::DuringChecks> checks) { during_ = std::move(checks); }

void Exchange::duringDecided(bool blocked) {
  if (gate_ != nullptr) {
    gate_->decided(blocked);
    return;
  }
  // Decided before dispatch (a synchronous guardrail, or a check that answered at once): no
  // call is made.
  during_.reset();
  if (!blocked || done_) return;
  done_ = true;
  guardrails::respondBlock(bottom(), guardrails_->blocked(), id_);
}

}  // namespace aigw
