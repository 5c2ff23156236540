// Bedrock Converse -> OpenAI request translation on arbitrary input (BedrockRequestDecoder, what
// the gateway's /model/{id}/converse reads), and the result encoded back for a Bedrock upstream
// (BedrockRequestEncoder). Properties:
//  - a request is translated into a chat-completions body with the URL's model and messages,
//    or refused naming a field with a message; with drop_params "*" it is refused only for
//    what nothing may drop (a malformed value);
//  - what was translated encodes back into a Converse body with messages, or is refused with
//    a message (tool input that is no object cannot be OpenAI arguments for Bedrock).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "translate/bedrock_request_decoder.h"
#include "translate/bedrock_request_encoder.h"
#include "translate_checks.h"

namespace {

using nlohmann::json;
using namespace aigw::translate;

void checkRequest(const json& body, bool stream) {
  for (bool drop_all : {false, true}) {
    RequestOptions options;
    if (drop_all) options.drop_params = {std::string(kDropEverything)};
    json out;
    const Translation t = BedrockRequestDecoder(options).decode(body, "model-x", stream, out);
    if (!t.ok) {
      FUZZ_CHECK(!t.error.message.empty(), "a refusal without a message");
      FUZZ_CHECK(!drop_all || t.error.drop_name.empty(), "refused '%s' although drop_params is \"*\"",
                 t.error.drop_name.c_str());
      continue;
    }
    FUZZ_CHECK(out["model"] == "model-x" && out["messages"].is_array(), "a translated request without model or messages");
    FUZZ_CHECK(out.contains("stream") == stream, "stream not as the URL said");
    aigw::fuzz::parsedOutput(out.dump(-1, ' ', false, json::error_handler_t::replace));
    json converse;
    const Translation back = BedrockRequestEncoder(options).encode(out, converse);
    if (back.ok) {
      FUZZ_CHECK(converse["messages"].is_array(), "encoded back without messages");
    } else {
      FUZZ_CHECK(!back.error.message.empty(), "a refusal without a message");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const json body = json::parse(input, nullptr, false);
  if (!body.is_discarded()) checkRequest(body, size % 2 == 0);
  return 0;
}
