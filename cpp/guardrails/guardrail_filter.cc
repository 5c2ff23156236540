#include "guardrails/guardrail_filter.h"

#include "core/clock.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The input stage of one request. Synchronous guardrails run at once; at an asynchronous one
// (moderation) the request parks: this object is handed to Exchange::park (which destroys it,
// cancelling the check, if the request ends first) and resumes the pipeline when it is done.
class InputStage final : public DeferredDeletable {
 public:
  InputStage(Exchange& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list, nlohmann::json& doc)
      : ex_(ex), loop_(ex.worker().loop()), doc_(doc), run_(req, list, inputFor(ex, doc, &texts)) {}
  // Runs when the exchange ends (or on the loop turn after the stage finished): a check still
  // in flight is cancelled, and released after the provider call it may own.
  ~InputStage() override {
    if (check_) {
      check_->cancel();
      loop_.deferredDelete(std::move(check_));
    }
  }

  // Continue: done, the request goes on. StopIteration: answered (blocked), or waiting for
  // an asynchronous check (waiting() is then true and the caller must park this object).
  FilterStatus advance() {
    for (;;) {
      const StageOutcome outcome = run_.run();
      if (outcome.status != StageOutcome::Status::Pending) return finish(outcome);
      waiting_ = true;
      started_ns_ = monotonicNs();
      AsyncCheckContext ctx{ex_.worker().callContext(), ex_.id()};
      AsyncCheckPtr check = run_.pending()->startCheck(ctx, run_.input(), [this](CheckResult r) { onVerdict(std::move(r)); });
      if (check_) loop_.deferredDelete(std::move(check_));
      check_ = std::move(check);
      if (waiting_) return FilterStatus::StopIteration;
      // Answered before startCheck returned: go on.
    }
  }
  bool waiting() const { return waiting_; }
  void setParked() { parked_ = true; }

 private:
  static CheckInput inputFor(Exchange& ex, nlohmann::json& doc, TextRefs* texts) {
    CheckInput in;
    in.texts = texts;
    in.stage = Stage::Input;
    in.endpoint = ex.api().endpoint;
    in.body = &doc;
    in.body_bytes = ex.request().body.size();
    return in;
  }

  void onVerdict(CheckResult r) {
    waiting_ = false;
    run_.resume(std::move(r), (monotonicNs() - started_ns_) / 1000);
    if (!parked_) return;  // advance() is still on the stack and goes on
    if (advance() == FilterStatus::Continue) ex_.continuePipeline();  // releases this object
  }

  FilterStatus finish(const StageOutcome& outcome) {
    if (outcome.status == StageOutcome::Status::Blocked) {
      const BlockInfo& b = ex_.guardrails()->blocked();
      ex_.sendError(b.status, b.message, b.type, b.code);
      return FilterStatus::StopIteration;
    }
    if (outcome.changed) {
      // The redacted document is what every attempt sends (CallRequest reads request.body
      // and api.body; transforms start from api.body's document).
      http::Request& request = ex_.request();
      request.body = dumpJson(doc_);
      ex_.api().body.retarget(request.body);
    }
    return FilterStatus::Continue;
  }

 public:
  TextRefs texts;  // filled before advance(); the run's CheckInput points here

 private:
  Exchange& ex_;
  EventLoop& loop_;
  nlohmann::json& doc_;
  StageRun run_;
  AsyncCheckPtr check_;
  uint64_t started_ns_ = 0;
  bool waiting_ = false;
  bool parked_ = false;
};

}  // namespace

FilterStatus GuardrailFilter::onRequest(Exchange& ex) const {
  const GuardrailSet* set = ex.config().guardrails();
  const std::string* names = ex.request().headers.find(kSelectHeader);
  if (set == nullptr && names == nullptr) return FilterStatus::Continue;  // the common case: free
  ApiCall& api = ex.api();
  static const Selection kNone;
  const Selection* selection = set != nullptr ? &set->forRoute(api.route) : &kNone;
  Selection extended;
  if (names != nullptr) {
    extended = *selection;
    std::string_view rest = *names;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      const Guardrail* g = set != nullptr ? set->byName(name) : nullptr;
      // Unknown and not selectable read the same: the header does not reveal what exists.
      if (g == nullptr || !g->settings().request_selectable) {
        ex.sendError(400, "guardrail '" + std::string(name) + "' cannot be selected per request",
                     "invalid_request_error", "guardrail_not_selectable");
        return FilterStatus::StopIteration;
      }
      extended.add(g);
    }
    selection = &extended;
  }
  if (selection->empty()) return FilterStatus::Continue;
  ex.setGuardrails(selection == &extended ? std::make_unique<RequestGuardrails>(std::move(extended), api.endpoint)
                                          : std::make_unique<RequestGuardrails>(*selection, api.endpoint));
  RequestGuardrails& req = *ex.mutableGuardrails();
  const std::vector<const Guardrail*>* input = &req.selection().input;
  std::vector<const Guardrail*> passthrough;
  if (api.endpoint == Endpoint::Passthrough && !input->empty()) {
    for (const Guardrail* g : *input) {
      if (g->settings().passthrough) passthrough.push_back(g);
    }
    input = &passthrough;
  }
  if (input->empty() || !api.json_object || ex.bodyStreamed()) return FilterStatus::Continue;
  nlohmann::json& doc = api.body.mutableDoc();
  if (!doc.is_object()) return FilterStatus::Continue;
  if (input == &passthrough) {
    // The list must outlive a parked stage: keep it in the request's selection storage.
    req.setPassthroughInput(std::move(passthrough));
    input = &req.passthroughInput();
  }
  auto stage = std::make_unique<InputStage>(ex, req, *input, doc);
  requestTexts(api.endpoint, doc, stage->texts);
  const FilterStatus status = stage->advance();
  if (stage->waiting()) {
    stage->setParked();
    ex.park(std::move(stage));
  }
  return status;
}

}  // namespace aigw::guardrails
