// `kind: vertex`: Google Cloud's Vertex AI. Gemini models (publisher google) take generateContent
// bodies as kind gemini does; Claude models (publisher anthropic) take Messages bodies through
// rawPredict. Both with `Authorization: Bearer <OAuth2 token>`, pushed by a refresher.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/credential_slot.h"
#include "providers/provider.h"
#include "providers/upstream_endpoint.h"
#include "translate/translation.h"

namespace aigw {

struct VertexOptions : UpstreamOptions {
  std::string project;
  std::string region;                          // the location: us-central1, europe-west4, global ...
  std::vector<std::string> anthropic_models;   // globs of the models publisher anthropic serves
  std::string anthropic_version = "vertex-2023-10-16";  // in the body, where Anthropic's API has a header
  int64_t default_max_tokens = translate::kDefaultAnthropicMaxTokens;  // for OpenAI requests without one
};

class VertexProvider final : public Provider {
 public:
  enum class Publisher { Google, Anthropic };

  static std::unique_ptr<VertexProvider> create(std::string name, VertexOptions options, std::string* error);
  const char* kind() const override { return "vertex"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override { return endpoint_->startupWarning(name()); }
  // {"token", "expires_at"?}: an OAuth2 access token (cloud-platform scope).
  bool acceptCredentials(const nlohmann::json& pushed, std::string* error) const override;

  Publisher publisherOf(std::string_view model) const;
  // The upstream request for an attempt with `auth` (its authorization header), or false with
  // the OpenAI error (status, body) the client gets.
  bool buildRequest(const CallRequest& request, const http::HeaderList& auth, std::string* out,
                    int* error_status) const;

 private:
  VertexProvider(std::string name, VertexOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);

  VertexOptions options_;
  std::unique_ptr<UpstreamEndpoint> endpoint_;
  std::string models_path_;  // "/v1/projects/{project}/locations/{region}/publishers/"
  mutable CredentialSlot<http::HeaderList> token_;  // the authorization header
};

}  // namespace aigw
