// Amazon Bedrock's Converse API as a client API (POST /model/{modelId}/converse and
// /converse-stream, as botocore's bedrock-runtime client sends them): the model resolved to a
// route and the request decoded into OpenAI's shape for the stages after this one; answers and
// errors in Bedrock's shape (the ClientAnswerStage). This is how `aigw mock` answers Bedrock
// clients, and how any route serves them.
#pragma once

#include <string_view>

#include "pipeline/request_stage.h"

namespace aigw {

class GatewayConfig;

// Whether `path` is one of Bedrock's model paths (/model/...).
bool isBedrockPath(std::string_view path);

// Fills the request's ApiCall, or answers the error and returns StopIteration.
FilterStatus acceptBedrock(RequestContext& ex, const GatewayConfig& config);

}  // namespace aigw
