#include "translate/anthropic_request_encoder.h"

#include <string>
#include <string_view>

#include "core/json_parse.h"
#include "translate/data_url.h"
#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/openai_message_keys.h"

namespace aigw::translate {

namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "an Anthropic upstream";

bool isAbsent(const json& v) {
  return v.is_null();
}

// A value that equals OpenAI's default says nothing Anthropic would need to hear.
bool isDefaultNumber(const json& v, double def) {
  return v.is_null() || (v.is_number() && v.get<double>() == def);
}

class Encoding {
 public:
  Encoding(const RequestOptions& options, Translation& outcome)
      : options_(options), policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void topLevel(const std::string& key, const json& value, json& out);
  void messages(const json& list, json& out);
  void systemMessage(const json& m, size_t i);
  void userMessage(const json& m, size_t i, json& turns);
  void assistantMessage(const json& m, size_t i, json& turns);
  void toolMessage(const json& m, size_t i, json& turns);
  bool contentParts(const json& content, size_t i, json& blocks);
  bool imagePart(const json& part, size_t i, size_t j, json& blocks);
  bool filePart(const json& part, size_t i, size_t j, json& blocks);
  void tools(const json& list, json& out);
  void toolChoice(const json& choice, json& out);
  void maxTokens(const json& value, const char* key);

  const RequestOptions& options_;
  FieldPolicy policy_;
  json system_ = json::array();
  bool last_turn_is_tool_results_ = false;
  bool no_parallel_tools_ = false;
  bool has_max_completion_tokens_ = false;
  json max_tokens_;
};

void Encoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  out = json::object();
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) topLevel(it.key(), it.value(), out);
  if (policy_.failed()) return;
  out["max_tokens"] = max_tokens_.is_null() ? json(options_.default_max_tokens) : max_tokens_;
  if (system_.size() == 1 && system_[0].size() == 2) {
    out["system"] = std::move(system_[0]["text"]);  // one plain block: the common string form
  } else if (!system_.empty()) {
    out["system"] = std::move(system_);
  }
  if (no_parallel_tools_) {
    json& choice = out["tool_choice"];
    if (choice.is_null()) choice = {{"type", "auto"}};
    if (member(choice, "type") != "none") choice["disable_parallel_tool_use"] = true;
  }
}

void Encoding::maxTokens(const json& value, const char* key) {
  if (!value.is_number_integer()) return policy_.refuse(key, "must be an integer");
  // max_completion_tokens is OpenAI's current name; it wins over the deprecated max_tokens.
  if (std::string_view(key) == "max_completion_tokens") {
    has_max_completion_tokens_ = true;
    max_tokens_ = value;
  } else if (!has_max_completion_tokens_) {
    max_tokens_ = value;
  }
}

