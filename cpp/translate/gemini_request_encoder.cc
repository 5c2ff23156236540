#include "translate/gemini_request_encoder.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_parse.h"
#include "translate/data_url.h"
#include "translate/json_member.h"
#include "translate/json_path.h"

namespace aigw::translate {

namespace {

using nlohmann::json;

constexpr std::string_view kTarget = "a Gemini upstream";

// Gemini 3 refuses a history whose function calls carry no thought signature; Google documents
// this value for histories it did not produce (another provider's, an edited one).
constexpr std::string_view kNoThoughtSignature = "skip_thought_signature_validator";

bool isDefault(const json& v, const json& def) {
  return v.is_null() || v == def;
}

// The image's media type from its URL's extension; empty when unknown (fileData's mimeType is
// optional and Gemini then sniffs the bytes).
std::string_view imageMimeType(std::string_view url) {
  const size_t end = url.find_first_of("?#");
  if (end != std::string_view::npos) url = url.substr(0, end);
  const size_t dot = url.rfind('.');
  if (dot == std::string_view::npos || url.find('/', dot) != std::string_view::npos) return {};
  std::string ext(url.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "webp") return "image/webp";
  if (ext == "gif") return "image/gif";
  if (ext == "heic") return "image/heic";
  if (ext == "heif") return "image/heif";
  return {};
}

// reasoning_effort -> thinkingBudget: the budgets Google's own OpenAI-compatible endpoint uses.
bool thinkingBudget(std::string_view effort, int64_t& budget) {
  if (effort == "none") budget = 0;
  else if (effort == "minimal" || effort == "low") budget = 1024;
  else if (effort == "medium") budget = 8192;
  else if (effort == "high") budget = 24576;
  else return false;
  return true;
}

class Encoding {
 public:
  Encoding(const RequestOptions& options, Translation& outcome) : policy_(options.drop_params, kTarget, outcome) {}

  void run(const json& in, json& out);

 private:
  void topLevel(const std::string& key, const json& value, json& out);
  void generation(const std::string& key, const json& value, const char* gemini_key, bool integer);
  void stop(const json& value);
  void messages(const json& list, json& out);
  void systemMessage(const json& m, size_t i);
  void userMessage(const json& m, size_t i, json& turns);
  void assistantMessage(const json& m, size_t i, json& turns);
  void toolMessage(const json& m, size_t i, json& turns);
  void checkMessageKeys(const json& m, size_t i, bool tool);
  bool contentParts(const json& content, size_t i, json& parts);
  bool imagePart(const json& part, size_t i, size_t j, json& parts);
  bool filePart(const json& part, size_t i, size_t j, json& parts);
  bool audioPart(const json& part, size_t i, size_t j, json& parts);
  void tools(const json& list, json& out);
  void toolChoice(const json& choice, json& out);
  void responseFormat(const json& format);
  void reasoningEffort(const json& effort);

