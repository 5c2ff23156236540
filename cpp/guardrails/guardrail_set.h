// Every configured guardrail, compiled once from the core config, and which of them apply to
// each route (its `guardrails` list, or those marked default), split by stage and ordered by
// priority. Immutable after construction; the counters inside are atomics.
//
// Core config document, "guardrails" (Python's config.py produces it, every field present):
//   {"name": "no-secrets", "kind": "phrases" | "regex" | "limits" | "moderation" | "python",
//    "stages": ["input" | "during" | "output" | "stream", ...], "priority": 0,
//    "action": "block" | "redact", "on_error": "block" | "allow",
//    "default": false, "request_selectable": false, "passthrough": false, "everywhere": false,
//    "block": {"status": 400, "message": null, "type": "invalid_request_error", "code": "content_blocked"},
//    phrases: "phrases": [...], "whole_words": false, "replacement": "[REDACTED]"
//    regex:   "patterns": [...], "presets": ["email", "phone", "card", "secrets"],
//             "replacement": "[REDACTED]", "case_insensitive": false, "window": 64
//    limits:  "max_input_tokens": 0, "max_messages": 0, "max_input_bytes": 0   (0: none)
//    moderation: "provider": "openai", "model": "omni-moderation-latest", "timeout_ms": 5000
//    python:  "timeout_ms": 5000, "window": 64  (the check runs on the Python hook thread)}
//   everywhere: a guardrail passed to aigw.Gateway(guardrails=...): it applies to every route.
// Routes: "guardrails": ["name", ...] selects by name; null: the default ones.
// Values are taken as given: Python validated them (ranges, stage and kind combinations).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "guardrails/guardrail.h"

namespace aigw::router {
struct Route;
class RouteTable;
}  // namespace aigw::router

namespace aigw::guardrails {

struct Selection {
  std::vector<const Guardrail*> input, output, stream;  // each by priority, then config order
  std::vector<const Guardrail*> during;                 // all run at once; kept in the same order
  size_t window = 0;  // stream hold-back: the longest lookback among `stream`

  bool empty() const { return input.empty() && output.empty() && stream.empty() && during.empty(); }
  bool contains(const Guardrail* g) const;
  // Adds `g` at every stage it runs at, keeping the order.
  void add(const Guardrail* g);
};

class GuardrailSet {
 public:
  // Throws std::runtime_error listing every problem (bad pattern, unknown name on a route ...).
  // `providers` resolves the provider names of moderation guardrails.
  static std::unique_ptr<GuardrailSet> fromJson(const nlohmann::json& entries, const router::RouteTable& routes,
                                                const std::unordered_map<std::string, const Provider*>& providers = {});

  // What applies to requests resolved to `route` (null: the defaults).
  const Selection& forRoute(const router::Route* route) const;
  const Guardrail* byName(std::string_view name) const;
  const std::vector<std::unique_ptr<Guardrail>>& all() const { return all_; }
  // {"<name>": {"kind", "stages", "runs", "blocks", "redactions", "errors", "timeouts", "duration_us",
  //             "upstream_cancels"}}
  nlohmann::json statsJson() const;
  // Some guardrail runs at the during stage (the pipeline then has a during filter).
  bool hasDuring() const { return has_during_; }

 private:
  std::vector<std::unique_ptr<Guardrail>> all_;
  std::unordered_map<std::string, const Guardrail*> by_name_;
  Selection defaults_;
  bool has_during_ = false;
  std::unordered_map<const router::Route*, Selection> routes_;
};

}  // namespace aigw::guardrails
