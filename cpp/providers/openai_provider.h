// `kind: openai`: any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, Groq, Mistral,
// DeepSeek, OpenRouter, Together ...), and `kind: azure` (Azure OpenAI: deployments in the
// path, api-version in the query, the key in an api-key header). Requests are rebuilt, never
// forwarded byte for byte; responses (whole or SSE) are relayed as they arrive, usage picked
// out on the way.
#pragma once

#include <memory>
#include <string>

#include "providers/provider.h"
#include "providers/upstream_endpoint.h"

namespace aigw {

struct OpenAiOptions : UpstreamOptions {
  std::string api_key;  // sent as "Authorization: Bearer" (Azure: "api-key"); never logged
  // Azure OpenAI: non-empty api_version makes this an Azure resource. The attempt's model is
  // the deployment: {base}/openai/deployments/{model}/chat/completions?api-version=...
  std::string api_version;
  bool azure_bearer = false;  // Azure with an Entra ID token: "Authorization: Bearer" instead of api-key
};

class OpenAiProvider final : public Provider {
 public:
  static std::unique_ptr<OpenAiProvider> create(std::string name, OpenAiOptions options, std::string* error);
  const char* kind() const override { return options_.api_version.empty() ? "openai" : "azure"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override;

  // The upstream request, head and body, ready to write.
  std::string buildRequest(const CallRequest& request) const;
  const OpenAiOptions& options() const { return options_; }

 private:
  OpenAiProvider(std::string name, OpenAiOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);
  std::string path(const CallRequest& request) const;

  OpenAiOptions options_;
  std::unique_ptr<UpstreamEndpoint> endpoint_;
  http::HeaderList auth_;  // the credential header this kind sends
};

}  // namespace aigw