  FieldPolicy policy_;
  json system_parts_ = json::array();
  json generation_ = json::object();
  bool last_turn_is_tool_results_ = false;
  bool has_max_completion_tokens_ = false;
  // tool_call id -> function name, for the functionResponse that answers it (Gemini matches
  // results to calls by name).
  std::vector<std::pair<std::string, std::string>> call_names_;
};

void Encoding::run(const json& in, json& out) {
  if (!in.is_object()) return policy_.refuse("", "the request body must be a JSON object");
  out = json::object();
  for (auto it = in.begin(); it != in.end() && !policy_.failed(); ++it) topLevel(it.key(), it.value(), out);
  if (policy_.failed()) return;
  if (!system_parts_.empty()) out["systemInstruction"] = {{"parts", std::move(system_parts_)}};
  if (!generation_.empty()) out["generationConfig"] = std::move(generation_);
}

void Encoding::topLevel(const std::string& key, const json& v, json& out) {
  if (v.is_null() || key == "model" || key == "stream" || key == "stream_options") {
    // The URL names the model and the method (generateContent or streamGenerateContent);
    // include_usage goes to the stream decoder.
  } else if (key == "messages") {
    messages(v, out);
  } else if (key == "temperature") {
    generation(key, v, "temperature", false);
  } else if (key == "top_p") {
    generation(key, v, "topP", false);
  } else if (key == "top_k") {
    generation(key, v, "topK", true);  // Gemini's own, sent by OpenAI clients through extra_body
  } else if (key == "n") {
    generation(key, v, "candidateCount", true);
  } else if (key == "seed") {
    generation(key, v, "seed", true);
  } else if (key == "presence_penalty") {
    generation(key, v, "presencePenalty", false);
  } else if (key == "frequency_penalty") {
    generation(key, v, "frequencyPenalty", false);
  } else if (key == "max_tokens" || key == "max_completion_tokens") {
    // max_completion_tokens is OpenAI's current name; it wins over the deprecated max_tokens.
    if (key == "max_tokens" && has_max_completion_tokens_) return;
    has_max_completion_tokens_ = key == "max_completion_tokens";
    generation(key, v, "maxOutputTokens", true);
  } else if (key == "stop") {
    stop(v);
  } else if (key == "tools") {
    tools(v, out);
  } else if (key == "tool_choice") {
    toolChoice(v, out);
  } else if (key == "response_format") {
    responseFormat(v);
  } else if (key == "reasoning_effort") {
    reasoningEffort(v);
  } else if (key == "safety_settings") {
    out["safetySettings"] = v;  // Gemini's own, through extra_body: passed as written
  } else if (key == "parallel_tool_calls") {
    if (!isDefault(v, true)) policy_.drop(key, key, "Gemini cannot be told to call one tool at a time");
  } else if (key == "logprobs" || key == "store") {
    if (!isDefault(v, false)) policy_.drop(key, key);
  } else if (key == "logit_bias" || key == "metadata") {
    if (!v.empty()) policy_.drop(key, key);
  } else if (key == "service_tier") {
    if (v != "auto" && v != "default") policy_.drop(key, key);
  } else {
    // user, top_logprobs, modalities, audio, prediction, web_search_options, functions and any
    // field this table does not know: never passed on blindly, never lost silently.
    policy_.drop(key, key);
  }
}

void Encoding::generation(const std::string& key, const json& v, const char* gemini_key, bool integer) {
  if (integer ? !v.is_number_integer() : !v.is_number())
    return policy_.refuse(key, integer ? "must be an integer" : "must be a number");
  generation_[gemini_key] = v;
}

void Encoding::stop(const json& v) {
  if (v.is_string()) {
    generation_["stopSequences"] = json::array({v});
    return;
  }
  if (!v.is_array()) return policy_.refuse("stop", "must be a string or an array of strings");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return policy_.refuse(jsonPath("stop", i), "must be a string");
  }
  if (!v.empty()) generation_["stopSequences"] = v;
}

void Encoding::messages(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("messages", "must be an array");
  json& turns = out["contents"] = json::array();
  for (size_t i = 0; i < list.size() && !policy_.failed(); ++i) {
    const json& m = list[i];
    const json& role = member(m, "role");
    if (!role.is_string()) return policy_.refuse(jsonPath("messages", i, "role"), "must be a string");
    const std::string& r = role.get_ref<const std::string&>();
    checkMessageKeys(m, i, r == "tool");
    if (policy_.failed()) return;
    if (r == "system" || r == "developer") {
      systemMessage(m, i);  // hoisted: Gemini has one systemInstruction, before the turns
    } else if (r == "user") {
      userMessage(m, i, turns);
    } else if (r == "assistant") {
      assistantMessage(m, i, turns);
    } else if (r == "tool") {
      toolMessage(m, i, turns);
    } else {
      policy_.refuse(jsonPath("messages", i, "role"), "unknown role '" + r + "' for a Gemini upstream");
    }
  }
}

void Encoding::checkMessageKeys(const json& m, size_t i, bool tool) {
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "role" || k == "content" || k == "tool_calls" || k == "tool_call_id" || v.is_null()) continue;
    if (tool && k == "name") continue;  // a tool result's function name: functionResponse.name
    // Echoed back by SDKs from an earlier answer; empty they carry nothing.
    if ((k == "annotations" || k == "refusal") && v.empty()) continue;
    if (!policy_.drop("messages." + k, jsonPath("messages", i, k))) return;
  }
}

