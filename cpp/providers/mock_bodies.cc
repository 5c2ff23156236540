#include "providers/mock_bodies.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/json_text.h"

namespace aigw::mock {
namespace {

// Eight words, so the default eight chunks make one whole sentence.
constexpr const char* kStockWords[] = {"Hello!", "This", "is", "a", "mock", "answer", "from", "aigw."};
constexpr size_t kStockCount = sizeof(kStockWords) / sizeof(kStockWords[0]);

size_t utf8Boundary(const std::string& s, size_t pos) {
  while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

uint64_t fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void appendBase64(std::string& out, const unsigned char* data, size_t len) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i < len) {
    uint32_t v = data[i] << 16;
    if (i + 1 < len) v |= data[i + 1] << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < len ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

void appendUsage(std::string& out, int64_t prompt, int64_t completion) {
  out.append("{\"prompt_tokens\":");
  appendJsonNumber(out, prompt);
  out.append(",\"completion_tokens\":");
  appendJsonNumber(out, completion);
  out.append(",\"total_tokens\":");
  appendJsonNumber(out, prompt + completion);
  out.append("}");
}

void appendPreamble(std::string& out, const Completion& c, const char* object) {
  out.append("{\"id\":");
  appendJsonString(out, c.id);
  out.append(",\"object\":\"");
  out.append(object);
  out.append("\",\"created\":");
  appendJsonNumber(out, c.created);
  out.append(",\"model\":");
  appendJsonString(out, c.model);
  out.append(",\"system_fingerprint\":\"fp_aigw_mock\"");
}

}  // namespace

std::vector<std::string> completionPieces(const std::string* fixed_text, int64_t chunks) {
  std::vector<std::string> pieces;
  if (chunks < 1) chunks = 1;
  if (fixed_text == nullptr) {
    pieces.reserve(static_cast<size_t>(chunks));
    for (int64_t i = 0; i < chunks; ++i) {
      std::string word = kStockWords[static_cast<size_t>(i) % kStockCount];
      if (i + 1 < chunks) word.push_back(' ');
      pieces.push_back(std::move(word));
    }
    return pieces;
  }
  const std::string& text = *fixed_text;
  const size_t n = static_cast<size_t>(chunks);
  size_t start = 0;
  for (size_t i = 1; i <= n && start < text.size(); ++i) {
    size_t end = i == n ? text.size() : utf8Boundary(text, text.size() * i / n);
    if (end > start) pieces.push_back(text.substr(start, end - start));
    start = std::max(start, end);
  }
  return pieces;
}

namespace {

void appendToolCall(std::string& out, const Completion& c, int choice, bool streamed) {
  out.append("{");
  if (streamed) out.append("\"index\":0,");
  out.append("\"id\":");
  appendJsonString(out, "call_" + c.id.substr(c.id.find('-') + 1) + "_" + std::to_string(choice));
  out.append(",\"type\":\"function\",\"function\":{\"name\":");
  appendJsonString(out, c.tool_name);
  out.append(",\"arguments\":");
  appendJsonString(out, c.tool_arguments);
  out.append("}}");
}

nlohmann::json placeholder(const nlohmann::json& schema) {
  const auto type = schema.is_object() ? schema.find("type") : schema.end();
  const std::string t = type != schema.end() && type->is_string() ? type->get<std::string>() : "string";
  if (t == "number" || t == "integer") return 1;
  if (t == "boolean") return true;
  if (t == "array") return nlohmann::json::array();
  if (t == "object") return nlohmann::json::object();
  if (schema.is_object()) {
    auto values = schema.find("enum");
    if (values != schema.end() && values->is_array() && !values->empty()) return (*values)[0];
  }
  return "mock";
}

}  // namespace

bool pickToolCall(const nlohmann::json& body, std::string* name, std::string* arguments) {
  const auto tools = body.find("tools");
  if (tools == body.end() || !tools->is_array() || tools->empty()) return false;
  const auto choice = body.find("tool_choice");
  if (choice != body.end() && *choice == "none") return false;
  const auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) return false;
  const nlohmann::json& last = messages->back();
  if (!last.is_object() || last.value("role", "") != "user") return false;
  std::string wanted;
  if (choice != body.end() && choice->is_object()) {
    const auto fn = choice->find("function");
    if (fn != choice->end() && fn->is_object()) wanted = fn->value("name", "");
  }
  for (const auto& tool : *tools) {
    if (!tool.is_object()) continue;
    const auto fn = tool.find("function");
    if (fn == tool.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) continue;
    const std::string tool_name = (*fn)["name"].get<std::string>();
    if (!wanted.empty() && tool_name != wanted) continue;
    nlohmann::json args = nlohmann::json::object();
    const auto params = fn->find("parameters");
    if (params != fn->end() && params->is_object()) {
      const auto props = params->find("properties");
      const auto required = params->find("required");
      if (props != params->end() && props->is_object()) {
        for (auto it = props->begin(); it != props->end(); ++it) {
          const bool needed = required == params->end() || !required->is_array() ||
                              std::find(required->begin(), required->end(), it.key()) != required->end();
          if (needed) args[it.key()] = placeholder(it.value());
        }
      }
    }
    *name = tool_name;
    *arguments = args.dump();
    return true;
  }
  return false;
}

std::string completionBody(const Completion& c) {
  std::string out;
  size_t text_size = 0;
  for (const auto& p : c.pieces) text_size += p.size();
  out.reserve(320 + (text_size + 160) * static_cast<size_t>(c.choices));
  std::string text;
  text.reserve(text_size);
  for (const auto& p : c.pieces) text += p;
  const bool chat = c.endpoint == Endpoint::ChatCompletions;
  appendPreamble(out, c, chat ? "chat.completion" : "text_completion");
  out.append(",\"choices\":[");
  for (int i = 0; i < c.choices; ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"index\":");
    appendJsonNumber(out, static_cast<int64_t>(i));
    if (chat && !c.tool_name.empty()) {
      out.append(",\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[");
      appendToolCall(out, c, i, false);
      out.append("],\"refusal\":null,\"annotations\":[]}");
    } else if (chat) {
      out.append(",\"message\":{\"role\":\"assistant\",\"content\":");
      appendJsonString(out, text);
      out.append(",\"refusal\":null,\"annotations\":[]}");
    } else {
      out.append(",\"text\":");
      appendJsonString(out, text);
    }
    out.append(",\"logprobs\":null,\"finish_reason\":\"");
    out.append(c.finish_reason);
    out.append("\"}");
  }
  out.append("],\"usage\":");
  appendUsage(out, c.prompt_tokens, c.completion_tokens());
  out.append("}");
  return out;
}

