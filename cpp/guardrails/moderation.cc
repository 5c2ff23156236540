#include "guardrails/moderation.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/request.h"

namespace aigw::guardrails {
namespace {

// One moderation call: owns the request it sends and observes the provider call.
class ModerationCall final : public AsyncCheck, public CallObserver {
 public:
  ModerationCall(EventLoop& loop, CheckDone done) : loop_(loop), done_(std::move(done)) {}
  ~ModerationCall() override {
    if (call_) loop_.deferredDelete(std::move(call_));
  }

  void start(AsyncCheckContext& ctx, const Provider& provider, std::string body, uint64_t timeout_ms) {
    request_.method = "POST";
    request_.target = "/v1/moderations";
    request_.headers.add("content-type", "application/json");
    request_.body = std::move(body);
    json_.reset(request_.body);
    CallRequest req{Endpoint::Passthrough, request_, request_.body, json_, true, {}, {}, false,
                    ctx.request_id, "/moderations", false};
    req.connect_timeout_ms = timeout_ms;
    req.first_byte_timeout_ms = timeout_ms;
    req.idle_timeout_ms = timeout_ms;
    ProviderCallPtr call = provider.start(ctx.calls, req, *this);
    if (finished_) {
      if (call) loop_.deferredDelete(std::move(call));
      return;
    }
    call_ = std::move(call);
  }

  void cancel() override {
    finished_ = true;
    done_ = nullptr;
    if (call_) loop_.deferredDelete(std::move(call_));
  }

  // CallObserver
  void onCallHead(int status, http::HeaderList, int64_t) override { status_ = status; }
  void onCallBody(std::string_view data) override {
    if (body_.size() + data.size() <= (1 << 20)) body_.append(data);
  }
  void onCallEnd(const CallUsage&) override { finish(ModerationGuardrail::verdictFor(status_, body_)); }
  void onCallError(CallErrorKind kind, std::string message) override {
    CheckResult r;
    r.error = true;
    r.timeout = kind == CallErrorKind::Timeout;
    r.reason = r.timeout ? "the moderation call timed out" : "the moderation call failed";
    finish(std::move(r));
  }
  bool callBlocked() const override { return finished_; }

 private:
  void finish(CheckResult r) {
    if (finished_) return;
    finished_ = true;
    if (call_) loop_.deferredDelete(std::move(call_));
    CheckDone done = std::move(done_);
    done(std::move(r));  // may destroy this object's owner: nothing after this line
  }

  EventLoop& loop_;
  CheckDone done_;
  http::Request request_;
  LazyJson json_;
  ProviderCallPtr call_;
  int status_ = 0;
  std::string body_;
  bool finished_ = false;
};

}  // namespace

CheckResult ModerationGuardrail::check(CheckInput&) const {
  CheckResult r;
  r.error = true;
  r.reason = "moderation cannot run synchronously";
  return r;
}

CheckResult ModerationGuardrail::verdictFor(int status, std::string_view body) {
  CheckResult r;
  if (status < 200 || status >= 300) {
    r.error = true;
    r.reason = "the moderation endpoint answered " + std::to_string(status);
    return r;
  }
  const nlohmann::json doc = parseJson(body);
  auto results = doc.is_object() ? doc.find("results") : doc.end();
  if (!doc.is_object() || results == doc.end() || !results->is_array()) {
    r.error = true;
    r.reason = "the moderation answer has no results";
    return r;
  }
  std::string categories;
  bool flagged = false;
  for (const auto& result : *results) {
    if (!result.is_object()) continue;
    auto f = result.find("flagged");
    if (f == result.end() || !f->is_boolean() || !f->get<bool>()) continue;
    flagged = true;
    if (auto c = result.find("categories"); c != result.end() && c->is_object()) {
      for (const auto& [name, value] : c->items()) {
        if (value.is_boolean() && value.get<bool>() && categories.find(name) == std::string::npos) {
          categories += (categories.empty() ? "" : ", ") + name;
        }
      }
    }
  }
  if (flagged) {
    r.verdict = Verdict::Block;
    r.reason = "flagged by moderation" + (categories.empty() ? std::string() : " (" + categories + ")");
    r.reason_public = true;
  }
  return r;
}

AsyncCheckPtr ModerationGuardrail::startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const {
  std::string body = "{\"model\":";
  appendJsonString(body, model_);
  body += ",\"input\":[";
  bool first = true;
  for (const std::string* t : *in.texts) {
    if (t->empty()) continue;
    if (!first) body += ",";
    first = false;
    appendJsonString(body, *t);
  }
  body += "]}";
  if (first) {  // nothing to moderate
    done(CheckResult{});
    return nullptr;
  }
  auto call = std::make_unique<ModerationCall>(ctx.calls.loop, std::move(done));
  ModerationCall* raw = call.get();
  raw->start(ctx, *provider_, std::move(body), timeout_ms_);
  return call;
}

}  // namespace aigw::guardrails
