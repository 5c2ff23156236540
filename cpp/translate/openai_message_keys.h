// The keys of an OpenAI chat message that no target API has a place for (name, audio, ...):
// shared by the translators of OpenAI requests, so every target drops or refuses the same ones.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "translate/json_path.h"
#include "translate/translation.h"

namespace aigw::translate {

// Each key of message `i` besides role, content, tool_calls and tool_call_id is dropped by
// "messages.<key>" or refused. Null values, and empty annotations and refusal (echoed back by
// SDKs from an earlier answer), say nothing.
inline void checkOpenAiMessageKeys(FieldPolicy& policy, const nlohmann::json& m, size_t i) {
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    if (k == "role" || k == "content" || k == "tool_calls" || k == "tool_call_id" || v.is_null()) continue;
    if ((k == "annotations" || k == "refusal") && v.empty()) continue;
    if (!policy.drop("messages." + k, jsonPath("messages", i, k))) return;
  }
}

}  // namespace aigw::translate
