#include "providers/usage.h"

#include "core/json_parse.h"

namespace aigw {
namespace {

// End (one past the closing brace) of the JSON object starting at `start`, or npos.
size_t objectEnd(std::string_view s, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

int64_t textTokens(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

int64_t contentTokens(const nlohmann::json& content) {
  if (content.is_string()) return textTokens(content.get_ref<const std::string&>());
  int64_t n = 0;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object()) {
        auto text = part.find("text");
        if (text != part.end() && text->is_string()) n += textTokens(text->get_ref<const std::string&>());
        else n += 85;  // an image or audio part, priced like a low-detail image
      } else {
        n += contentTokens(part);
      }
    }
  }
  return n;
}

}  // namespace

bool extractUsage(std::string_view json, CallUsage* usage) {
  // The last occurrence: usage comes at the end of OpenAI bodies and stream chunks.
  size_t key = json.rfind("\"usage\"");
  while (key != std::string_view::npos) {
    size_t pos = key + 7;
    while (pos < json.size() && (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' || json[pos] == '\r')) ++pos;
    if (pos < json.size() && json[pos] == ':') {
      ++pos;
      while (pos < json.size() && (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' || json[pos] == '\r')) ++pos;
      if (pos < json.size() && json[pos] == '{') {
        size_t end = objectEnd(json, pos);
        if (end == std::string_view::npos) return false;
        auto obj = parseJson(json.substr(pos, end - pos));
        if (!obj.is_object()) return false;
        auto get = [&](const char* a, const char* b) -> int64_t {
          for (const char* k : {a, b}) {
            auto it = obj.find(k);
            if (it != obj.end() && it->is_number_integer()) return it->get<int64_t>();
          }
          return -1;
        };
        // Only what this object reports: Anthropic-style streams give input tokens in one
        // event and output tokens in a later one.
        const int64_t prompt = get("prompt_tokens", "input_tokens");
        const int64_t completion = get("completion_tokens", "output_tokens");
        if (prompt >= 0) usage->prompt_tokens = prompt;
        if (completion >= 0) usage->completion_tokens = completion;
        // Cached prompt tokens: OpenAI's prompt_tokens_details.cached_tokens, or DeepSeek's
        // prompt_cache_hit_tokens (both count inside prompt_tokens).
        if (auto details = obj.find("prompt_tokens_details"); details != obj.end() && details->is_object()) {
          auto cached = details->find("cached_tokens");
          if (cached != details->end() && cached->is_number_integer()) usage->cached_tokens = cached->get<int64_t>();
        } else if (auto hit = obj.find("prompt_cache_hit_tokens"); hit != obj.end() && hit->is_number_integer()) {
          usage->cached_tokens = hit->get<int64_t>();
        }
        return prompt >= 0 || completion >= 0;
      }
      return false;  // "usage": null
    }
    if (key == 0) break;
    key = json.rfind("\"usage\"", key - 1);
  }
  return false;
}

bool asksForStreamUsage(const nlohmann::json& body) {
  auto options = body.find("stream_options");
  if (options == body.end() || !options->is_object()) return false;
  auto include = options->find("include_usage");
  return include != options->end() && include->is_boolean() && include->get<bool>();
}

int64_t estimatePromptTokens(Endpoint endpoint, const nlohmann::json& body) {
  int64_t n = 0;
  if (endpoint == Endpoint::ChatCompletions || endpoint == Endpoint::CountTokens) {
    auto messages = body.find("messages");
    if (messages != body.end() && messages->is_array()) {
      for (const auto& m : *messages) {
        n += 4;
        if (!m.is_object()) continue;
        auto content = m.find("content");
        if (content != m.end()) n += contentTokens(*content);
      }
    }
    return n + 3;
  }
  const char* key = endpoint == Endpoint::Completions ? "prompt" : "input";
  auto it = body.find(key);
  if (it == body.end()) return 0;
  if (it->is_string()) return textTokens(it->get_ref<const std::string&>());
  if (it->is_array()) {
    for (const auto& item : *it) {
      if (item.is_string()) n += textTokens(item.get_ref<const std::string&>());
      else if (item.is_number()) n += 1;
      else if (item.is_array()) n += static_cast<int64_t>(item.size());
    }
  }
  return n;
}

}  // namespace aigw
