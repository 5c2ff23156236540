#include "guardrails/exchange_stages.h"

#include "core/json_parse.h"
#include "core/json_text.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/stage_run.h"
#include "guardrails/text_views.h"
#include "http/credential_headers.h"

namespace aigw::guardrails {
namespace {

// What the input and output stages share: the document and its texts, the StageRun over them,
// the starting of asynchronous checks with the worker's context, and the subject Python sees
// (rebuilt only after the texts changed).
class ExchangeStage : public DeferredDeletable, public StageHost {
 public:
  ExchangeStage(RequestContext& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list, nlohmann::json& doc,
                Stage stage)
      : ex_(ex), loop_(ex.loop()), doc_(doc), run_(req, list, inputFor(ex, req, doc, stage), this) {}

  // Runs what can run now. False: done (outcome()); true: waiting, the exchange must park it.
  bool start() {
    outcome_ = run_.run();
    return outcome_.status == StageOutcome::Status::Pending;
  }
  const StageOutcome& outcome() const { return outcome_; }

  AsyncCheckPtr startCheck(const Guardrail& g, const CheckInput& in, CheckDone done) override {
    return guardrails::startCheck(ex_, g, in, [this] { return subject(); }, std::move(done));
  }
  void dropCheck(AsyncCheckPtr check) override { loop_.deferredDelete(std::move(check)); }

 protected:
  virtual void buildSubject(std::string& out) = 0;
  bool edited() const { return run_.edits() != 0; }

  RequestContext& ex_;
  EventLoop& loop_;
  nlohmann::json& doc_;
  TextRefs texts_;  // filled by the derived constructor; the run's CheckInput points here
  StageRun run_;
  StageOutcome outcome_;

 private:
  CheckInput inputFor(RequestContext& ex, RequestGuardrails& req, nlohmann::json& doc, Stage stage) {
    CheckInput in;
    in.stage = stage;
    in.endpoint = req.endpoint();
    in.texts = &texts_;
    if (stage == Stage::Input) {
      in.body = &doc;
      in.body_bytes = ex.request().body.size();
    }
    return in;
  }

  std::string_view subject() {
    if (subject_edits_ != run_.edits() || subject_.empty()) {
      subject_.clear();
      buildSubject(subject_);
      subject_edits_ = run_.edits();
    }
    return subject_;
  }

  std::string subject_;
  uint32_t subject_edits_ = 0;
};

class InputStage final : public ExchangeStage {
 public:
  InputStage(RequestContext& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list, nlohmann::json& doc)
      : ExchangeStage(ex, req, list, doc, Stage::Input) {
    requestTexts(ex.api().endpoint, doc, texts_);
  }

  FilterStatus finish() {
    if (outcome_.status == StageOutcome::Status::Blocked) {
      const BlockInfo& b = ex_.guardrails()->blocked();
      http::HeaderList extra;
      extra.add("x-aigw-guardrail", b.guardrail->name());
      ex_.sendError(b.status, b.message, b.type, b.code, {}, &extra);
      return FilterStatus::StopIteration;
    }
    if (outcome_.changed) {
      // The edited document is what every attempt sends (CallRequest reads request.body and
      // api.body; transforms start from api.body's document).
      http::Request& request = ex_.request();
      request.body = dumpJson(doc_);
      ex_.api().body.retarget(request.body);
      ex_.api().native_body.clear();  // the client's own bytes no longer say what is sent
    }
    return FilterStatus::Continue;
  }

  bool replaceDocument(nlohmann::json doc) override {
    if (!doc.is_object()) return false;
    // The route was chosen by the model: a rewrite keeps it.
    if (auto model = doc_.find("model"); model != doc_.end()) doc["model"] = *model;
    doc_ = std::move(doc);
    texts_.clear();
    requestTexts(ex_.api().endpoint, doc_, texts_);
    return true;
  }

  void settled(StageOutcome outcome) override {
    outcome_ = outcome;
    if (finish() == FilterStatus::Continue) ex_.continuePipeline();  // releases this object
  }

