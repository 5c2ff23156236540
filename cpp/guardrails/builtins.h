// The built-in guardrails, all synchronous and GIL-free:
//   phrases  a block list of phrases (case-insensitive, optionally whole words)
//   regex    RE2 user patterns and presets (email, phone, card, secrets): block or redact
//   limits   input size: estimated tokens, messages, body bytes
// (and builds the moderation guardrail, moderation.h, the one that is asynchronous).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "guardrails/guardrail.h"
#include "guardrails/patterns.h"

namespace aigw::guardrails {

// Phrases and regex: a list of patterns, scanned in order over every text.
class PatternGuardrail final : public Guardrail {
 public:
  PatternGuardrail(GuardrailSettings settings, std::vector<Pattern> patterns, size_t window);
  CheckResult check(CheckInput& in) const override;
  size_t lookback() const override { return window_; }
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  std::vector<Pattern> patterns_;
  size_t window_;
};

struct InputLimits {
  int64_t max_input_tokens = 0;  // 0: no limit
  int64_t max_messages = 0;
  int64_t max_input_bytes = 0;
};

class LimitsGuardrail final : public Guardrail {
 public:
  LimitsGuardrail(GuardrailSettings settings, InputLimits limits) : Guardrail(std::move(settings)), limits_(limits) {}
  CheckResult check(CheckInput& in) const override;

 private:
  InputLimits limits_;
};

// Builds a built-in from its core config entry (see guardrail_set.h); appends every problem to
// `problems` (prefixed with `where`) and returns null when there is one.
using ProviderMap = std::unordered_map<std::string, const Provider*>;
std::unique_ptr<Guardrail> makeBuiltin(GuardrailSettings settings, const nlohmann::json& j, const std::string& where,
                                       const ProviderMap& providers, std::vector<std::string>& problems);

}  // namespace aigw::guardrails
