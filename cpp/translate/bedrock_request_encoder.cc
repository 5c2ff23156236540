#include "translate/bedrock_request_encoder.h"

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

constexpr std::string_view kTarget = "a Bedrock upstream";

// A value that equals OpenAI's default says nothing Converse would need to hear.
bool isDefaultNumber(const json& v, double def) {
  return v.is_null() || (v.is_number() && v.get<double>() == def);
}

// Converse names an image's format, not its media type, and knows four.
std::string_view imageFormat(std::string_view media) {
  for (std::string_view f : {"png", "jpeg", "gif", "webp"}) {
    if (media.size() == 6 + f.size() && media.substr(0, 6) == "image/" && media.substr(6) == f) return f;
  }
  return media == "image/jpg" ? "jpeg" : "";
}

class Encoding {
 public:
  explicit Encoding(const RequestOptions& options, Translation& outcome)
      : policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void topLevel(const std::string& key, const json& value, json& out);
  void messages(const json& list);
  void systemMessage(const json& m, size_t i);
  void userMessage(const json& m, size_t i);
  void assistantMessage(const json& m, size_t i);
  void toolMessage(const json& m, size_t i);
  void addTurn(std::string_view role, json blocks);
  bool contentParts(const json& content, size_t i, json& blocks, bool text_only);
  bool imagePart(const json& part, size_t i, size_t j, json& blocks);
  void tools(const json& list);
  void toolConfig(json& out);
  void maxTokens(const json& value, const char* key);

  FieldPolicy policy_;
  json turns_ = json::array();
  json system_ = json::array();
  json inference_ = json::object();
  json tools_;        // toolConfig.tools
  json tool_choice_;  // toolConfig.toolChoice, or "none"
  bool has_tool_blocks_ = false;
  bool has_max_completion_tokens_ = false;
};

void Encoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  out = json::object();
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) topLevel(it.key(), it.value(), out);
  if (policy_.failed()) return;
  out["messages"] = std::move(turns_);
  if (!system_.empty()) out["system"] = std::move(system_);
  if (!inference_.empty()) out["inferenceConfig"] = std::move(inference_);
  toolConfig(out);
}

void Encoding::maxTokens(const json& value, const char* key) {
  if (!value.is_number_integer()) return policy_.refuse(key, "must be an integer");
  // max_completion_tokens is OpenAI's current name; it wins over the deprecated max_tokens.
  if (std::string_view(key) == "max_completion_tokens") {
    has_max_completion_tokens_ = true;
    inference_["maxTokens"] = value;
  } else if (!has_max_completion_tokens_) {
    inference_["maxTokens"] = value;
  }
}

void Encoding::topLevel(const std::string& key, const json& v, json& out) {
  if (v.is_null() || key == "model" || key == "stream" || key == "stream_options") {
    // model: in the URL; stream: the URL's /converse-stream; stream_options.include_usage:
    // the stream decoder's to honour.
  } else if (key == "messages") {
    messages(v);
  } else if (key == "temperature" || key == "top_p") {
    if (!v.is_number()) return policy_.refuse(key, "must be a number");
    inference_[key == "top_p" ? "topP" : "temperature"] = v;
  } else if (key == "max_tokens" || key == "max_completion_tokens") {
    maxTokens(v, key.c_str());
  } else if (key == "stop") {
    if (v.is_string()) {
      inference_["stopSequences"] = json::array({v});
    } else if (v.is_array()) {
      if (!v.empty()) inference_["stopSequences"] = v;
    } else {
      policy_.refuse("stop", "must be a string or an array of strings");
    }
  } else if (key == "tools") {
    tools(v);
  } else if (key == "tool_choice") {
    if (v == "auto") {
      tool_choice_ = {{"auto", json::object()}};
    } else if (v == "required") {
      tool_choice_ = {{"any", json::object()}};
    } else if (v == "none") {
      tool_choice_ = "none";
    } else if (v.is_object() && memberString(v, "type") == "function" &&
               member(member(v, "function"), "name").is_string()) {
      tool_choice_ = {{"tool", {{"name", member(member(v, "function"), "name")}}}};
    } else {
      policy_.drop("tool_choice", "tool_choice", "only auto, none, required and a named function map");
    }
  } else if (key == "parallel_tool_calls") {
    // Converse lets the model decide; it cannot be told to call one tool at a time.
    if (v == false) policy_.drop(key, key, "Converse cannot turn parallel tool calls off");
  } else if (key == "top_k" || key == "thinking") {
    // Anthropic's own, sent by OpenAI clients through extra_body: Converse passes a model's
    // own fields through additionalModelRequestFields.
    out["additionalModelRequestFields"][key] = v;
  } else if (key == "n") {
    if (!isDefaultNumber(v, 1)) policy_.drop("n", "n", "Converse returns one choice");
  } else if (key == "presence_penalty" || key == "frequency_penalty") {
    if (!isDefaultNumber(v, 0)) policy_.drop(key, key);
  } else if (key == "logprobs" || key == "store") {
    if (v != false) policy_.drop(key, key);
  } else if (key == "logit_bias" || key == "metadata") {
    if (!v.empty()) policy_.drop(key, key);
  } else if (key == "response_format") {
    if (!(v.is_object() && memberString(v, "type") == "text"))
      policy_.drop("response_format", "response_format", "Converse has no JSON mode");
  } else if (key == "service_tier") {
    if (v != "auto" && v != "default") policy_.drop(key, key);
  } else {
    // user, seed, top_logprobs, reasoning_effort, modalities, audio, prediction, functions and
    // any field this table does not know: never passed on blindly, never lost silently.
    policy_.drop(key, key);
  }
}

