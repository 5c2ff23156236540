// The texts a guardrail checks, found inside OpenAI-shaped JSON documents: pointers to the
// document's own strings, so a redaction edits them in place and the document is written back
// (re-serialized) only when something changed.
//   request, chat:        messages[].content (a string) and its {"type":"text","text"} parts
//   request, completions: prompt (a string or an array of strings)
//   request, embeddings:  input (a string or an array of strings; token arrays are skipped)
//   request, passthrough: every string value in the document (only for guardrails that ask)
//   answer, chat:         choices[].message.content
//   answer, completions:  choices[].text
//   stream chunk:         choices[].delta.content (chat) or choices[].text (completions)
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/call.h"

namespace aigw::guardrails {

using TextRefs = std::vector<std::string*>;

void requestTexts(Endpoint endpoint, nlohmann::json& doc, TextRefs& out);
void passthroughTexts(nlohmann::json& doc, TextRefs& out);
void answerTexts(Endpoint endpoint, nlohmann::json& doc, TextRefs& out);
// The text of one stream choice, or null when the chunk carries none for it.
std::string* chunkChoiceText(Endpoint endpoint, nlohmann::json& choice);
// Sets the text of one stream choice (creating delta.content / text when absent).
void setChunkChoiceText(Endpoint endpoint, nlohmann::json& choice, std::string text);

// Serializes a document after edits (ill-formed UTF-8, which edits never make, is replaced).
std::string dumpJson(const nlohmann::json& doc);

// The largest prefix length <= `n` that does not end inside a UTF-8 sequence.
size_t utf8Floor(const std::string& text, size_t n);

}  // namespace aigw::guardrails