 private:
  void buildSubject(std::string& out) override {
    if (edited()) {
      appendRequestSubject(out, ex_, dumpJson(doc_));
    } else {
      appendRequestSubject(out, ex_, ex_.request().body);
    }
  }
};

class OutputStage final : public ExchangeStage {
 public:
  OutputStage(RequestContext& ex, RequestGuardrails& req, nlohmann::json doc, std::string body, AnswerChecked checked)
      : ExchangeStage(ex, req, req.selection().output, own_, Stage::Output), own_(std::move(doc)),
        body_(std::move(body)), checked_(std::move(checked)) {
    answerTexts(req.endpoint(), own_, texts_);
  }

  void finish() {
    const bool blocked = outcome_.status == StageOutcome::Status::Blocked;
    if (!blocked && outcome_.changed) body_ = dumpJson(own_);
    checked_(blocked, std::move(body_));
  }

  bool replaceDocument(nlohmann::json doc) override {
    if (!doc.is_object()) return false;
    own_ = std::move(doc);
    texts_.clear();
    answerTexts(ex_.api().endpoint, own_, texts_);
    return true;
  }

  void settled(StageOutcome outcome) override {
    outcome_ = outcome;
    finish();  // releases this object (deferred)
  }

 private:
  void buildSubject(std::string& out) override {
    appendRequestSubject(out, ex_, ex_.request().body);
    out += ",\"response\":";
    if (edited()) {
      out += dumpJson(own_);
    } else {
      out += body_;  // valid JSON: it parsed
    }
  }

  nlohmann::json own_;
  std::string body_;  // the held answer's body, lent until checked_ runs
  AnswerChecked checked_;
};

}  // namespace

FilterStatus runInputStage(RequestContext& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list,
                           nlohmann::json& doc) {
  auto stage = std::make_unique<InputStage>(ex, req, list, doc);
  if (!stage->start()) return stage->finish();
  ex.park(std::move(stage));
  return FilterStatus::StopIteration;
}

DeferredDeletablePtr runOutputStage(RequestContext& ex, RequestGuardrails& req, std::string body,
                                    AnswerChecked checked) {
  nlohmann::json doc = parseJson(body);
  if (doc.is_discarded()) {
    // An answer that is not JSON cannot be checked: each guardrail's on_error decides.
    for (const Guardrail* g : req.selection().output) {
      CheckResult r;
      r.error = true;
      r.reason = "the answer is not JSON";
      if (req.record(*g, Stage::Output, std::move(r), 0).verdict == Verdict::Block) {
        checked(true, std::move(body));
        return nullptr;
      }
    }
    checked(false, std::move(body));
    return nullptr;
  }
  auto stage = std::make_unique<OutputStage>(ex, req, std::move(doc), std::move(body), std::move(checked));
  if (!stage->start()) {
    stage->finish();
    return nullptr;
  }
  return stage;
}

AsyncCheckPtr startCheck(RequestContext& ex, const Guardrail& g, const CheckInput& in,
                         std::function<std::string_view()> subject, CheckDone done) {
  AsyncCheckContext ctx{ex.callContext(), ex.id(), &ex.hookQueue(), std::move(subject)};
  return g.startCheck(ctx, in, std::move(done));
}

void appendRequestSubject(std::string& out, RequestContext& ex, std::string_view body) {
  const ApiCall& api = ex.api();
  out.reserve(out.size() + 256 + body.size());
  out += "\"request\":{\"request_id\":";
  appendJsonString(out, ex.id());
  out += ",\"endpoint\":";
  appendJsonString(out, endpointName(api.endpoint));
  out += ",\"path\":";
  appendJsonString(out, ex.request().path());
  out += ",\"model\":";
  appendJsonString(out, api.model);
  out += ",\"route\":";
  appendJsonStringOrNull(out, api.route != nullptr ? std::string_view(api.route->name) : std::string_view());
  out += ",\"stream\":";
  out += api.stream ? "true" : "false";
  out += ",\"headers\":";
  http::appendHeadersJsonWithoutCredentials(out, ex.request().headers);
  out += ",\"body\":";
  out += body;  // a JSON object: the API request filter checked it
  out += "}";
}

}  // namespace aigw::guardrails
