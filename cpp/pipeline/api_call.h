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
};

}  // namespace aigw