void Encoding::topLevel(const std::string& key, const json& v, json& out) {
  if (key == "model" || key == "temperature" || key == "top_p" || key == "stream" || key == "top_k" ||
      key == "thinking") {
    // Same name, same meaning (top_k and thinking: Anthropic's own, sent by OpenAI clients
    // through extra_body).
    if (!isAbsent(v)) out[key] = v;
  } else if (key == "messages") {
    messages(v, out);
  } else if (key == "max_tokens" || key == "max_completion_tokens") {
    if (!isAbsent(v)) maxTokens(v, key.c_str());
  } else if (key == "stop") {
    if (v.is_string()) {
      out["stop_sequences"] = json::array({v});
    } else if (v.is_array()) {
      if (!v.empty()) out["stop_sequences"] = v;
    } else if (!isAbsent(v)) {
      policy_.refuse("stop", "must be a string or an array of strings");
    }
  } else if (key == "user") {
    if (v.is_string())
      out["metadata"]["user_id"] = v;
    else if (!isAbsent(v))
      policy_.refuse("user", "must be a string");
  } else if (key == "tools") {
    if (!isAbsent(v)) tools(v, out);
  } else if (key == "tool_choice") {
    if (!isAbsent(v)) toolChoice(v, out);
  } else if (key == "parallel_tool_calls") {
    no_parallel_tools_ = v.is_boolean() && !v.get<bool>();
  } else if (key == "stream_options") {
    // Consumed: include_usage tells the stream decoder whether to send the usage chunk.
  } else if (key == "n") {
    if (!isDefaultNumber(v, 1)) policy_.drop("n", "n", "Anthropic returns one choice");
  } else if (key == "presence_penalty" || key == "frequency_penalty") {
    if (!isDefaultNumber(v, 0)) policy_.drop(key, key);
  } else if (key == "logprobs" || key == "store") {
    if (!v.is_null() && v != false) policy_.drop(key, key);
  } else if (key == "logit_bias" || key == "metadata") {
    if (!v.is_null() && !v.empty()) policy_.drop(key, key);
  } else if (key == "response_format") {
    // json_object / json_schema: Anthropic has no JSON mode; a prompt instruction would not
    // guarantee JSON and the forced-tool trick changes the answer's shape (docs/providers.md).
    if (!v.is_null() && !(v.is_object() && memberString(v, "type") == "text")) {
      policy_.drop("response_format", "response_format", "Anthropic has no JSON mode");
    }
  } else if (key == "service_tier") {
    if (v == "auto")
      out["service_tier"] = "auto";
    else if (!isAbsent(v))
      policy_.drop(key, key);
  } else if (!isAbsent(v)) {
    // seed, top_logprobs, reasoning_effort, modalities, audio, prediction, functions and any
    // field this table does not know: never passed on blindly, never lost silently.
    policy_.drop(key, key);
  }
}

void Encoding::messages(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("messages", "must be an array");
  json& turns = out["messages"] = json::array();
  for (size_t i = 0; i < list.size() && !policy_.failed(); ++i) {
    const json& m = list[i];
    const json* role = m.is_object() ? &member(m, "role") : nullptr;
    if (role == nullptr || !role->is_string()) {
      policy_.refuse(jsonPath("messages", i, "role"), "must be a string");
      return;
    }
    checkOpenAiMessageKeys(policy_, m, i);
    const std::string& r = role->get_ref<const std::string&>();
    if (r == "system" || r == "developer") {
      systemMessage(m, i);  // hoisted: Anthropic has one system prompt, before the turns
    } else if (r == "user") {
      userMessage(m, i, turns);
    } else if (r == "assistant") {
      assistantMessage(m, i, turns);
    } else if (r == "tool") {
      toolMessage(m, i, turns);
    } else {
      policy_.refuse(jsonPath("messages", i, "role"), "unknown role '" + r + "' for an Anthropic upstream");
    }
  }
}

void Encoding::systemMessage(const json& m, size_t i) {
  const json& content = member(m, "content");
  if (content.is_string()) {
    system_.push_back({{"type", "text"}, {"text", content}});
    return;
  }
  json blocks = json::array();
  if (!contentParts(content, i, blocks)) return;
  for (json& b : blocks) {
    if (b["type"] != "text")
      return policy_.refuse(jsonPath("messages", i, "content"), "a system message holds text only");
    system_.push_back(std::move(b));
  }
}

void Encoding::userMessage(const json& m, size_t i, json& turns) {
  last_turn_is_tool_results_ = false;
  const json& content = member(m, "content");
  if (content.is_string()) {
    turns.push_back({{"role", "user"}, {"content", content}});
    return;
  }
  json blocks = json::array();
  if (contentParts(content, i, blocks)) turns.push_back({{"role", "user"}, {"content", std::move(blocks)}});
}

