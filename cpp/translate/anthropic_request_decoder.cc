#include "translate/anthropic_request_decoder.h"

#include <string>
#include <string_view>

#include "translate/json_member.h"
#include "translate/json_path.h"
#include "translate/openai_messages.h"

namespace aigw::translate {

namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "an OpenAI upstream";

// cache_control is read nowhere: OpenAI caches prompt prefixes by itself, so the hint has
// nothing to map to and dropping it loses no meaning (docs/providers.md).

class Decoding {
 public:
  Decoding(const RequestOptions& options, Translation& outcome)
      : options_(options), policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void topLevel(const std::string& key, const json& value, json& out);
  void system(const json& value, json& messages);
  void message(const json& m, size_t i, json& messages);
  void userBlocks(const json& blocks, size_t i, json& messages);
  void assistantBlocks(const json& blocks, size_t i, json& messages);
  bool contentBlock(const json& block, size_t i, size_t j, json& parts);
  void toolResult(const json& block, size_t i, size_t j, json& messages);
  void tools(const json& list, json& out);
  void toolChoice(const json& choice, json& out);

  const RequestOptions& options_;
  FieldPolicy policy_;
};

void Decoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  out = json::object();
  json& messages = out["messages"] = json::array();
  system(member(in, "system"), messages);
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) topLevel(it.key(), it.value(), out);
}

void Decoding::topLevel(const std::string& key, const json& v, json& out) {
  if (key == "model" || key == "temperature" || key == "top_p" || v.is_null() || key == "system") {
    if (!v.is_null() && key != "system") out[key] = v;
  } else if (key == "messages") {
    if (!v.is_array()) return policy_.refuse("messages", "must be an array");
    for (size_t i = 0; i < v.size() && !policy_.failed(); ++i) message(v[i], i, out["messages"]);
  } else if (key == "max_tokens") {
    out[options_.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = v;
  } else if (key == "stop_sequences") {
    if (!v.empty()) out["stop"] = v;
  } else if (key == "stream") {
    out["stream"] = v;
    if (v == true) out["stream_options"] = {{"include_usage", true}};
  } else if (key == "metadata") {
    if (!v.is_object()) return policy_.refuse("metadata", "must be an object");
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() == "user_id") {
        if (!it.value().is_null()) out["user"] = it.value();
      } else if (!policy_.drop("metadata", jsonPath("metadata", it.key()))) {
        return;
      }
    }
  } else if (key == "tools") {
    tools(v, out);
  } else if (key == "tool_choice") {
    toolChoice(v, out);
  } else if (key == "thinking") {
    if (memberString(v, "type") != "disabled") policy_.drop("thinking", "thinking", "OpenAI has no thinking budget");
  } else if (key == "service_tier") {
    if (v == "auto")
      out["service_tier"] = "auto";
    else
      policy_.drop(key, key);
  } else {
    // top_k, container, mcp_servers and any field this table does not know.
    policy_.drop(key, key);
  }
}

void Decoding::system(const json& v, json& messages) {
  if (v.is_null()) return;
  if (v.is_string()) {
    messages.push_back({{"role", "system"}, {"content", v}});
    return;
  }
  if (!v.is_array()) return policy_.refuse("system", "must be a string or an array of text blocks");
  json parts = json::array();
  for (size_t j = 0; j < v.size(); ++j) {
    if (memberString(v[j], "type") != "text" || !member(v[j], "text").is_string()) {
      return policy_.refuse(jsonPath("system", j), "must be a text block");
    }
    parts.push_back({{"type", "text"}, {"text", member(v[j], "text")}});
  }
  messages.push_back({{"role", "system"}, {"content", collapseTextParts(std::move(parts))}});
}

void Decoding::message(const json& m, size_t i, json& messages) {
  const std::string_view role = memberString(m, "role");
  const json& content = member(m, "content");
  if (role != "user" && role != "assistant")
    return policy_.refuse(jsonPath("messages", i, "role"), "must be user or assistant");
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it.key() != "role" && it.key() != "content" &&
        !policy_.drop("messages." + it.key(), jsonPath("messages", i, it.key())))
      return;
  }
  if (content.is_string()) {
    messages.push_back({{"role", role}, {"content", content}});
  } else if (!content.is_array()) {
    policy_.refuse(jsonPath("messages", i, "content"), "must be a string or an array of blocks");
  } else if (role == "user") {
    userBlocks(content, i, messages);
  } else {
    assistantBlocks(content, i, messages);
  }
}

void Decoding::userBlocks(const json& blocks, size_t i, json& messages) {
  // Tool results become role: tool messages, which OpenAI wants right after the assistant's
  // tool calls, so they go before the rest of the turn.
  json parts = json::array();
  for (size_t j = 0; j < blocks.size() && !policy_.failed(); ++j) {
    if (memberString(blocks[j], "type") == "tool_result")
      toolResult(blocks[j], i, j, messages);
    else
      contentBlock(blocks[j], i, j, parts);
  }
  if (!parts.empty()) messages.push_back({{"role", "user"}, {"content", collapseTextParts(std::move(parts))}});
}

