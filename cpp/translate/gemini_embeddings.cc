#include "translate/gemini_embeddings.h"

#include <cstring>

#include "core/json_text.h"
#include "translate/json_member.h"
#include "translate/json_path.h"

namespace aigw::translate {

using nlohmann::json;

namespace {

constexpr std::string_view kTarget = "a Gemini upstream";

// An embedding as base64 of its float32 bytes: the OpenAI SDKs ask for base64 by default and
// read little-endian float32 bytes.
void appendBase64Floats(std::string& out, const json& values) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char group[3];
  size_t held = 0;
  auto flush = [&](size_t n) {
    const uint32_t v = (group[0] << 16) | (n > 1 ? group[1] << 8 : 0) | (n > 2 ? group[2] : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(n > 1 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(n > 2 ? kAlphabet[v & 63] : '=');
  };
  for (const json& v : values) {
    const float f = v.is_number() ? v.get<float>() : 0.0f;
    unsigned char bytes[4];
    std::memcpy(bytes, &f, 4);  // the machines aigw runs on are little-endian
    for (unsigned char b : bytes) {
      group[held++] = b;
      if (held == 3) {
        flush(3);
        held = 0;
      }
    }
  }
  if (held > 0) flush(held);
}

void appendFloats(std::string& out, const json& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    appendJsonNumber(out, values[i].is_number() ? values[i].get<double>() : 0.0);
  }
  out += ']';
}

}  // namespace

Translation GeminiEmbeddingsEncoder::encode(const json& openai, std::string_view model, json& gemini) const {
  Translation outcome;
  FieldPolicy policy(options_.drop_params, kTarget, outcome);
  if (!openai.is_object()) {
    policy.refuse("", "the request body must be a JSON object");
    return outcome;
  }
  const json& input = member(openai, "input");
  if (!input.is_string() && (!input.is_array() || input.empty())) {
    policy.refuse("input", "must be a string or a non-empty array of strings");
    return outcome;
  }
  std::string name = model.substr(0, 7) == "models/" ? std::string(model) : "models/" + std::string(model);
  json base = {{"model", std::move(name)}};
  for (auto it = openai.begin(); it != openai.end() && !policy.failed(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (v.is_null() || key == "input" || key == "model" || key == "encoding_format") continue;
    if (key == "dimensions") {
      if (v.is_number_integer())
        base["outputDimensionality"] = v;
      else
        policy.refuse("dimensions", "must be an integer");
    } else {
      policy.drop(key, key);  // user and anything newer
    }
  }
  const json& format = member(openai, "encoding_format");
  if (!format.is_null() && format != "float" && format != "base64") policy.refuse("encoding_format", "must be float or base64");
  if (policy.failed()) return outcome;
  json requests = json::array();
  const size_t count = input.is_string() ? 1 : input.size();
  for (size_t i = 0; i < count; ++i) {
    const json& text = input.is_string() ? input : input[i];
    if (!text.is_string()) {
      policy.refuse(jsonPath("input", i), "must be a string (Gemini embeds text, not token arrays)");
      return outcome;
    }
    json request = base;
    request["content"] = {{"parts", json::array({{{"text", text}}})}};
    requests.push_back(std::move(request));
  }
  gemini = {{"requests", std::move(requests)}};
  return outcome;
}

Translation decodeGeminiEmbeddings(const json& gemini, std::string_view model, std::string& out, TokenUsage* usage_out,
                                   bool base64) {
  Translation outcome;
  FieldPolicy policy({}, "an OpenAI client", outcome);
  const json& embeddings = member(gemini, "embeddings");
  if (!embeddings.is_array()) {
    policy.refuse("", "the upstream answer is no Gemini batchEmbedContents answer");
    return outcome;
  }
  for (size_t i = 0; i < embeddings.size(); ++i) {
    if (!member(embeddings[i], "values").is_array()) {
      policy.refuse(jsonPath("embeddings", i, "values"), "the upstream's embedding is no array");
      return outcome;
    }
  }
  TokenUsage usage;
  const json& prompt = member(member(gemini, "usageMetadata"), "promptTokenCount");
  if (prompt.is_number_integer()) usage.input = prompt.get<int64_t>();
  if (usage_out != nullptr) *usage_out = usage;
  out += "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < embeddings.size(); ++i) {
    out += i > 0 ? ",{\"object\":\"embedding\",\"index\":" : "{\"object\":\"embedding\",\"index\":";
    appendJsonNumber(out, static_cast<int64_t>(i));
    out += ",\"embedding\":";
    const json& values = member(embeddings[i], "values");
    if (base64) {
      out += '"';
      appendBase64Floats(out, values);
      out += '"';
    } else {
      appendFloats(out, values);
    }
    out += '}';
  }
  out += "],\"model\":";
  appendJsonString(out, model);
  out += ",\"usage\":{\"prompt_tokens\":";
  appendJsonNumber(out, usage.input);
  out += ",\"total_tokens\":";
  appendJsonNumber(out, usage.input);
  out += "}}";
  return outcome;
}

Translation encodeGeminiEmbeddings(const json& openai, std::string& out) {
  Translation outcome;
  FieldPolicy policy({}, "a Gemini client", outcome);
  const json& data = member(openai, "data");
  if (!data.is_array()) {
    policy.refuse("data", "the upstream answer is no embedding list");
    return outcome;
  }
  out += "{\"embeddings\":[";
  for (size_t i = 0; i < data.size(); ++i) {
    const json& values = member(data[i], "embedding");
    if (!values.is_array()) {
      policy.refuse(jsonPath("data", i, "embedding"), "must be an array of floats");
      return outcome;
    }
    out += i > 0 ? ",{\"values\":" : "{\"values\":";
    appendFloats(out, values);
    out += '}';
  }
  out += "]}";
  return outcome;
}

}  // namespace aigw::translate
