#include "core/call.h"

namespace aigw {

const char* endpointName(Endpoint e) {
  switch (e) {
    case Endpoint::ChatCompletions: return "chat.completions";
    case Endpoint::Completions: return "completions";
    case Endpoint::Embeddings: return "embeddings";
    case Endpoint::Passthrough: return "passthrough";
    case Endpoint::CountTokens: return "messages.count_tokens";
  }
  return "unknown";
}

}  // namespace aigw
