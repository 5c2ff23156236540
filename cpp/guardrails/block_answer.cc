#include "guardrails/block_answer.h"

#include "http/response.h"
#include "http/sse.h"
#include "pipeline/error_answer.h"

namespace aigw::guardrails {

void respondBlock(http::ResponseWriter& out, const BlockInfo& block, std::string_view request_id) {
  http::HeaderList extra;
  if (block.guardrail != nullptr) extra.add("x-aigw-guardrail", block.guardrail->name());
  respondError(out, request_id, block.status, block.message, block.type, block.code, {}, &extra);
}

void endStreamWithBlock(http::ResponseWriter& out, const BlockInfo& block) {
  std::string event;
  http::appendSseEvent(event, http::openAiErrorBody(block.message, block.type, block.code));
  out.writeBody(event);
  out.endResponse();
}

}  // namespace aigw::guardrails
