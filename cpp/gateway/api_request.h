// Pipeline stage that recognises the OpenAI API endpoints, checks method and JSON body the way
// OpenAI does (same statuses, same error shape), and resolves the requested model to a route.
// The terminal ProviderDispatchFilter then hands the request to that route's provider.
#pragma once

#include "pipeline/request_stage.h"

namespace aigw {

namespace http {
struct Request;
}

// Passthrough uploads that are not JSON (files, audio ...) stream to the provider as they
// arrive instead of being buffered whole: decided from the head alone.
bool shouldStreamRequestBody(const http::Request& head);

class GatewayConfig;

class ApiRequestFilter final : public Filter {
 public:
  explicit ApiRequestFilter(const GatewayConfig& config) : config_(config) {}
  const char* name() const override { return "api_request"; }
  FilterStatus onRequest(RequestContext& request) const override;

 private:
  const GatewayConfig& config_;
};

class ProviderDispatchFilter final : public Filter {
 public:
  const char* name() const override { return "provider_dispatch"; }
  FilterStatus onRequest(RequestContext& request) const override;
};

}  // namespace aigw