void Encoding::assistantMessage(const json& m, size_t i, json& turns) {
  last_turn_is_tool_results_ = false;
  const json& content = member(m, "content");
  const json& calls = member(m, "tool_calls");
  json blocks = json::array();
  if (content.is_string()) {
    if (calls.is_null() || calls.empty()) {
      turns.push_back({{"role", "assistant"}, {"content", content}});
      return;
    }
    if (!content.get_ref<const std::string&>().empty()) blocks.push_back({{"type", "text"}, {"text", content}});
  } else if (!content.is_null() && !contentParts(content, i, blocks)) {
    return;
  }
  if (!calls.is_null() && !calls.is_array())
    return policy_.refuse(jsonPath("messages", i, "tool_calls"), "must be an array");
  for (size_t j = 0; j < calls.size(); ++j) {
    const json& call = calls[j];
    const json* fn = call.is_object() && call.contains("function") ? &member(call, "function") : nullptr;
    if (fn == nullptr || !fn->is_object() || !call.contains("id") || !member((*fn), "name").is_string()) {
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j), "needs an id and a function with a name");
    }
    const json& args = member((*fn), "arguments");
    json input = json::object();
    if (args.is_string() && !args.get_ref<const std::string&>().empty()) {
      input = parseJson(args.get_ref<const std::string&>());
    }
    if (!input.is_object()) {
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j, "function", "arguments"),
                            "must be a JSON object in a string (Anthropic's tool_use input is an object)");
    }
    blocks.push_back({{"type", "tool_use"},
                      {"id", member(call, "id")},
                      {"name", member((*fn), "name")},
                      {"input", std::move(input)}});
  }
  turns.push_back({{"role", "assistant"}, {"content", std::move(blocks)}});
}

void Encoding::toolMessage(const json& m, size_t i, json& turns) {
  const json& id = member(m, "tool_call_id");
  if (!id.is_string()) return policy_.refuse(jsonPath("messages", i, "tool_call_id"), "must be a string");
  json result = {{"type", "tool_result"}, {"tool_use_id", id}};
  const json& content = member(m, "content");
  if (content.is_string()) {
    result["content"] = content;
  } else {
    json blocks = json::array();
    if (!contentParts(content, i, blocks)) return;
    result["content"] = std::move(blocks);
  }
  // Anthropic wants every result of one assistant turn's tool calls in the next user turn.
  if (!last_turn_is_tool_results_) turns.push_back({{"role", "user"}, {"content", json::array()}});
  turns.back()["content"].push_back(std::move(result));
  last_turn_is_tool_results_ = true;
}

bool Encoding::contentParts(const json& content, size_t i, json& blocks) {
  if (!content.is_array()) {
    policy_.refuse(jsonPath("messages", i, "content"), "must be a string or an array of content parts");
    return false;
  }
  for (size_t j = 0; j < content.size(); ++j) {
    const json& part = content[j];
    const json* type = part.is_object() && part.contains("type") ? &member(part, "type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      policy_.refuse(jsonPath("messages", i, "content", j, "type"), "must be a string");
      return false;
    }
    const std::string& t = type->get_ref<const std::string&>();
    bool ok = true;
    if (t == "text" || t == "refusal") {
      const json& text = member(part, t);
      if (!text.is_string()) {
        policy_.refuse(jsonPath("messages", i, "content", j, t), "must be a string");
        return false;
      }
      json block = {{"type", "text"}, {"text", text}};
      if (part.contains("cache_control")) block["cache_control"] = member(part, "cache_control");
      blocks.push_back(std::move(block));
    } else if (t == "image_url") {
      ok = imagePart(part, i, j, blocks);
    } else if (t == "file") {
      ok = filePart(part, i, j, blocks);
    } else {
      ok = policy_.drop("messages.content." + t, jsonPath("messages", i, "content", j));
    }
    if (!ok) return false;
  }
  return true;
}

