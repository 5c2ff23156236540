#include "translate/bedrock_request_decoder.h"

#include <string>

#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/openai_messages.h"

namespace aigw::translate {

namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "an OpenAI upstream";

// A Converse content block is a union: one member says what it is ({"text": ...},
// {"toolUse": {...}}). The first member that is not null, or "" for no object.
std::string_view blockKind(const json& block) {
  if (!block.is_object()) return {};
  for (auto it = block.begin(); it != block.end(); ++it) {
    if (!it.value().is_null()) return it.key();
  }
  return {};
}

bool knownImageFormat(std::string_view f) { return f == "png" || f == "jpeg" || f == "gif" || f == "webp"; }


class Decoding {
 public:
  Decoding(const RequestOptions& options, Translation& outcome)
      : options_(options), policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void system(const json& blocks, json& messages);
  void message(const json& m, size_t i, json& messages);
  void userBlocks(const json& blocks, size_t i, json& messages);
  void assistantBlocks(const json& blocks, size_t i, json& messages);
  bool mediaBlock(const json& b, std::string_view kind, const std::string& path, json& parts);
  void toolResult(const json& result, const std::string& path, json& messages);
  void inference(const json& config, json& out);
  void toolConfig(const json& config, json& out);
  void tools(const json& list, json& out);
  void toolChoice(const json& choice, json& out);

  const RequestOptions& options_;
  FieldPolicy policy_;
};

void Decoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  json& messages = out["messages"] = json::array();
  system(member(in, "system"), messages);
  const json& list = member(in, "messages");
  if (!list.is_array()) return policy_.refuse("messages", "must be an array");
  for (size_t i = 0; i < list.size() && !policy_.failed(); ++i) message(list[i], i, messages);
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "messages" || key == "system" || v.is_null()) continue;
    if (key == "inferenceConfig") {
      inference(v, out);
    } else if (key == "toolConfig") {
      toolConfig(v, out);
    } else if (!v.empty()) {
      // additionalModelRequestFields (a model's own fields), guardrailConfig, promptVariables,
      // requestMetadata, performanceConfig and anything newer: never passed on blindly.
      policy_.drop(key, key);
    }
  }
}

void Decoding::system(const json& blocks, json& messages) {
  if (blocks.is_null()) return;
  if (!blocks.is_array()) return policy_.refuse("system", "must be an array of system blocks");
  json parts = json::array();
  for (size_t j = 0; j < blocks.size(); ++j) {
    const std::string_view kind = blockKind(blocks[j]);
    if (kind == "text") {
      const json& text = member(blocks[j], "text");
      if (!text.is_string()) return policy_.refuse(jsonPath("system", j, "text"), "must be a string");
      parts.push_back({{"type", "text"}, {"text", text}});
    } else if (kind.empty()) {
      return policy_.refuse(jsonPath("system", j), "must be a system block object");
    } else if (kind != "cachePoint" && !policy_.drop("system." + std::string(kind), jsonPath("system", j))) {
      return;  // guardContent ...
    }
  }
  if (!parts.empty()) messages.push_back({{"role", "system"}, {"content", collapseTextParts(std::move(parts))}});
}

void Decoding::message(const json& m, size_t i, json& messages) {
  const std::string_view role = memberString(m, "role");
  const json& content = member(m, "content");
  if (role != "user" && role != "assistant") {
    return policy_.refuse(jsonPath("messages", i, "role"), "must be \"user\" or \"assistant\"");
  }
  if (!content.is_array()) return policy_.refuse(jsonPath("messages", i, "content"), "must be an array of blocks");
  if (role == "user")
    userBlocks(content, i, messages);
  else
    assistantBlocks(content, i, messages);
}