void Encoding::systemMessage(const json& m, size_t i) {
  const json& content = member(m, "content");
  if (content.is_string()) {
    system_parts_.push_back({{"text", content}});
    return;
  }
  json parts = json::array();
  if (!contentParts(content, i, parts)) return;
  for (json& p : parts) {
    if (!p.contains("text"))
      return policy_.refuse(jsonPath("messages", i, "content"), "a system message holds text only");
    system_parts_.push_back(std::move(p));
  }
}

void Encoding::userMessage(const json& m, size_t i, json& turns) {
  last_turn_is_tool_results_ = false;
  const json& content = member(m, "content");
  json parts = json::array();
  if (content.is_string()) {
    parts.push_back({{"text", content}});
  } else if (!contentParts(content, i, parts)) {
    return;
  }
  turns.push_back({{"role", "user"}, {"parts", std::move(parts)}});
}

void Encoding::assistantMessage(const json& m, size_t i, json& turns) {
  last_turn_is_tool_results_ = false;
  const json& content = member(m, "content");
  const json& calls = member(m, "tool_calls");
  json parts = json::array();
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) parts.push_back({{"text", content}});
  } else if (!content.is_null() && !contentParts(content, i, parts)) {
    return;
  }
  if (!calls.is_null() && !calls.is_array())
    return policy_.refuse(jsonPath("messages", i, "tool_calls"), "must be an array");
  for (size_t j = 0; j < calls.size(); ++j) {
    const json& call = calls[j];
    const json& fn = member(call, "function");
    const json& name = member(fn, "name");
    if (!name.is_string())
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j, "function", "name"), "must be a string");
    const json& args = member(fn, "arguments");
    json parsed = json::object();
    if (args.is_string() && !args.get_ref<const std::string&>().empty()) {
      parsed = parseJson(args.get_ref<const std::string&>());
    }
    if (!parsed.is_object()) {
      return policy_.refuse(jsonPath("messages", i, "tool_calls", j, "function", "arguments"),
                            "must be a JSON object in a string (Gemini's functionCall args is an object)");
    }
    json part = {{"functionCall", {{"name", name}, {"args", std::move(parsed)}}}};
    // Google's OpenAI-compatible endpoint carries the signature here; Gemini wants it back on
    // the call it came with, and at least on the first call of a turn.
    const std::string_view signature = memberString(member(member(call, "extra_content"), "google"), "thought_signature");
    if (!signature.empty())
      part["thoughtSignature"] = signature;
    else if (j == 0)
      part["thoughtSignature"] = kNoThoughtSignature;
    parts.push_back(std::move(part));
    const std::string_view id = memberString(call, "id");
    if (!id.empty()) call_names_.emplace_back(id, name.get_ref<const std::string&>());
  }
  // An assistant turn with nothing in it (content null, no calls) says nothing; Gemini refuses
  // a turn without parts.
  if (!parts.empty()) turns.push_back({{"role", "model"}, {"parts", std::move(parts)}});
}

