#include "guardrails/python_guardrail.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "hooks/hook_queue.h"
#include "hooks/hook_wait.h"

namespace aigw::guardrails {
namespace {

// One check in flight: the job's ticket and the backstop timer (a HookWait). Destroying or
// cancelling it cancels the job (Python's task for it gets CancelledError) and the timer.
class PythonCheck final : public AsyncCheck {
 public:
  PythonCheck(hooks::HookQueue& queue, EventLoop& loop, const PythonGuardrail& g, CheckDone done)
      : queue_(queue), loop_(loop), guardrail_(g), done_(std::move(done)), wait_(queue, loop) {}

  void start(std::string payload) {
    // `done` runs on this loop and only while the ticket is not cancelled (our destructor).
    hooks::HookQueue::TicketPtr ticket = queue_.submit(
        loop_, "guardrail", std::move(payload), [this](bool ok, std::string result) { finish(guardrail_.verdictFor(ok, result)); });
    wait_.arm(std::move(ticket), finished_ ? 0 : guardrail_.backstopMs(), [this] {
      finish(guardrail_.failure("timed out: no verdict came within " + std::to_string(guardrail_.backstopMs()) + " ms", true));
    });
  }

  void cancel() override {
    finished_ = true;
    done_ = nullptr;
    wait_.cancel();
  }

 private:
  void finish(CheckResult r) {
    if (finished_) return;
    finished_ = true;
    wait_.cancel();
    CheckDone done = std::move(done_);
    done(std::move(r));  // may release this object (deferred): nothing after this line
  }

  hooks::HookQueue& queue_;
  EventLoop& loop_;
  const PythonGuardrail& guardrail_;
  CheckDone done_;
  hooks::HookWait wait_;
  bool finished_ = false;
};

// What the hook thread sends for an allow (aigw._hooks._ALLOW), compared before any parsing:
// it is most verdicts.
constexpr std::string_view kAllow = R"({"verdict":"allow"})";

std::string stringOr(const nlohmann::json& v, const char* key, std::string fallback) {
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>() : std::move(fallback);
}

}  // namespace

CheckResult PythonGuardrail::check(CheckInput&) const {
  return failure("a python guardrail cannot run synchronously", false);
}

CheckResult PythonGuardrail::failure(std::string reason, bool timeout) const {
  CheckResult r;
  r.error = true;
  r.timeout = timeout;
  r.block = BlockResponse{503, "guardrail '" + name() + "' failed: " + reason, "service_unavailable_error",
                          "guardrail_error"};
  r.reason = std::move(reason);
  return r;
}

CheckResult PythonGuardrail::verdictFor(bool ok, const std::string& result) const {
  if (!ok) return failure("the hook layer failed: " + result, false);
  if (result == kAllow) return CheckResult{};
  nlohmann::json v = parseJson(result);
  if (!v.is_object()) return failure("unreadable verdict", false);
  const std::string verdict = stringOr(v, "verdict", "");
  CheckResult r;
  if (auto hold = v.find("hold"); hold != v.end() && verdict != "block" && verdict != "error") {
    if (hold->is_number_unsigned()) {
      r.hold = hold->get<size_t>();
    } else if (hold->is_string() && hold->get_ref<const std::string&>() == "all") {
      r.hold = CheckResult::kHoldAll;
    } else {
      return failure("a hold must be a count of characters or \"all\"", false);
    }
  }
  if (verdict == "allow") return r;
  if (verdict == "block") {
    r.verdict = Verdict::Block;
    // What the verdict leaves out is the guardrail's configured block (its `block:`).
    BlockResponse b = settings().block;
    auto status = v.find("status");
    if (status != v.end() && status->is_number_integer()) b.status = status->get<int>();
    if (b.status < 400 || b.status > 599) b.status = settings().block.status;
    b.message = stringOr(v, "message", "");  // empty: the configured message, or one naming the guardrail
    b.type = stringOr(v, "type", b.type);
    b.code = stringOr(v, "code", b.code);
    r.block = std::move(b);
    return r;
  }
  if (verdict == "redact") {
    r.verdict = Verdict::Redact;
    auto pairs = v.find("redactions");
    if (pairs == v.end() || !pairs->is_array()) return failure("a redaction without redactions", false);
    for (const auto& p : *pairs) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
        return failure("a redaction must be [text, replacement] pairs", false);
      }
      r.redactions.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
    }
    return r;
  }
  if (verdict == "rewrite") {
    r.verdict = Verdict::Rewrite;
    if (auto texts = v.find("texts"); texts != v.end() && texts->is_array()) {
      for (auto& t : *texts) {
        if (!t.is_string()) return failure("a rewrite's texts must be strings", false);
        r.rewritten.push_back(std::move(t.get_ref<std::string&>()));
      }
      return r;
    }
    if (auto body = v.find("body"); body != v.end() && body->is_object()) {
      r.document = std::move(*body);
      return r;
    }
    return failure("a rewrite without texts or body", false);
  }
  if (verdict == "error") {
    auto timeout = v.find("timeout");
    return failure(stringOr(v, "message", "the check failed"), timeout != v.end() && timeout->is_boolean() && timeout->get<bool>());
  }
  return failure("unknown verdict '" + verdict + "'", false);
}

AsyncCheckPtr PythonGuardrail::startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const {
  if (ctx.hooks == nullptr || !ctx.subject) {
    done(failure("no Python hook layer is running", false));
    return nullptr;
  }
  const std::string_view subject = ctx.subject();
  size_t size = name().size() + subject.size() + 64;
  for (const std::string* t : *in.texts) size += t->size() + 8;
  std::string payload;
  payload.reserve(size);
  payload += stageName(in.stage);
  payload += ':';
  payload += name();
  payload += "\n{\"texts\":[";
  for (size_t i = 0; i < in.texts->size(); ++i) {
    if (i != 0) payload += ',';
    appendJsonString(payload, *(*in.texts)[i]);
  }
  if (in.stage == Stage::Stream) {
    payload += "],\"window\":{\"choice\":";
    payload += std::to_string(in.choice);
    payload += in.final ? ",\"final\":true}}\n{" : ",\"final\":false}}\n{";
  } else {
    payload += "],";
  }
  payload += subject;
  payload += '}';
  auto check = std::make_unique<PythonCheck>(*ctx.hooks, ctx.calls.loop, *this, std::move(done));
  check->start(std::move(payload));
  return check;
}

}  // namespace aigw::guardrails