std::string completionChunk(const Completion& c, int choice, std::string_view content, bool role_delta,
                            bool finish, bool usage_null) {
  std::string out;
  out.reserve(256 + content.size());
  const bool chat = c.endpoint == Endpoint::ChatCompletions;
  appendPreamble(out, c, chat ? "chat.completion.chunk" : "text_completion");
  out.append(",\"choices\":[{\"index\":");
  appendJsonNumber(out, static_cast<int64_t>(choice));
  if (chat) {
    out.append(",\"delta\":{");
    if (role_delta && !c.tool_name.empty()) {
      out.append("\"role\":\"assistant\",\"content\":null,\"tool_calls\":[");
      appendToolCall(out, c, choice, true);
      out.append("]");
    } else if (role_delta) {
      out.append("\"role\":\"assistant\",\"content\":\"\",\"refusal\":null");
    } else if (!finish) {
      out.append("\"content\":");
      appendJsonString(out, content);
    }
    out.append("}");
  } else {
    out.append(",\"text\":");
    appendJsonString(out, content);
  }
  out.append(",\"logprobs\":null,\"finish_reason\":");
  if (finish) {
    out.push_back('"');
    out.append(c.finish_reason);
    out.push_back('"');
  } else {
    out.append("null");
  }
  out.append("}]");
  if (usage_null) out.append(",\"usage\":null");
  out.append("}");
  return out;
}