void Encoding::toolMessage(const json& m, size_t i, json& turns) {
  std::string_view name = memberString(m, "name");
  if (name.empty()) {
    const json& id = member(m, "tool_call_id");
    if (!id.is_string()) return policy_.refuse(jsonPath("messages", i, "tool_call_id"), "must be a string");
    for (const auto& [call_id, call_name] : call_names_) {
      if (call_id == id.get_ref<const std::string&>()) name = call_name;
    }
    if (name.empty())
      return policy_.refuse(jsonPath("messages", i, "tool_call_id"), "answers no tool call of an earlier message");
  }
  const json& content = member(m, "content");
  std::string text;
  if (content.is_string()) {
    text = content.get_ref<const std::string&>();
  } else {
    json parts = json::array();
    if (!contentParts(content, i, parts)) return;
    for (const json& p : parts) {
      if (!p.contains("text"))
        return policy_.refuse(jsonPath("messages", i, "content"), "a tool result holds text only for Gemini");
      text += p["text"].get_ref<const std::string&>();
    }
  }
  // A result that is a JSON object is Gemini's response object as it is; anything else is
  // wrapped, as Gemini wants an object.
  json response = parseJson(text);
  if (!response.is_object()) response = {{"content", std::move(text)}};
  json part = {{"functionResponse", {{"name", name}, {"response", std::move(response)}}}};
  // Gemini wants every result of one model turn's calls in the next user turn.
  if (!last_turn_is_tool_results_) turns.push_back({{"role", "user"}, {"parts", json::array()}});
  turns.back()["parts"].push_back(std::move(part));
  last_turn_is_tool_results_ = true;
}

bool Encoding::contentParts(const json& content, size_t i, json& parts) {
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
    bool ok = true;
    if (t == "text" || t == "refusal") {
      const json& text = member(part, t);
      if (!text.is_string()) {
        policy_.refuse(jsonPath("messages", i, "content", j, t), "must be a string");
        return false;
      }
      parts.push_back({{"text", text}});
    } else if (t == "image_url") {
      ok = imagePart(part, i, j, parts);
    } else if (t == "file") {
      ok = filePart(part, i, j, parts);
    } else if (t == "input_audio") {
      ok = audioPart(part, i, j, parts);
    } else {
      ok = policy_.drop("messages.content." + t, jsonPath("messages", i, "content", j));
    }
    if (!ok) return false;
  }
  return true;
}

bool Encoding::imagePart(const json& part, size_t i, size_t j, json& parts) {
  const json& image = member(part, "image_url");
  const json& url = image.is_object() ? member(image, "url") : image;
  if (!url.is_string()) {
    policy_.refuse(jsonPath("messages", i, "content", j, "image_url", "url"), "must be a string");
    return false;
  }
  const json& detail = member(image, "detail");
  if (!isDefault(detail, "auto") &&
      !policy_.drop("messages.content.image_url.detail", jsonPath("messages", i, "content", j, "image_url", "detail"),
                    "Gemini has no per-image detail level")) {
    return false;
  }
  const std::string& u = url.get_ref<const std::string&>();
  std::string_view media, data;
  if (splitDataUrl(u, media, data)) {
    parts.push_back({{"inlineData", {{"mimeType", media}, {"data", data}}}});
  } else if (u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0) {
    json file = {{"fileUri", url}};
    const std::string_view mime = imageMimeType(u);
    if (!mime.empty()) file["mimeType"] = mime;
    parts.push_back({{"fileData", std::move(file)}});
  } else {
    policy_.refuse(jsonPath("messages", i, "content", j, "image_url", "url"),
                   "must be an http(s) URL or a base64 data URL");
    return false;
  }
  return true;
}

// file_data (a base64 data URL of any type Gemini reads: PDF, text, audio, video) is inline
// data; a file_id names OpenAI's file store, which Gemini cannot reach.
bool Encoding::filePart(const json& part, size_t i, size_t j, json& parts) {
  const json& file_data = member(member(part, "file"), "file_data");
  std::string_view media, data;
  if (!file_data.is_string() || !splitDataUrl(file_data.get_ref<const std::string&>(), media, data)) {
    return policy_.drop("messages.content.file", jsonPath("messages", i, "content", j),
                        "only file_data maps to Gemini inline data");
  }
  parts.push_back({{"inlineData", {{"mimeType", media}, {"data", data}}}});
  return true;
}

