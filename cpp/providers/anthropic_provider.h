// `kind: anthropic`: the Anthropic Messages API (x-api-key, anthropic-version). An Anthropic
// client's attempt carries its own bytes both ways; an OpenAI client's request is encoded into a
// Messages body (translate/) and the answer, whole or streamed, decoded back into OpenAI's shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "providers/provider.h"
#include "providers/upstream_endpoint.h"
#include "translate/translation.h"

namespace aigw {

// The Messages body of an OpenAI chat request (shared with kind vertex's anthropic publisher),
// `model` included, or false with the OpenAI error body (400) in `error`.
bool encodeAnthropicChat(const CallRequest& request, int64_t default_max_tokens, nlohmann::json* body,
                         std::string* error);

struct AnthropicOptions : UpstreamOptions {
  std::string api_key;                 // sent as x-api-key; never logged
  std::string version = "2023-06-01";  // anthropic-version, unless the client sent its own
  int64_t default_max_tokens = translate::kDefaultAnthropicMaxTokens;  // for OpenAI requests without one
};

class AnthropicProvider final : public Provider {
 public:
  static std::unique_ptr<AnthropicProvider> create(std::string name, AnthropicOptions options, std::string* error);
  const char* kind() const override { return "anthropic"; }
  ApiShape nativeShape() const override { return ApiShape::Anthropic; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override { return endpoint_->startupWarning(name()); }

  // The upstream request for an attempt, or false with the OpenAI error the client gets
  // (status, body) when the request asks for what the Messages API cannot express.
  bool buildRequest(const CallRequest& request, std::string* out, int* error_status) const;
  const AnthropicOptions& options() const { return options_; }

 private:
  AnthropicProvider(std::string name, AnthropicOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);
  // The Messages body for an OpenAI request, or false with the error body in `out`.
  bool encode(const CallRequest& request, std::string* out) const;

  AnthropicOptions options_;
  std::unique_ptr<UpstreamEndpoint> endpoint_;
  http::HeaderList auth_;  // x-api-key, anthropic-version
};

}  // namespace aigw