void Decoding::userBlocks(const json& blocks, size_t i, json& messages) {
  // Tool results become role: tool messages, which OpenAI wants right after the assistant's
  // tool calls, so they go before the rest of the turn.
  json parts = json::array();
  for (size_t j = 0; j < blocks.size() && !policy_.failed(); ++j) {
    const json& b = blocks[j];
    const std::string_view kind = blockKind(b);
    if (kind == "text") {
      if (!member(b, "text").is_string()) return policy_.refuse(jsonPath("messages", i, "content", j, "text"), "must be a string");
      parts.push_back({{"type", "text"}, {"text", member(b, "text")}});
    } else if (kind == "toolResult") {
      toolResult(member(b, "toolResult"), jsonPath("messages", i, "content", j, "toolResult"), messages);
    } else if (kind == "image" || kind == "document") {
      if (!mediaBlock(member(b, kind), kind, jsonPath("messages", i, "content", j, kind), parts)) return;
    } else if (kind.empty()) {
      return policy_.refuse(jsonPath("messages", i, "content", j), "must be a content block object");
    } else if (kind != "cachePoint" &&
               !policy_.drop("messages.content." + std::string(kind), jsonPath("messages", i, "content", j))) {
      return;  // video, guardContent, reasoningContent in a user turn ...
    }
  }
  if (!parts.empty()) messages.push_back({{"role", "user"}, {"content", collapseTextParts(std::move(parts))}});
}

void Decoding::assistantBlocks(const json& blocks, size_t i, json& messages) {
  std::string text;
  json calls = json::array();
  for (size_t j = 0; j < blocks.size(); ++j) {
    const json& b = blocks[j];
    const std::string_view kind = blockKind(b);
    if (kind == "text") {
      if (!member(b, "text").is_string()) return policy_.refuse(jsonPath("messages", i, "content", j, "text"), "must be a string");
      text += member(b, "text").get_ref<const std::string&>();
    } else if (kind == "toolUse") {
      const json& use = member(b, "toolUse");
      if (!member(use, "toolUseId").is_string() || !member(use, "name").is_string()) {
        return policy_.refuse(jsonPath("messages", i, "content", j, "toolUse"), "needs a toolUseId and a name");
      }
      const json& input = member(use, "input");
      calls.push_back({{"id", member(use, "toolUseId")},
                       {"type", "function"},
                       {"function",
                        {{"name", member(use, "name")},
                         {"arguments", input.is_null() ? std::string("{}")
                                                       : input.dump(-1, ' ', false, json::error_handler_t::replace)}}}});
    } else if (kind.empty()) {
      return policy_.refuse(jsonPath("messages", i, "content", j), "must be a content block object");
    } else if (kind != "cachePoint" &&
               !policy_.drop("messages.content." + std::string(kind), jsonPath("messages", i, "content", j))) {
      return;  // reasoningContent (OpenAI takes no reasoning back), image ...
    }
  }
  if (text.empty() && calls.empty()) return;
  json m = {{"role", "assistant"}, {"content", text.empty() ? json() : json(std::move(text))}};
  if (!calls.empty()) m["tool_calls"] = std::move(calls);
  messages.push_back(std::move(m));
}

// An image (png, jpeg, gif, webp) or a PDF document, given as bytes (base64 in Converse's JSON),
// becomes a data URL part; other sources (S3) and document formats cannot reach OpenAI.
bool Decoding::mediaBlock(const json& media, std::string_view kind, const std::string& path, json& parts) {
  const std::string_view format = memberString(media, "format");
  const json& bytes = member(member(media, "source"), "bytes");
  const std::string drop_name = "messages.content." + std::string(kind);
  if (!bytes.is_string()) return policy_.drop(drop_name, path + ".source", "OpenAI takes inline bytes only");
  if (kind == "image") {
    if (!knownImageFormat(format)) {
      policy_.refuse(path + ".format", "must be png, jpeg, gif or webp");
      return false;
    }
    std::string url = "data:image/" + std::string(format) + ";base64,";
    url += bytes.get_ref<const std::string&>();
    parts.push_back({{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}});
    return true;
  }
  if (format != "pdf") return policy_.drop(drop_name, path + ".format", "OpenAI takes PDF documents only");
  std::string url = "data:application/pdf;base64,";
  url += bytes.get_ref<const std::string&>();
  json file = {{"file_data", std::move(url)}};
  if (member(media, "name").is_string()) file["filename"] = member(media, "name");
  parts.push_back({{"type", "file"}, {"file", std::move(file)}});
  return true;
}

