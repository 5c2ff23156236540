#include "translate/gemini_request_decoder.h"

#include <string>
#include <utility>
#include <vector>

#include "translate/json_member.h"
#include "translate/json_path.h"

namespace aigw::translate {

namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "an OpenAI upstream";

// generationConfig fields with an OpenAI twin of the same meaning.
constexpr std::pair<std::string_view, const char*> kGeneration[] = {
    {"temperature", "temperature"},       {"topP", "top_p"},
    {"topK", "top_k"},                    {"maxOutputTokens", "max_tokens"},
    {"stopSequences", "stop"},            {"candidateCount", "n"},
    {"seed", "seed"},                     {"presencePenalty", "presence_penalty"},
    {"frequencyPenalty", "frequency_penalty"},
};

class Decoding {
 public:
  Decoding(const RequestOptions& options, Translation& outcome) : policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void system(const json& instruction, json& messages);
  void turn(const json& content, size_t i, json& messages);
  bool part(const json& p, const std::string& path, json& parts, json& calls, json& messages);
  void generation(const json& config, json& out);
  void tools(const json& list, json& out);
  void toolConfig(const json& config, json& out);

  FieldPolicy policy_;
  int64_t next_call_ = 0;
  std::vector<std::pair<std::string, std::string>> open_calls_;  // name, id: calls not yet answered
};

void Decoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  json& messages = out["messages"] = json::array();
  system(member(in, "systemInstruction"), messages);
  const json& contents = member(in, "contents");
  if (!contents.is_array()) return policy_.refuse("contents", "must be an array");
  for (size_t i = 0; i < contents.size() && !policy_.failed(); ++i) turn(contents[i], i, messages);
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) {
    const std::string& key = it.key();
    if (key == "contents" || key == "systemInstruction" || it.value().is_null()) continue;
    if (key == "generationConfig") {
      generation(it.value(), out);
    } else if (key == "tools") {
      tools(it.value(), out);
    } else if (key == "toolConfig") {
      toolConfig(it.value(), out);
    } else {
      policy_.drop(key, key);  // safetySettings, cachedContent and anything newer
    }
  }
}

void Decoding::system(const json& instruction, json& messages) {
  if (instruction.is_null()) return;
  std::string text;
  const json& parts = member(instruction, "parts");
  for (size_t j = 0; j < parts.size(); ++j) {
    if (!member(parts[j], "text").is_string())
      return policy_.refuse(jsonPath("systemInstruction", "parts", j), "a system instruction holds text only");
    if (!text.empty()) text += '\n';
    text += memberString(parts[j], "text");
  }
  messages.push_back({{"role", "system"}, {"content", std::move(text)}});
}

void Decoding::turn(const json& content, size_t i, json& messages) {
  const std::string_view role = memberString(content, "role", "user");
  const json& list = member(content, "parts");
  if (!list.is_array()) return policy_.refuse(jsonPath("contents", i, "parts"), "must be an array");
  json parts = json::array(), calls = json::array();
  for (size_t j = 0; j < list.size(); ++j) {
    if (!part(list[j], jsonPath("contents", i, "parts", j), parts, calls, messages)) return;
  }
  if (role == "model") {
    json m = {{"role", "assistant"}, {"content", nullptr}};
    std::string text;
    for (const json& p : parts) {
      if (p["type"] != "text" && !policy_.drop("contents.parts", jsonPath("contents", i, "parts"), "a model turn holds text"))
        return;
      text += p.value("text", "");
    }
    if (!text.empty()) m["content"] = std::move(text);
    if (!calls.empty()) m["tool_calls"] = std::move(calls);
    if (parts.size() > 0 || m.contains("tool_calls")) messages.push_back(std::move(m));
  } else if (!parts.empty()) {
    messages.push_back({{"role", "user"}, {"content", std::move(parts)}});
  }
}

