// The built-in mock provider (`kind: mock`): answers chat completions, completions and
// embeddings like OpenAI, whole or streamed, with knobs for timing and failures. It is both a
// provider the gateway routes to and, behind `aigw mock`, a standalone upstream for tests.
#pragma once

#include "providers/mock_knobs.h"
#include "providers/provider.h"

namespace aigw {

class MockProvider final : public Provider {
 public:
  MockProvider(std::string name, MockKnobs defaults) : Provider(std::move(name)), defaults_(std::move(defaults)) {}
  const char* kind() const override { return "mock"; }
  ProviderCallPtr start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const override;
  void describe(nlohmann::json& out) const override;

 private:
  MockKnobs defaults_;
};

}  // namespace aigw