std::string usageChunk(const Completion& c) {
  std::string out;
  const bool chat = c.endpoint == Endpoint::ChatCompletions;
  appendPreamble(out, c, chat ? "chat.completion.chunk" : "text_completion");
  out.append(",\"choices\":[],\"usage\":");
  appendUsage(out, c.prompt_tokens, c.completion_tokens());
  out.append("}");
  return out;
}

bool parseEmbeddingInput(const nlohmann::json& body, EmbeddingRequest* out, std::string* error) {
  const auto& input = body.at("input");
  auto tokensText = [](const nlohmann::json& arr, std::string* text) {
    for (const auto& t : arr) {
      if (!t.is_number_integer()) return false;
      *text += std::to_string(t.get<int64_t>());
      text->push_back(' ');
    }
    return true;
  };
  if (input.is_string()) {
    out->inputs.push_back(input.get<std::string>());
  } else if (input.is_array() && !input.empty()) {
    if (input[0].is_number_integer()) {
      std::string text;
      if (!tokensText(input, &text)) {
        *error = "'input' must be a string, an array of strings, or an array of token arrays";
        return false;
      }
      out->inputs.push_back(std::move(text));
    } else {
      for (const auto& item : input) {
        if (item.is_string()) {
          out->inputs.push_back(item.get<std::string>());
        } else if (item.is_array()) {
          std::string text;
          if (!tokensText(item, &text)) {
            *error = "'input' must be a string, an array of strings, or an array of token arrays";
            return false;
          }
          out->inputs.push_back(std::move(text));
        } else {
          *error = "'input' must be a string, an array of strings, or an array of token arrays";
          return false;
        }
      }
    }
  } else {
    *error = "'input' must be a non-empty string or array";
    return false;
  }
  if (out->inputs.size() > 2048) {
    *error = "'input' may hold at most 2048 items";
    return false;
  }
  if (auto dims = body.find("dimensions"); dims != body.end() && !dims->is_null()) {
    if (!dims->is_number_integer() || dims->get<int64_t>() < 1 || dims->get<int64_t>() > 65536) {
      *error = "'dimensions' must be an integer from 1 to 65536";
      return false;
    }
    out->dimensions = dims->get<int64_t>();
  }
  if (auto fmt = body.find("encoding_format"); fmt != body.end() && !fmt->is_null()) {
    if (*fmt == "base64") {
      out->base64 = true;
    } else if (*fmt != "float") {
      *error = "'encoding_format' must be 'float' or 'base64'";
      return false;
    }
  }
  return true;
}

std::string embeddingsBody(const EmbeddingRequest& r, int64_t prompt_tokens) {
  std::string out;
  const size_t dims = static_cast<size_t>(r.dimensions);
  out.reserve(128 + r.inputs.size() * (64 + dims * (r.base64 ? 6 : 12)));
  out.append("{\"object\":\"list\",\"data\":[");
  std::vector<float> vec(dims);
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    uint64_t state = fnv1a(r.inputs[i], 0x9e3779b97f4a7c15ull) | 1;
    double norm = 0;
    for (size_t d = 0; d < dims; ++d) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      float v = static_cast<float>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
      vec[d] = v;
      norm += static_cast<double>(v) * v;
    }
    norm = std::sqrt(norm);
    if (norm > 0) {
      for (auto& v : vec) v = static_cast<float>(v / norm);
    }
    if (i > 0) out.push_back(',');
    out.append("{\"object\":\"embedding\",\"index\":");
    appendJsonNumber(out, static_cast<int64_t>(i));
    out.append(",\"embedding\":");
    if (r.base64) {
      out.push_back('"');
      appendBase64(out, reinterpret_cast<const unsigned char*>(vec.data()), dims * sizeof(float));
      out.push_back('"');
    } else {
      out.push_back('[');
      for (size_t d = 0; d < dims; ++d) {
        if (d > 0) out.push_back(',');
        appendJsonNumber(out, static_cast<double>(vec[d]));
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.append("],\"model\":");
  appendJsonString(out, r.model);
  out.append(",\"usage\":{\"prompt_tokens\":");
  appendJsonNumber(out, prompt_tokens);
  out.append(",\"total_tokens\":");
  appendJsonNumber(out, prompt_tokens);
  out.append("}}");
  return out;
}

}  // namespace aigw::mock