// One part into `parts` (content parts), `calls` (tool calls) or, for a functionResponse,
// straight into `messages` as a tool message.
bool Decoding::part(const json& p, const std::string& path, json& parts, json& calls, json& messages) {
  if (member(p, "text").is_string()) {
    if (member(p, "thought") != true) parts.push_back({{"type", "text"}, {"text", member(p, "text")}});
  } else if (p.contains("inlineData")) {
    const json& d = member(p, "inlineData");
    const std::string media(memberString(d, "mimeType"));
    const std::string url = "data:" + media + ";base64," + std::string(memberString(d, "data"));
    if (media.rfind("image/", 0) == 0)
      parts.push_back({{"type", "image_url"}, {"image_url", {{"url", url}}}});
    else
      parts.push_back({{"type", "file"}, {"file", {{"file_data", url}}}});
  } else if (p.contains("fileData")) {
    parts.push_back({{"type", "image_url"}, {"image_url", {{"url", member(member(p, "fileData"), "fileUri")}}}});
  } else if (p.contains("functionCall")) {
    const json& call = member(p, "functionCall");
    std::string id = "call_" + std::to_string(next_call_++);
    const json& args = member(call, "args");
    open_calls_.emplace_back(memberString(call, "name"), id);
    json c = {{"id", id},
              {"type", "function"},
              {"function", {{"name", memberString(call, "name")}, {"arguments", args.is_null() ? "{}" : args.dump()}}}};
    if (!memberString(p, "thoughtSignature").empty())
      c["extra_content"] = {{"google", {{"thought_signature", memberString(p, "thoughtSignature")}}}};
    calls.push_back(std::move(c));
  } else if (p.contains("functionResponse")) {
    const json& r = member(p, "functionResponse");
    const std::string_view name = memberString(r, "name");
    std::string id;
    for (auto it = open_calls_.begin(); it != open_calls_.end(); ++it) {
      if (it->first == name) {
        id = std::move(it->second);
        open_calls_.erase(it);
        break;
      }
    }
    if (id.empty()) {
      policy_.refuse(path + ".functionResponse.name", "answers no function call of an earlier turn");
      return false;
    }
    const json& response = member(r, "response");
    const json& wrapped = member(response, "content");
    messages.push_back({{"role", "tool"},
                        {"tool_call_id", std::move(id)},
                        {"content", wrapped.is_string() && response.size() == 1 ? wrapped.get<std::string>()
                                                                                : response.dump()}});
  } else {
    return policy_.drop("contents.parts", path);  // executableCode, videoMetadata ...
  }
  return true;
}

void Decoding::generation(const json& config, json& out) {
  for (auto it = config.begin(); config.is_object() && it != config.end() && !policy_.failed(); ++it) {
    const std::string& key = it.key();
    const char* openai = nullptr;
    for (const auto& [gemini, name] : kGeneration) {
      if (key == gemini) openai = name;
    }
    if (openai != nullptr) {
      out[openai] = it.value();
    } else if (key == "responseMimeType") {
      if (it.value() == "application/json" && !out.contains("response_format"))
        out["response_format"] = {{"type", "json_object"}};
      else if (it.value() != "text/plain" && it.value() != "application/json")
        policy_.drop("generationConfig.responseMimeType", "generationConfig.responseMimeType");
    } else if (key == "responseJsonSchema" || key == "responseSchema") {
      out["response_format"] = {{"type", "json_schema"},
                                {"json_schema", {{"name", "response"}, {"schema", it.value()}}}};
    } else if (key == "thinkingConfig") {
      const json& budget = member(it.value(), "thinkingBudget");
      if (budget.is_number_integer()) {
        const int64_t b = budget.get<int64_t>();
        out["reasoning_effort"] = b == 0 ? "none" : b <= 1024 ? "low" : b <= 8192 ? "medium" : "high";
      }
    } else {
      policy_.drop("generationConfig." + key, "generationConfig." + key);
    }
  }
}

void Decoding::tools(const json& list, json& out) {
  json tools = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    for (auto it = list[i].begin(); list[i].is_object() && it != list[i].end(); ++it) {
      if (it.key() != "functionDeclarations") {
        if (!policy_.drop("tools." + it.key(), jsonPath("tools", i, it.key()))) return;
        continue;
      }
      for (const json& d : it.value()) {
        json fn = {{"name", memberString(d, "name")}};
        if (member(d, "description").is_string()) fn["description"] = member(d, "description");
        const json& schema = member(d, "parametersJsonSchema");
        const json& params = schema.is_null() ? member(d, "parameters") : schema;
        if (!params.is_null()) fn["parameters"] = params;
        tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
      }
    }
  }
  if (!tools.empty()) out["tools"] = std::move(tools);
}

void Decoding::toolConfig(const json& config, json& out) {
  const json& calling = member(config, "functionCallingConfig");
  const std::string_view mode = memberString(calling, "mode");
  const json& names = member(calling, "allowedFunctionNames");
  if (mode == "NONE") {
    out["tool_choice"] = "none";
  } else if (mode == "AUTO" || mode.empty()) {
    out["tool_choice"] = "auto";
  } else if (mode == "ANY" && names.is_array() && names.size() == 1) {
    out["tool_choice"] = {{"type", "function"}, {"function", {{"name", names[0]}}}};
  } else if (mode == "ANY" && names.empty()) {
    out["tool_choice"] = "required";
  } else {
    policy_.drop("toolConfig", "toolConfig", "only NONE, AUTO and ANY with at most one name map");
  }
}

}  // namespace

Translation GeminiRequestDecoder::decode(const json& gemini, std::string_view model, bool stream, json& openai) const {
  Translation outcome;
  openai = json::object();
  openai["model"] = model;
  if (stream) {
    openai["stream"] = true;
    openai["stream_options"] = {{"include_usage", true}};  // Gemini streams always carry usage
  }
  Decoding(options_, outcome).run(gemini, openai);
  return outcome;
}

}  // namespace aigw::translate
