#include "translate/chat_completion.h"

#include "core/json_text.h"

namespace aigw::translate {

void CompletionContent::addToolCall(std::string_view id, std::string_view name, const nlohmann::json& input) {
  if (tool_call_count++ > 0) tool_calls += ',';
  tool_calls += "{\"id\":";
  appendJsonString(tool_calls, id);
  tool_calls += ",\"type\":\"function\",\"function\":{\"name\":";
  appendJsonString(tool_calls, name);
  tool_calls += ",\"arguments\":";
  appendJsonString(tool_calls,
                   input.is_null() ? "{}" : input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  tool_calls += "}}";
}

void appendChatCompletion(std::string& out, std::string_view id, int64_t created, std::string_view model,
                          const CompletionContent& c, std::string_view finish_reason, const TokenUsage& usage) {
  out.reserve(out.size() + 256 + c.text.size() + c.reasoning.size() + c.tool_calls.size());
  out += "{\"id\":";
  appendJsonString(out, id);
  out += ",\"object\":\"chat.completion\",\"created\":";
  appendJsonNumber(out, created);
  out += ",\"model\":";
  appendJsonString(out, model);
  out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
  if (c.has_text)
    appendJsonString(out, c.text);
  else
    out += "null";
  if (!c.reasoning.empty()) {
    out += ",\"reasoning_content\":";
    appendJsonString(out, c.reasoning);
  }
  if (c.tool_call_count > 0) {
    out += ",\"tool_calls\":[";
    out += c.tool_calls;
    out += ']';
  }
  out += "},\"logprobs\":null,\"finish_reason\":";
  if (finish_reason.empty())
    out += "null";
  else
    appendJsonString(out, finish_reason);
  out += "}],\"usage\":";
  usage.appendOpenAi(out);
  out += '}';
}

void appendChatChunkStart(std::string& out, std::string_view head) {
  out += "data: ";
  out += head;
  out += ",\"choices\":[{\"index\":0,\"delta\":";
}

void appendChatChunkEnd(std::string& out, std::string_view finish_reason) {
  out += ",\"logprobs\":null,\"finish_reason\":";
  if (finish_reason.empty()) {
    out += "null";
  } else {
    out += '"';
    out += finish_reason;
    out += '"';
  }
  out += "}]}\n\n";
}

void appendToolCallStartChunk(std::string& out, std::string_view head, int64_t index, std::string_view id,
                              std::string_view name) {
  appendChatChunkStart(out, head);
  out += "{\"tool_calls\":[{\"index\":";
  appendJsonNumber(out, index);
  out += ",\"id\":";
  appendJsonString(out, id);
  out += ",\"type\":\"function\",\"function\":{\"name\":";
  appendJsonString(out, name);
  out += ",\"arguments\":\"\"}}]}";
  appendChatChunkEnd(out);
}

void appendToolCallArgumentsChunk(std::string& out, std::string_view head, int64_t index, std::string_view arguments) {
  appendChatChunkStart(out, head);
  out += "{\"tool_calls\":[{\"index\":";
  appendJsonNumber(out, index);
  out += ",\"function\":{\"arguments\":";
  appendJsonString(out, arguments);
  out += "}}]}";
  appendChatChunkEnd(out);
}

void appendTextChunk(std::string& out, std::string_view head, std::string_view field, std::string_view text) {
  appendChatChunkStart(out, head);
  out += "{\"";
  out += field;
  out += "\":";
  appendJsonString(out, text);
  out += '}';
  appendChatChunkEnd(out);
}

}  // namespace aigw::translate
