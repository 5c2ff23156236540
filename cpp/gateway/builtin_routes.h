// Pipeline stage for the gateway's own endpoints: GET /health and GET /v1/models[/{id}].
#pragma once

#include <string>
#include <string_view>

#include "pipeline/request_stage.h"

namespace aigw {

// A path segment arrives percent-encoded: the openai SDK sends models.retrieve("openai/gpt-4o")
// as /v1/models/openai%2Fgpt-4o, botocore a Bedrock model id's ':' as %3A. Returns false on a
// malformed escape.
bool percentDecode(std::string_view in, std::string* out);

class Worker;

class BuiltinRoutesFilter final : public Filter {
 public:
  explicit BuiltinRoutesFilter(Worker& worker) : worker_(worker) {}
  const char* name() const override { return "builtin_routes"; }
  FilterStatus onRequest(RequestContext& request) const override;

 private:
  Worker& worker_;
};

}  // namespace aigw