bool Encoding::imagePart(const json& part, size_t i, size_t j, json& blocks) {
  const json& image = member(part, "image_url");
  const json& url = image.is_object() ? member(image, "url") : image;
  if (!url.is_string()) {
    policy_.refuse(jsonPath("messages", i, "content", j, "image_url", "url"), "must be a string");
    return false;
  }
  if (image.is_object() && image.contains("detail") && !member(image, "detail").is_null() &&
      member(image, "detail") != "auto" &&
      !policy_.drop("messages.content.image_url.detail", jsonPath("messages", i, "content", j, "image_url", "detail"),
                    "Anthropic has no image detail level")) {
    return false;
  }
  const std::string& u = url.get_ref<const std::string&>();
  std::string_view media, data;
  json block = {{"type", "image"}};
  if (splitDataUrl(u, media, data)) {
    block["source"] = {{"type", "base64"}, {"media_type", media}, {"data", data}};
  } else if (u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0) {
    block["source"] = {{"type", "url"}, {"url", url}};
  } else {
    policy_.refuse(jsonPath("messages", i, "content", j, "image_url", "url"),
                   "must be an http(s) URL or a base64 data URL");
    return false;
  }
  if (part.contains("cache_control")) block["cache_control"] = member(part, "cache_control");
  blocks.push_back(std::move(block));
  return true;
}

// A PDF sent as file_data becomes a document block; a file_id names OpenAI's file store.
bool Encoding::filePart(const json& part, size_t i, size_t j, json& blocks) {
  const json& file = member(part, "file");
  const json& file_data = member(file, "file_data");
  std::string_view media, data;
  if (!file_data.is_string() || !splitDataUrl(file_data.get_ref<const std::string&>(), media, data) ||
      media != "application/pdf") {
    return policy_.drop("messages.content.file", jsonPath("messages", i, "content", j),
                        "only PDF file_data maps to an Anthropic document");
  }
  json block = {{"type", "document"}};
  block["source"] = {{"type", "base64"}, {"media_type", media}, {"data", data}};
  if (file.contains("filename") && member(file, "filename").is_string()) block["title"] = member(file, "filename");
  blocks.push_back(std::move(block));
  return true;
}

void Encoding::tools(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("tools", "must be an array");
  json& tools = out["tools"] = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& tool = list[i];
    if (!tool.is_object() || memberString(tool, "type") != "function") {
      if (!policy_.drop("tools.type", jsonPath("tools", i, "type"), "only function tools map")) return;
      continue;
    }
    const json& fn = member(tool, "function");
    if (!fn.is_object() || !fn.contains("name") || !member(fn, "name").is_string()) {
      return policy_.refuse(jsonPath("tools", i, "function", "name"), "must be a string");
    }
    json t = {{"name", member(fn, "name")}};
    if (fn.contains("description") && !member(fn, "description").is_null())
      t["description"] = member(fn, "description");
    const json& params = member(fn, "parameters");
    t["input_schema"] = params.is_object() ? params : json{{"type", "object"}, {"properties", json::object()}};
    if (fn.contains("strict") && member(fn, "strict") == true &&
        !policy_.drop("tools.function.strict", jsonPath("tools", i, "function", "strict"))) {
      return;
    }
    if (tool.contains("cache_control")) t["cache_control"] = member(tool, "cache_control");
    tools.push_back(std::move(t));
  }
}

void Encoding::toolChoice(const json& choice, json& out) {
  if (choice == "auto") {
    out["tool_choice"] = {{"type", "auto"}};
  } else if (choice == "none") {
    out["tool_choice"] = {{"type", "none"}};
  } else if (choice == "required") {
    out["tool_choice"] = {{"type", "any"}};
  } else if (choice.is_object() && memberString(choice, "type") == "function" &&
             member(choice, "function").is_object() && member(member(choice, "function"), "name").is_string()) {
    out["tool_choice"] = {{"type", "tool"}, {"name", member(member(choice, "function"), "name")}};
  } else {
    policy_.drop("tool_choice", "tool_choice", "only auto, none, required and a named function map");
  }
}

}  // namespace

Translation AnthropicRequestEncoder::encode(const json& openai, json& anthropic) const {
  Translation outcome;
  Encoding(options_, outcome).run(openai, anthropic);
  return outcome;
}

}  // namespace aigw::translate