void Encoding::messages(const json& list) {
  if (!list.is_array()) return policy_.refuse("messages", "must be an array");
  for (size_t i = 0; i < list.size() && !policy_.failed(); ++i) {
    const json& m = list[i];
    const json& role = member(m, "role");
    if (!role.is_string()) return policy_.refuse(jsonPath("messages", i, "role"), "must be a string");
    checkOpenAiMessageKeys(policy_, m, i);
    const std::string& r = role.get_ref<const std::string&>();
    if (r == "system" || r == "developer") {
      systemMessage(m, i);  // hoisted: Converse has one system prompt, before the turns
    } else if (r == "user") {
      userMessage(m, i);
    } else if (r == "assistant") {
      assistantMessage(m, i);
    } else if (r == "tool") {
      toolMessage(m, i);
    } else {
      policy_.refuse(jsonPath("messages", i, "role"), "unknown role '" + r + "' for a Bedrock upstream");
    }
  }
}

// Converse wants user and assistant turns to alternate: a turn of the same role as the last
// one joins it (two user messages, tool results followed by a user message, ...).
void Encoding::addTurn(std::string_view role, json blocks) {
  if (blocks.empty()) return;  // a message that carried nothing (an empty string)
  if (!turns_.empty() && memberString(turns_.back(), "role") == role) {
    json& content = turns_.back()["content"];
    for (json& b : blocks) content.push_back(std::move(b));
    return;
  }
  turns_.push_back({{"role", role}, {"content", std::move(blocks)}});
}

void Encoding::systemMessage(const json& m, size_t i) {
  json blocks = json::array();
  if (contentParts(member(m, "content"), i, blocks, true)) {
    for (json& b : blocks) system_.push_back(std::move(b));
  }
}

void Encoding::userMessage(const json& m, size_t i) {
  json blocks = json::array();
  if (contentParts(member(m, "content"), i, blocks, false)) addTurn("user", std::move(blocks));
}

void Encoding::assistantMessage(const json& m, size_t i) {
  const json& content = member(m, "content");
  const json& calls = member(m, "tool_calls");
  json blocks = json::array();
  if (!content.is_null() && !contentParts(content, i, blocks, true)) return;
  if (!calls.is_null() && !calls.is_array())
    return policy_.refuse(jsonPath("messages", i, "tool_calls"), "must be an array");
  for (size_t j = 0; j < calls.size(); ++j) {
    const json& call = calls[j];
    const json& fn = member(call, "function");
    if (!member(call, "id").is_string() || !member(fn, "name").is_string()) {
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j), "needs an id and a function with a name");
    }
    const json& args = member(fn, "arguments");
    json input = json::object();
    if (args.is_string() && !args.get_ref<const std::string&>().empty()) {
      input = parseJson(args.get_ref<const std::string&>());
    }
    if (!input.is_object()) {
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j, "function", "arguments"),
                            "must be a JSON object in a string (Converse's toolUse input is an object)");
    }
    blocks.push_back(
        {{"toolUse", {{"toolUseId", member(call, "id")}, {"name", member(fn, "name")}, {"input", std::move(input)}}}});
    has_tool_blocks_ = true;
  }
  addTurn("assistant", std::move(blocks));
}

void Encoding::toolMessage(const json& m, size_t i) {
  const json& id = member(m, "tool_call_id");
  if (!id.is_string()) return policy_.refuse(jsonPath("messages", i, "tool_call_id"), "must be a string");
  const json& content = member(m, "content");
  json blocks = json::array();
  if (content.is_string()) {
    // Kept as text even when it holds JSON: the model reads it the same, and nothing the tool
    // said is reinterpreted.
    blocks.push_back({{"text", content}});
  } else if (!contentParts(content, i, blocks, false)) {
    return;
  }
  has_tool_blocks_ = true;
  // Results of consecutive tool messages land in one user turn (addTurn merges them).
  addTurn("user", json::array({{{"toolResult", {{"toolUseId", id}, {"content", std::move(blocks)}}}}}));
}

