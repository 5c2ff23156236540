#include "guardrails/text_views.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;

void stringOrStrings(json& v, TextRefs& out) {
  if (v.is_string()) {
    out.push_back(v.get_ptr<std::string*>());
  } else if (v.is_array()) {
    for (json& item : v) {
      if (item.is_string()) out.push_back(item.get_ptr<std::string*>());
    }
  }
}

json* member(json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

}  // namespace

void requestTexts(Endpoint endpoint, json& doc, TextRefs& out) {
  switch (endpoint) {
    case Endpoint::ChatCompletions:
    case Endpoint::CountTokens: {
      json* messages = member(doc, "messages");
      if (messages == nullptr || !messages->is_array()) return;
      for (json& m : *messages) {
        json* content = member(m, "content");
        if (content == nullptr) continue;
        if (content->is_string()) {
          out.push_back(content->get_ptr<std::string*>());
        } else if (content->is_array()) {
          for (json& part : *content) {
            json* type = member(part, "type");
            json* text = member(part, "text");
            if (type != nullptr && type->is_string() && *type == "text" && text != nullptr && text->is_string()) {
              out.push_back(text->get_ptr<std::string*>());
            }
          }
        }
      }
      return;
    }
    case Endpoint::Completions:
      if (json* prompt = member(doc, "prompt")) stringOrStrings(*prompt, out);
      return;
    case Endpoint::Embeddings:
      if (json* input = member(doc, "input")) stringOrStrings(*input, out);
      return;
    case Endpoint::Passthrough: passthroughTexts(doc, out); return;
  }
}

void passthroughTexts(json& doc, TextRefs& out) {
  if (doc.is_string()) {
    out.push_back(doc.get_ptr<std::string*>());
  } else if (doc.is_array() || doc.is_object()) {
    for (json& v : doc) passthroughTexts(v, out);
  }
}

void answerTexts(Endpoint endpoint, json& doc, TextRefs& out) {
  json* choices = member(doc, "choices");
  if (choices == nullptr || !choices->is_array()) return;
  for (json& choice : *choices) {
    json* text = nullptr;
    if (endpoint == Endpoint::ChatCompletions) {
      if (json* message = member(choice, "message")) text = member(*message, "content");
    } else if (endpoint == Endpoint::Completions) {
      text = member(choice, "text");
    }
    if (text != nullptr && text->is_string()) out.push_back(text->get_ptr<std::string*>());
  }
}

std::string* chunkChoiceText(Endpoint endpoint, json& choice) {
  json* text = nullptr;
  if (endpoint == Endpoint::ChatCompletions) {
    if (json* delta = member(choice, "delta")) text = member(*delta, "content");
  } else {
    text = member(choice, "text");
  }
  return text != nullptr && text->is_string() ? text->get_ptr<std::string*>() : nullptr;
}

void setChunkChoiceText(Endpoint endpoint, json& choice, std::string text) {
  if (!choice.is_object()) return;
  if (endpoint == Endpoint::ChatCompletions) {
    json& delta = choice["delta"];
    if (!delta.is_object()) delta = json::object();
    delta["content"] = std::move(text);
  } else {
    choice["text"] = std::move(text);
  }
}

std::string dumpJson(const json& doc) { return doc.dump(-1, ' ', false, json::error_handler_t::replace); }

size_t utf8Floor(const std::string& text, size_t n) {
  if (n >= text.size()) return text.size();
  // Back up over continuation bytes to the start of the character at n.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace aigw::guardrails
