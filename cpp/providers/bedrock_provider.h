// `kind: bedrock`: Amazon Bedrock's Converse and ConverseStream APIs, every request signed with
// AWS Signature Version 4 (upstream/aws_sigv4). OpenAI requests are encoded into Converse bodies
// (translate/bedrock_*); answers, whole or as event-stream frames, are decoded into OpenAI's shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "providers/credential_slot.h"
#include "providers/provider.h"
#include "providers/upstream_endpoint.h"
#include "upstream/aws_sigv4.h"

namespace aigw {

struct BedrockOptions : UpstreamOptions {
  std::string region;                  // the signing scope (and, by default, the host)
  upstream::AwsCredentials credentials;  // never logged; the secret signs, it is never sent
  // The credentials come from a hook (acceptCredentials), not from `credentials`.
  bool credentials_hook = false;
};

class BedrockProvider final : public Provider {
 public:
  static std::unique_ptr<BedrockProvider> create(std::string name, BedrockOptions options, std::string* error);
  const char* kind() const override { return "bedrock"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override { return endpoint_->startupWarning(name()); }
  // {"access_key_id", "secret_access_key", "session_token"?, "expires_at"?}.
  bool acceptCredentials(const nlohmann::json& pushed, std::string* error) const override;

  // The signed upstream request for an attempt at `unix_seconds` with `credentials`, or false
  // with the OpenAI error (status, body) the client gets when the request asks for what
  // Converse cannot express. Without `credentials`: the current ones.
  bool buildRequest(const CallRequest& request, const upstream::AwsCredentials& credentials, int64_t unix_seconds,
                    std::string* out, int* error_status) const;
  bool buildRequest(const CallRequest& request, int64_t unix_seconds, std::string* out, int* error_status) const;

 private:
  BedrockProvider(std::string name, BedrockOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);
  void install(upstream::AwsCredentials credentials, int64_t expires_at) const;

  BedrockOptions options_;  // its `credentials` are the slot's first value (or none: a hook's)
  std::unique_ptr<UpstreamEndpoint> endpoint_;
  mutable CredentialSlot<upstream::AwsCredentials> credentials_;
};

}  // namespace aigw
