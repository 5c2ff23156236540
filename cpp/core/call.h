// The words every layer uses about one API call: which endpoint it is, how it failed, what it
// used. A leaf header, so the upstream client, the providers, costs and guardrails share them.
#pragma once

#include <cstdint>

namespace aigw {

// Passthrough: any other /v1/* path, relayed as is to an OpenAI-compatible provider.
enum class Endpoint { ChatCompletions, Completions, Embeddings, Passthrough };
const char* endpointName(Endpoint e);

enum class CallErrorKind { Connect, Timeout, Reset, Protocol, Overflow, Internal };

// Token counts of one answer; -1: not reported.
struct CallUsage {
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;  // prompt tokens read from the provider's prompt cache (part of prompt_tokens)
};

}  // namespace aigw
