// An error the gateway answers itself, in OpenAI's shape: one place for the request id header,
// the content type, the type derived from the status and the cap on echoed messages. Request
// stages (through the exchange) and response stages (a guardrail's block) answer with it.
#pragma once

#include <string>
#include <string_view>

#include "core/echo.h"
#include "http/exchange_api.h"
#include "http/headers.h"
#include "http/response.h"

namespace aigw {

inline void respondError(http::ResponseWriter& out, std::string_view request_id, int status, std::string_view message,
                         std::string_view type = {}, std::string_view code = {}, std::string_view param = {},
                         const http::HeaderList* extra = nullptr) {
  if (type.empty()) type = http::errorTypeForStatus(status);
  // Echoed values are cut where they are put in; this bounds what the words around them add.
  std::string capped;
  if (message.size() > kErrorMessageMaxBytes) message = capped = echoed(message, kErrorMessageMaxBytes);
  http::HeaderList h;
  h.add("x-aigw-request-id", std::string(request_id));
  h.add("content-type", "application/json");
  if (extra != nullptr) {
    for (const auto& x : *extra) h.add(x.name, x.value);
  }
  out.respond(status, h, http::openAiErrorBody(message, type, code, param));
}

}  // namespace aigw
