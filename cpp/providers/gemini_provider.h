// `kind: gemini`: Google AI Studio's Gemini API (generateContent, streamGenerateContent?alt=sse,
// batchEmbedContents; the key in x-goog-api-key). OpenAI requests are encoded into Gemini's
// bodies (translate/gemini_*) and the answers, whole or streamed, decoded back into OpenAI's shape.
#pragma once

#include <memory>
#include <string>

#include "providers/gemini_answer_decoder.h"
#include "providers/provider.h"
#include "providers/upstream_endpoint.h"

namespace aigw {

// What kind gemini shares with kind vertex (publisher google), which speaks the same bodies:
// the generateContent body of an OpenAI chat request, or false with the OpenAI error body (400)
// in `out` when the request asks for what Gemini cannot express;
bool encodeGeminiChat(const CallRequest& request, std::string* out);
// and the options of the attempt's answer decoder.
GeminiAnswerDecoder::Options geminiAnswerOptions(const CallRequest& request);

struct GeminiOptions : UpstreamOptions {
  std::string api_key;  // sent as x-goog-api-key; never logged
};

class GeminiProvider final : public Provider {
 public:
  static std::unique_ptr<GeminiProvider> create(std::string name, GeminiOptions options, std::string* error);
  const char* kind() const override { return "gemini"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override { endpoint_->describe(out); }
  std::string startupWarning() const override { return endpoint_->startupWarning(name()); }

  // The upstream request for an attempt, or false with the OpenAI error (status, body) the
  // client gets when the request asks for what Gemini cannot express.
  bool buildRequest(const CallRequest& request, std::string* out, int* error_status) const;

 private:
  GeminiProvider(std::string name, GeminiOptions options, std::unique_ptr<UpstreamEndpoint> endpoint);

  GeminiOptions options_;
  std::unique_ptr<UpstreamEndpoint> endpoint_;
  http::HeaderList auth_;  // x-goog-api-key
};

}  // namespace aigw