void Decoding::toolResult(const json& result, const std::string& path, json& messages) {
  const json& id = member(result, "toolUseId");
  if (!id.is_string()) return policy_.refuse(path + ".toolUseId", "must be a string");
  const json& content = member(result, "content");
  if (!content.is_array()) return policy_.refuse(path + ".content", "must be an array");
  json parts = json::array();
  for (size_t k = 0; k < content.size(); ++k) {
    const std::string_view kind = blockKind(content[k]);
    if (kind == "text" && member(content[k], "text").is_string()) {
      parts.push_back({{"type", "text"}, {"text", member(content[k], "text")}});
    } else if (kind == "json") {
      parts.push_back(
          {{"type", "text"}, {"text", member(content[k], "json").dump(-1, ' ', false, json::error_handler_t::replace)}});
    } else if (!policy_.drop("messages.content.toolResult.content", jsonPath(path, "content", k),
                             "an OpenAI tool message holds text only")) {
      return;
    }
  }
  json text = parts.empty() ? json("") : collapseTextParts(std::move(parts));
  appendToolMessage(messages, id, std::move(text), memberString(result, "status") == "error");
}

void Decoding::inference(const json& config, json& out) {
  if (!config.is_object()) return policy_.refuse("inferenceConfig", "must be an object");
  for (auto it = config.begin(); it != config.end() && !policy_.failed(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (key == "maxTokens") {
      if (!v.is_number_integer()) return policy_.refuse("inferenceConfig.maxTokens", "must be an integer");
      out[options_.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = v;
    } else if (key == "temperature" || key == "topP") {
      if (!v.is_number()) return policy_.refuse("inferenceConfig." + key, "must be a number");
      out[key == "topP" ? "top_p" : "temperature"] = v;
    } else if (key == "stopSequences") {
      if (!v.is_array()) return policy_.refuse("inferenceConfig.stopSequences", "must be an array of strings");
      if (!v.empty()) out["stop"] = v;
    } else {
      policy_.drop("inferenceConfig." + key, "inferenceConfig." + key);
    }
  }
}

void Decoding::toolConfig(const json& config, json& out) {
  if (!config.is_object()) return policy_.refuse("toolConfig", "must be an object");
  for (auto it = config.begin(); it != config.end() && !policy_.failed(); ++it) {
    if (it.value().is_null()) continue;
    if (it.key() == "tools") {
      tools(it.value(), out);
    } else if (it.key() == "toolChoice") {
      toolChoice(it.value(), out);
    } else {
      policy_.drop("toolConfig." + it.key(), "toolConfig." + it.key());
    }
  }
}

void Decoding::tools(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("toolConfig.tools", "must be an array");
  json tools = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string_view kind = blockKind(list[i]);
    if (kind.empty()) return policy_.refuse(jsonPath("toolConfig", "tools", i), "must be a tool object");
    if (kind != "toolSpec") {
      if (kind == "cachePoint") continue;
      if (!policy_.drop("toolConfig.tools." + std::string(kind), jsonPath("toolConfig", "tools", i))) return;
      continue;
    }
    const json& spec = member(list[i], "toolSpec");
    if (!member(spec, "name").is_string())
      return policy_.refuse(jsonPath("toolConfig", "tools", i, "toolSpec", "name"), "must be a string");
    json fn = {{"name", member(spec, "name")}};
    if (member(spec, "description").is_string()) fn["description"] = member(spec, "description");
    const json& schema = member(member(spec, "inputSchema"), "json");
    fn["parameters"] = schema.is_object() ? schema : json{{"type", "object"}, {"properties", json::object()}};
    if (member(spec, "strict").is_boolean()) fn["strict"] = member(spec, "strict");
    tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
  }
  if (!tools.empty()) out["tools"] = std::move(tools);
}

void Decoding::toolChoice(const json& choice, json& out) {
  const std::string_view kind = blockKind(choice);
  const json& name = member(member(choice, "tool"), "name");
  if (kind == "auto") {
    out["tool_choice"] = "auto";
  } else if (kind == "any") {
    out["tool_choice"] = "required";
  } else if (kind == "tool" && name.is_string()) {
    out["tool_choice"] = {{"type", "function"}, {"function", {{"name", name}}}};
  } else {
    policy_.drop("toolConfig.toolChoice", "toolConfig.toolChoice", "only auto, any and a named tool map");
  }
}

}  // namespace

Translation BedrockRequestDecoder::decode(const json& converse, std::string_view model, bool stream, json& openai) const {
  Translation outcome;
  openai = json::object();
  openai["model"] = model;
  if (stream) {
    openai["stream"] = true;
    openai["stream_options"] = {{"include_usage", true}};  // a ConverseStream always carries usage
  }
  Decoding(options_, outcome).run(converse, openai);
  return outcome;
}

}  // namespace aigw::translate
