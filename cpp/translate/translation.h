// What every API translator shares: the caller's options, the outcome of one translation, and the
// rule that a field the target cannot express is dropped only when drop_params names it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aigw::translate {

// Anthropic requires max_tokens; an OpenAI request without max_tokens/max_completion_tokens gets
// this many (docs/providers.md). The config is meant to emit the route's value; this is the one
// the Python schema should default to.
inline constexpr int64_t kDefaultAnthropicMaxTokens = 4096;

// A drop_params entry that drops every field the target cannot express (values of the wrong
// type are still refused). Explicit in config, and how the gateway reads an Anthropic request
// for its own stages when the client's bytes go to an Anthropic provider untranslated.
inline constexpr std::string_view kDropEverything = "*";

struct RequestOptions {
  // Names of fields to drop instead of refusing (docs/providers.md lists them): a top-level
  // field by its name ("seed"), a nested one by its path without indices
  // ("messages.name", "tools.function.strict").
  std::vector<std::string> drop_params;
  // OpenAI -> Anthropic: max_tokens when the request sets neither max_tokens nor max_completion_tokens.
  int64_t default_max_tokens = kDefaultAnthropicMaxTokens;
  // Anthropic -> OpenAI: write max_completion_tokens (OpenAI's reasoning models require it)
  // instead of max_tokens (which every OpenAI-compatible server knows).
  bool use_max_completion_tokens = false;
};

// Why a translation failed. A refused request field is a 400 invalid_request_error in the
// client's API; an untranslatable upstream answer is the gateway's 502.
struct TranslationError {
  std::string field;      // where, with indices: "messages[2].content[0].type"; empty for the whole body
  std::string drop_name;  // the drop_params entry that would drop it; empty when it cannot be dropped
  std::string message;    // for the client, naming the field
};

struct Translation {
  bool ok = true;
  TranslationError error;
  std::vector<std::string> dropped;  // the drop_params entries that dropped something, once each
};

// Applies the drop-or-refuse rule for one translation and records its outcome.
class FieldPolicy {
 public:
  FieldPolicy(const std::vector<std::string>& drop_params, std::string_view target, Translation& outcome)
      : drop_params_(drop_params), target_(target), outcome_(outcome) {}

  // A field at `path` (drop name `drop_name`) that the target cannot express: returns true when
  // drop_params names it (the caller leaves it out), false after recording the refusal.
  bool drop(std::string_view drop_name, std::string_view path, std::string_view why = {});
  // A value that cannot be translated at all (wrong type, unknown kind): always a refusal.
  void refuse(std::string_view path, std::string_view message);
  bool failed() const { return !outcome_.ok; }

 private:
  const std::vector<std::string>& drop_params_;
  std::string_view target_;
  Translation& outcome_;
};

}  // namespace aigw::translate
