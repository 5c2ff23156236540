#include "guardrails/builtins.h"

#include <algorithm>

#include <re2/re2.h>

#include "core/json_field.h"
#include "guardrails/moderation.h"
#include "guardrails/python_guardrail.h"
#include "providers/usage.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;

CheckResult blocked(std::string reason) {
  CheckResult r;
  r.verdict = Verdict::Block;
  r.reason = std::move(reason);
  r.reason_public = true;  // built-ins name the rule, never the text that matched
  return r;
}

}  // namespace

PatternGuardrail::PatternGuardrail(GuardrailSettings settings, std::vector<Pattern> patterns, size_t window)
    : Guardrail(std::move(settings)), patterns_(std::move(patterns)), window_(window) {
  for (const Pattern& p : patterns_) window_ = std::max(window_, p.max_match);
}

CheckResult PatternGuardrail::check(CheckInput& in) const {
  const bool redact = settings().redact;
  CheckResult result;
  for (std::string* text : *in.texts) {
    for (const Pattern& p : patterns_) {
      const ScanResult s = scan(p, *text, redact, in.settled, in.final);
      if (!redact && s.matches > 0) {
        return blocked(p.name == "phrase"    ? std::string("matched a blocked phrase")
                       : p.name == "pattern" ? std::string("matched a blocked pattern")
                                             : "matched the '" + p.name + "' pattern");
      }
      if (s.touched) result.verdict = Verdict::Redact;
    }
  }
  return result;
}

CheckResult LimitsGuardrail::check(CheckInput& in) const {
  if (in.stage != Stage::Input) return {};
  if (limits_.max_input_bytes > 0 && in.body_bytes > static_cast<size_t>(limits_.max_input_bytes)) {
    return blocked("the request body is " + std::to_string(in.body_bytes) + " bytes, more than max_input_bytes (" +
                   std::to_string(limits_.max_input_bytes) + ")");
  }
  if (limits_.max_messages > 0 && in.endpoint == Endpoint::ChatCompletions && in.body != nullptr) {
    auto it = in.body->find("messages");
    const size_t n = it != in.body->end() && it->is_array() ? it->size() : 0;
    if (n > static_cast<size_t>(limits_.max_messages)) {
      return blocked("the request has " + std::to_string(n) + " messages, more than max_messages (" +
                     std::to_string(limits_.max_messages) + ")");
    }
  }
  if (limits_.max_input_tokens > 0) {
    int64_t tokens = 0;
    if (in.endpoint != Endpoint::Passthrough && in.body != nullptr) {
      tokens = estimatePromptTokens(in.endpoint, *in.body);
    } else {
      for (const std::string* t : *in.texts) tokens += static_cast<int64_t>((t->size() + 3) / 4);
    }
    if (tokens > limits_.max_input_tokens) {
      return blocked("the input is about " + std::to_string(tokens) + " tokens, more than max_input_tokens (" +
                     std::to_string(limits_.max_input_tokens) + ")");
    }
  }
  return {};
}

std::unique_ptr<Guardrail> makeBuiltin(GuardrailSettings settings, const json& j, const std::string& where,
                                       const ProviderMap& providers, std::vector<std::string>& problems) {
  const std::string& kind = settings.kind;
  const size_t before = problems.size();
  if (kind == "phrases") {
    Pattern p;
    std::string error;
    if (!phrasePattern(field<std::vector<std::string>>(j, "phrases"), field<bool>(j, "whole_words"), &p, &error)) {
      problems.push_back(where + ".phrases: " + error);
      return nullptr;
    }
    p.replacement = field<std::string>(j, "replacement");
    std::vector<Pattern> patterns;
    patterns.push_back(std::move(p));
    return std::make_unique<PatternGuardrail>(std::move(settings), std::move(patterns), 0);
  }
  if (kind == "regex") {
    std::vector<Pattern> patterns;
    const bool ci = field<bool>(j, "case_insensitive");
    const std::string replacement = field<std::string>(j, "replacement");
    const auto exprs = field<std::vector<std::string>>(j, "patterns");
    for (size_t i = 0; i < exprs.size(); ++i) {
      std::string error;
      Pattern p;
      p.name = "pattern";
      p.re = compileRe2(exprs[i], ci, &error);
      if (!p.re) {
        problems.push_back(where + ".patterns[" + std::to_string(i) + "]: invalid RE2 pattern: " + error);
        continue;
      }
      p.replacement = replacement;
      patterns.push_back(std::move(p));
    }
    const auto presets = field<std::vector<std::string>>(j, "presets");
    for (size_t i = 0; i < presets.size(); ++i) {
      Pattern p;
      if (!presetPattern(presets[i], &p)) {
        problems.push_back(where + ".presets[" + std::to_string(i) + "]: unknown preset '" + presets[i] +
                           "' (known: email, phone, card, secrets)");
        continue;
      }
      patterns.push_back(std::move(p));
    }
    if (problems.size() != before) return nullptr;
    return std::make_unique<PatternGuardrail>(std::move(settings), std::move(patterns), field<size_t>(j, "window"));
  }
  if (kind == "limits") {
    InputLimits limits;
    limits.max_input_tokens = field<int64_t>(j, "max_input_tokens");
    limits.max_messages = field<int64_t>(j, "max_messages");
    limits.max_input_bytes = field<int64_t>(j, "max_input_bytes");
    return std::make_unique<LimitsGuardrail>(std::move(settings), limits);
  }
  if (kind == "moderation") {
    const std::string provider = field<std::string>(j, "provider");
    auto it = providers.find(provider);
    if (it == providers.end()) {
      problems.push_back(where + ".provider: unknown provider '" + provider + "'");
      return nullptr;
    }
    return std::make_unique<ModerationGuardrail>(std::move(settings), it->second, field<std::string>(j, "model"),
                                                 field<uint64_t>(j, "timeout_ms"));
  }
  if (kind == "python") {
    return std::make_unique<PythonGuardrail>(std::move(settings), field<uint64_t>(j, "timeout_ms"),
                                             field<size_t>(j, "window"));
  }
  problems.push_back(where + ".kind: unsupported guardrail kind '" + kind + "'");
  return nullptr;
}

}  // namespace aigw::guardrails
