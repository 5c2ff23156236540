// The words every layer uses about one API call: which endpoint it is, how it failed, what it
// used. A leaf header, so the upstream client, the providers, costs and guardrails share them.
#pragma once

#include <cstdint>

namespace aigw {

// Passthrough: any other /v1/* path, relayed as is to an OpenAI-compatible provider.
// CountTokens: Anthropic's /v1/messages/count_tokens (a chat body; the answer is {"input_tokens"}).
enum class Endpoint { ChatCompletions, Completions, Embeddings, Passthrough, CountTokens };
const char* endpointName(Endpoint e);

// The API a body is written in. Inside the gateway a request and its answer are OpenAI-shaped
// (guardrails, transforms and the cost read them so); a client speaking another API is decoded
// on the way in and encoded on the way out, and a provider speaking another API translates at
// its end. A same-API attempt carries the client's own bytes both ways (docs/providers.md).
enum class ApiShape : uint8_t { OpenAi, Anthropic, Gemini, Bedrock };

enum class CallErrorKind { Connect, Timeout, Reset, Protocol, Overflow, Internal };

// Token counts of one answer; -1: not reported.
struct CallUsage {
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;  // prompt tokens read from the provider's prompt cache (part of prompt_tokens)
};

}  // namespace aigw
