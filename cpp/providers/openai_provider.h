// `kind: openai`: any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, Groq, Mistral,
// DeepSeek, OpenRouter, Together ...). Requests are rebuilt, never forwarded byte for byte;
// responses (whole or SSE) are relayed as they arrive, usage picked out on the way.
#pragma once

#include <memory>
#include <string>

#include "http/headers.h"
#include "providers/provider.h"
#include "upstream/credential_scrubber.h"
#include "upstream/origin.h"
#include "upstream/upstream_call.h"
#include "upstream/upstream_pool.h"

namespace aigw::net {
class TlsClientContext;
}

namespace aigw {

struct OpenAiOptions {
  upstream::Origin origin;
  std::string api_key;          // sent as "Authorization: Bearer"; never logged
  http::HeaderList headers;     // extra headers from config, added last
  bool verify = true;
  std::string ca_file;
  upstream::PoolOptions pool;
  upstream::CallTimeouts timeouts;
};

class OpenAiProvider final : public Provider {
 public:
  static std::unique_ptr<OpenAiProvider> create(std::string name, OpenAiOptions options, std::string* error);
  const char* kind() const override { return "openai"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;
  std::string startupWarning() const override;

  // The upstream request, head and body, ready to write.
  std::string buildRequest(const CallRequest& request) const;
  const OpenAiOptions& options() const { return options_; }

 private:
  OpenAiProvider(std::string name, OpenAiOptions options, std::shared_ptr<net::TlsClientContext> tls);

  OpenAiOptions options_;
  std::shared_ptr<net::TlsClientContext> tls_;
  upstream::CredentialScrubber scrubber_;  // this provider's key, masked in all it relays
};

}  // namespace aigw
