// Pipeline stage for the gateway's own endpoints: GET /health and GET /v1/models[/{id}].
#pragma once

#include "gateway/pipeline.h"

namespace aigw {

class BuiltinRoutesFilter final : public Filter {
 public:
  const char* name() const override { return "builtin_routes"; }
  FilterStatus onRequest(Exchange& exchange) const override;
};

}  // namespace aigw
