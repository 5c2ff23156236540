// Pipeline stage for the gateway's own endpoints: GET /health and GET /v1/models[/{id}].
#pragma once

#include "pipeline/request_stage.h"

namespace aigw {

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
