#include "guardrails/block_answer.h"

#include "core/echo.h"
#include "http/response.h"
#include "http/sse.h"

namespace aigw::guardrails {

void respondBlock(http::ResponseWriter& out, const BlockInfo& block, std::string_view request_id) {
  http::HeaderList h;
  h.add("x-aigw-request-id", std::string(request_id));
  h.add("content-type", "application/json");
  if (block.guardrail != nullptr) h.add("x-aigw-guardrail", block.guardrail->name());
  std::string_view message = block.message;
  std::string capped;
  if (message.size() > kErrorMessageMaxBytes) message = capped = echoed(message, kErrorMessageMaxBytes);
  const std::string_view type = block.type.empty() ? std::string_view(http::errorTypeForStatus(block.status))
                                                   : std::string_view(block.type);
  out.respond(block.status, h, http::openAiErrorBody(message, type, block.code));
}

void endStreamWithBlock(http::ResponseWriter& out, const BlockInfo& block) {
  std::string event;
  http::appendSseEvent(event, http::openAiErrorBody(block.message, block.type, block.code));
  out.writeBody(event);
  out.endResponse();
}

}  // namespace aigw::guardrails
