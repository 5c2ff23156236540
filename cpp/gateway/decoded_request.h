// A client request of another API than OpenAI's, once decoded into OpenAI's shape: what the
// stages after the API request stage read (and what goes to providers that speak OpenAI).
#pragma once

#include <nlohmann/json.hpp>

#include <utility>

#include "http/request.h"
#include "pipeline/api_call.h"

namespace aigw {

// The decoded body replaces the client's: its text for what relays bytes, its document for what
// reads fields, so nothing parses it again.
inline void useDecodedRequest(http::Request& req, ApiCall& api, nlohmann::json openai, bool stream) {
  api.stream = stream;
  api.json_object = true;
  req.body = openai.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  api.body.reset(req.body, std::move(openai));
}

}  // namespace aigw