bool Encoding::contentParts(const json& content, size_t i, json& blocks, bool text_only) {
  if (content.is_string()) {
    // Converse refuses a blank text block; an empty message says nothing.
    if (!content.get_ref<const std::string&>().empty()) blocks.push_back({{"text", content}});
    return true;
  }
  if (!content.is_array()) {
    policy_.refuse(jsonPath("messages", i, "content"), "must be a string or an array of content parts");
    return false;
  }
  for (size_t j = 0; j < content.size(); ++j) {
    const json& part = content[j];
    const json& type = member(part, "type");
    if (!type.is_string()) {
      policy_.refuse(jsonPath("messages", i, "content", j, "type"), "must be a string");
      return false;
    }
    const std::string& t = type.get_ref<const std::string&>();
    if (t == "text" || t == "refusal") {
      const json& text = member(part, t);
      if (!text.is_string()) {
        policy_.refuse(jsonPath("messages", i, "content", j, t), "must be a string");
        return false;
      }
      if (!text.get_ref<const std::string&>().empty()) blocks.push_back({{"text", text}});
    } else if (t == "image_url" && !text_only) {
      if (!imagePart(part, i, j, blocks)) return false;
    } else if (!policy_.drop("messages.content." + t, jsonPath("messages", i, "content", j))) {
      return false;
    }
    // Anthropic's cache_control on a part: Converse marks a cache boundary with a block of
    // its own after the content it ends.
    if (part.contains("cache_control") && !member(part, "cache_control").is_null()) {
      blocks.push_back({{"cachePoint", {{"type", "default"}}}});
    }
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
  const json& detail = member(image, "detail");
  if (!detail.is_null() && detail != "auto" &&
      !policy_.drop("messages.content.image_url.detail", jsonPath("messages", i, "content", j, "image_url", "detail"),
                    "Converse has no image detail level")) {
    return false;
  }
  std::string_view media, data;
  if (!splitDataUrl(url.get_ref<const std::string&>(), media, data)) {
    // Converse takes an image's bytes or an S3 location, never a URL it would fetch.
    return policy_.drop("messages.content.image_url", jsonPath("messages", i, "content", j, "image_url", "url"),
                        "Converse takes images as base64 data URLs only");
  }
  const std::string_view format = imageFormat(media);
  if (format.empty()) {
    return policy_.drop("messages.content.image_url", jsonPath("messages", i, "content", j, "image_url", "url"),
                        "Converse takes png, jpeg, gif and webp images");
  }
  blocks.push_back({{"image", {{"format", format}, {"source", {{"bytes", data}}}}}});
  return true;
}

void Encoding::tools(const json& list) {
  if (!list.is_array()) return policy_.refuse("tools", "must be an array");
  tools_ = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& tool = list[i];
    if (memberString(tool, "type") != "function") {
      if (!policy_.drop("tools.type", jsonPath("tools", i, "type"), "only function tools map")) return;
      continue;
    }
    const json& fn = member(tool, "function");
    if (!member(fn, "name").is_string()) return policy_.refuse(jsonPath("tools", i, "function", "name"), "must be a string");
    json spec = {{"name", member(fn, "name")}};
    const json& description = member(fn, "description");
    if (description.is_string() && !description.get_ref<const std::string&>().empty()) spec["description"] = description;
    const json& params = member(fn, "parameters");
    spec["inputSchema"] = {
        {"json", params.is_object() ? params : json{{"type", "object"}, {"properties", json::object()}}}};
    const json& strict = member(fn, "strict");
    if (strict.is_boolean()) spec["strict"] = strict;
    tools_.push_back({{"toolSpec", std::move(spec)}});
    if (!member(tool, "cache_control").is_null()) tools_.push_back({{"cachePoint", {{"type", "default"}}}});
  }
}

// tool_choice "none" has no Converse value. Without tool blocks in the conversation, leaving
// the tools out says exactly that; with them, Converse requires toolConfig, so "none" could
// only become "auto": refused unless drop_params names tool_choice.
void Encoding::toolConfig(json& out) {
  if (tool_choice_ == "none") {
    if (!has_tool_blocks_) return;
    if (!policy_.drop("tool_choice", "tool_choice", "Converse has no \"none\" while the conversation has tool calls"))
      return;
    tool_choice_ = nullptr;
  }
  if (!tools_.is_array() || tools_.empty()) return;
  json& config = out["toolConfig"];
  config["tools"] = std::move(tools_);
  if (!tool_choice_.is_null()) config["toolChoice"] = std::move(tool_choice_);
}

}  // namespace

Translation BedrockRequestEncoder::encode(const json& openai, json& converse) const {
  Translation outcome;
  Encoding(options_, outcome).run(openai, converse);
  return outcome;
}

}  // namespace aigw::translate