void Decoding::assistantBlocks(const json& blocks, size_t i, json& messages) {
  json parts = json::array();
  json calls = json::array();
  for (size_t j = 0; j < blocks.size() && !policy_.failed(); ++j) {
    const json& b = blocks[j];
    const std::string_view type = memberString(b, "type");
    if (type == "tool_use") {
      if (!member(b, "id").is_string() || !member(b, "name").is_string()) {
        return policy_.refuse(jsonPath("messages", i, "content", j), "a tool_use block needs an id and a name");
      }
      const json& input = member(b, "input");
      calls.push_back(
          {{"id", member(b, "id")},
           {"type", "function"},
           {"function",
            {{"name", member(b, "name")},
             {"arguments", input.is_null() ? "{}" : input.dump(-1, ' ', false, json::error_handler_t::replace)}}}});
    } else if (type == "thinking" || type == "redacted_thinking") {
      // The model's earlier reasoning, sent back by Anthropic clients: OpenAI takes none.
      policy_.drop("thinking", jsonPath("messages", i, "content", j), "OpenAI takes no thinking blocks");
    } else {
      contentBlock(b, i, j, parts);
    }
  }
  json msg = {{"role", "assistant"}, {"content", parts.empty() ? json() : collapseTextParts(std::move(parts))}};
  if (!calls.empty()) msg["tool_calls"] = std::move(calls);
  messages.push_back(std::move(msg));
}

bool Decoding::contentBlock(const json& b, size_t i, size_t j, json& parts) {
  const std::string_view type = memberString(b, "type");
  if (type == "text") {
    if (!member(b, "text").is_string()) {
      policy_.refuse(jsonPath("messages", i, "content", j, "text"), "must be a string");
      return false;
    }
    parts.push_back({{"type", "text"}, {"text", member(b, "text")}});
    return true;
  }
  const json& source = member(b, "source");
  const std::string_view source_type = memberString(source, "type");
  if (type == "image" && source_type == "base64") {
    std::string url = "data:";
    url += memberString(source, "media_type");
    url += ";base64,";
    url += memberString(source, "data");
    parts.push_back({{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}});
    return true;
  }
  if (type == "image" && source_type == "url" && member(source, "url").is_string()) {
    parts.push_back({{"type", "image_url"}, {"image_url", {{"url", member(source, "url")}}}});
    return true;
  }
  if (type == "document" && source_type == "base64" && memberString(source, "media_type") == "application/pdf") {
    json file = {{"file_data", "data:application/pdf;base64," + std::string(memberString(source, "data"))}};
    if (member(b, "title").is_string()) file["filename"] = member(b, "title");
    parts.push_back({{"type", "file"}, {"file", std::move(file)}});
    return true;
  }
  if (type == "document" && source_type == "text" && member(source, "data").is_string()) {
    parts.push_back({{"type", "text"}, {"text", member(source, "data")}});
    return true;
  }
  std::string drop = "messages.content.";
  drop += type.empty() ? std::string_view("type") : type;
  return policy_.drop(drop, jsonPath("messages", i, "content", j));
}

void Decoding::toolResult(const json& b, size_t i, size_t j, json& messages) {
  const json& id = member(b, "tool_use_id");
  if (!id.is_string()) return policy_.refuse(jsonPath("messages", i, "content", j, "tool_use_id"), "must be a string");
  const json& content = member(b, "content");
  json text;
  if (content.is_string() || content.is_null()) {
    text = content.is_null() ? json("") : content;
  } else if (content.is_array()) {
    json parts = json::array();
    for (size_t k = 0; k < content.size(); ++k) {
      if (memberString(content[k], "type") != "text" || !member(content[k], "text").is_string()) {
        // OpenAI's tool messages carry text only.
        if (!policy_.drop("messages.content.content", jsonPath("messages", i, "content", j, "content", k),
                          "an OpenAI tool message holds text only")) {
          return;
        }
        continue;
      }
      parts.push_back({{"type", "text"}, {"text", member(content[k], "text")}});
    }
    text = collapseTextParts(std::move(parts));
  } else {
    return policy_.refuse(jsonPath("messages", i, "content", j, "content"), "must be a string or an array of blocks");
  }
  appendToolMessage(messages, id, std::move(text), member(b, "is_error") == true);
}

void Decoding::tools(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("tools", "must be an array");
  json& tools = out["tools"] = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    const std::string_view type = memberString(t, "type", "custom");
    if (type != "custom") {
      // Server tools (web search, bash, text editor ...) run at Anthropic.
      if (!policy_.drop("tools.type", jsonPath("tools", i, "type"), "only custom tools map to functions")) return;
      continue;
    }
    if (!member(t, "name").is_string()) return policy_.refuse(jsonPath("tools", i, "name"), "must be a string");
    json fn = {{"name", member(t, "name")}};
    if (member(t, "description").is_string()) fn["description"] = member(t, "description");
    const json& schema = member(t, "input_schema");
    fn["parameters"] = schema.is_object() ? schema : json{{"type", "object"}, {"properties", json::object()}};
    tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
  }
}

void Decoding::toolChoice(const json& choice, json& out) {
  const std::string_view type = memberString(choice, "type");
  if (type == "auto") {
    out["tool_choice"] = "auto";
  } else if (type == "any") {
    out["tool_choice"] = "required";
  } else if (type == "none") {
    out["tool_choice"] = "none";
  } else if (type == "tool" && member(choice, "name").is_string()) {
    out["tool_choice"] = {{"type", "function"}, {"function", {{"name", member(choice, "name")}}}};
  } else {
    return policy_.refuse("tool_choice", "must be auto, any, none or a named tool");
  }
  if (member(choice, "disable_parallel_tool_use") == true && type != "none") out["parallel_tool_calls"] = false;
}

}  // namespace

Translation AnthropicRequestDecoder::decode(const json& anthropic, json& openai) const {
  Translation outcome;
  Decoding(options_, outcome).run(anthropic, openai);
  return outcome;
}

}  // namespace aigw::translate
