// What an OpenAI-style API request asks for: filled in by the API request stage, read by the
// stages after it and by the attempt loop. Shared vocabulary of the request path.
#pragma once

#include <string>
#include <string_view>

#include "core/lazy_json.h"
#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw {

struct ApiCall {
  Endpoint endpoint = Endpoint::ChatCompletions;
  LazyJson body;            // the request's JSON, parsed only if a stage asks for it
  bool json_object = false; // the body is a JSON object (always, for the three API endpoints)
  std::string model;
  bool stream = false;
  const router::Route* route = nullptr;  // null for a passthrough that names no model
  std::string_view captured;             // what the route pattern's '*' matched (a view into model)
  const Provider* provider = nullptr;    // with no route: who answers (the default provider)
  std::string path_suffix;               // Passthrough: the target after "/v1"
  // The API the client speaks. For another API than OpenAI, the request's body was decoded into
  // OpenAI's shape (what every stage reads) and the client's own bytes kept here, for attempts
  // to a provider that speaks the client's API (same-API: no translation either way). Emptied
  // when that is no longer allowed: a stage rewrote the request, or one reads the answer.
  ApiShape client = ApiShape::OpenAi;
  std::string native_body;
  // What the decoding into OpenAI's shape had to leave out (a field OpenAI cannot express, not
  // in the route's drop_params): a same-API attempt carries it; any other attempt refuses the
  // request with this 400 (message and field) instead of losing it.
  std::string refusal;
  std::string refusal_field;
};

}  // namespace aigw