bool Encoding::audioPart(const json& part, size_t i, size_t j, json& parts) {
  const json& audio = member(part, "input_audio");
  const json& data = member(audio, "data");
  const std::string_view format = memberString(audio, "format");
  if (!data.is_string() || (format != "wav" && format != "mp3")) {
    policy_.refuse(jsonPath("messages", i, "content", j, "input_audio"), "needs data and a format of wav or mp3");
    return false;
  }
  parts.push_back({{"inlineData", {{"mimeType", format == "wav" ? "audio/wav" : "audio/mp3"}, {"data", data}}}});
  return true;
}

void Encoding::tools(const json& list, json& out) {
  if (!list.is_array()) return policy_.refuse("tools", "must be an array");
  json declarations = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& tool = list[i];
    if (memberString(tool, "type") != "function") {
      if (!policy_.drop("tools.type", jsonPath("tools", i, "type"), "only function tools map")) return;
      continue;
    }
    const json& fn = member(tool, "function");
    const json& name = member(fn, "name");
    if (!name.is_string()) return policy_.refuse(jsonPath("tools", i, "function", "name"), "must be a string");
    json d = {{"name", name}};
    const json& description = member(fn, "description");
    if (description.is_string()) d["description"] = description;
    // parametersJsonSchema takes OpenAI's JSON Schema as it is; `parameters` is an OpenAPI subset
    // that refuses additionalProperties, $ref and the like.
    const json& params = member(fn, "parameters");
    if (params.is_object()) d["parametersJsonSchema"] = params;
    if (member(fn, "strict") == true &&
        !policy_.drop("tools.function.strict", jsonPath("tools", i, "function", "strict"))) {
      return;
    }
    declarations.push_back(std::move(d));
  }
  if (!declarations.empty()) out["tools"] = json::array({{{"functionDeclarations", std::move(declarations)}}});
}

void Encoding::toolChoice(const json& choice, json& out) {
  json config;
  if (choice == "auto") {
    config = {{"mode", "AUTO"}};
  } else if (choice == "none") {
    config = {{"mode", "NONE"}};
  } else if (choice == "required") {
    config = {{"mode", "ANY"}};
  } else if (memberString(choice, "type") == "function" && member(member(choice, "function"), "name").is_string()) {
    config = {{"mode", "ANY"}, {"allowedFunctionNames", json::array({member(member(choice, "function"), "name")})}};
  } else {
    policy_.drop("tool_choice", "tool_choice", "only auto, none, required and a named function map");
    return;
  }
  out["toolConfig"] = {{"functionCallingConfig", std::move(config)}};
}

// json_schema's schema goes as responseJsonSchema (JSON Schema as it is, like the tools);
// name, description and strict have no Gemini field and change nothing there (Gemini always
// holds to the schema).
void Encoding::responseFormat(const json& format) {
  const std::string_view type = memberString(format, "type");
  if (type == "text") return;
  if (type == "json_object" || type == "json_schema") {
    generation_["responseMimeType"] = "application/json";
    const json& schema = member(member(format, "json_schema"), "schema");
    if (schema.is_object()) generation_["responseJsonSchema"] = schema;
    return;
  }
  policy_.drop("response_format", "response_format", "only text, json_object and json_schema map");
}

// Thoughts are asked for too when the client asks for reasoning: they come back as
// reasoning_content, as from other reasoning servers with an OpenAI API.
void Encoding::reasoningEffort(const json& effort) {
  int64_t budget = 0;
  if (!effort.is_string() || !thinkingBudget(effort.get_ref<const std::string&>(), budget)) {
    policy_.drop("reasoning_effort", "reasoning_effort", "only none, minimal, low, medium and high map");
    return;
  }
  json config = {{"thinkingBudget", budget}};
  if (budget > 0) config["includeThoughts"] = true;
  generation_["thinkingConfig"] = std::move(config);
}

}  // namespace

Translation GeminiRequestEncoder::encode(const json& openai, json& gemini) const {
  Translation outcome;
  Encoding(options_, outcome).run(openai, gemini);
  return outcome;
}

}  // namespace aigw::translate
