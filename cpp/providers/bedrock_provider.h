// `kind: bedrock`: Amazon Bedrock's Converse and ConverseStream APIs, every request signed with
// AWS Signature Version 4 (upstream/aws_sigv4). OpenAI requests are encoded into Converse bodies
// (translate/bedrock_*); answers, whole or as event-stream frames, are decoded into OpenAI's shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "providers/provider.h"
#include "providers/upstream_endpoint.h"
#include "upstream/aws_sigv4.h"

namespace aigw {

struct BedrockOptions : UpstreamOptions {
  std::string region;                  // the signing scope (and, by default, the host)
  upstream::AwsCredentials credentials;  // never logged; the secret signs, it is never sent
};

class BedrockProvider final : public Provider {
 public:
  static std::unique_ptr<BedrockProvider> create(std::string name, BedrockOptions options, std::string* error);
  const char* kind() const override { return "bedrock"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override { return endpoint_->startupWarning(name()); }

  // The signed upstream request for an attempt at `unix_seconds`, or false with the OpenAI error
  // (status, body) the client gets when the request asks for what Converse cannot express.
  bool buildRequest(const CallRequest& request, int64_t unix_seconds, std::string* out, int* error_status) const;

 private:
  BedrockProvider(std::string name, BedrockOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);

  BedrockOptions options_;
  std::unique_ptr<UpstreamEndpoint> endpoint_;
};

}  // namespace aigw
