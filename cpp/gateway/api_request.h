// Pipeline stage that recognises the OpenAI API endpoints, checks method and JSON body the way
// OpenAI does (same statuses, same error shape), and resolves the requested model to a route.
// The terminal ProviderDispatchFilter then hands the request to that route's provider.
#pragma once

#include "gateway/pipeline.h"

namespace aigw {

namespace http {
struct Request;
}

// Passthrough uploads that are not JSON (files, audio ...) stream to the provider as they
// arrive instead of being buffered whole: decided from the head alone.
bool shouldStreamRequestBody(const http::Request& head);

class ApiRequestFilter final : public Filter {
 public:
  const char* name() const override { return "api_request"; }
  FilterStatus onRequest(Exchange& exchange) const override;
};

class ProviderDispatchFilter final : public Filter {
 public:
  const char* name() const override { return "provider_dispatch"; }
  FilterStatus onRequest(Exchange& exchange) const override;
};

}  // namespace aigw
