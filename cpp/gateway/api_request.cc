#include "gateway/api_request.h"

#include <algorithm>

#include "core/echo.h"
#include "gateway/api_body.h"
#include "gateway/bedrock_request.h"
#include "gateway/config.h"
#include "gateway/gemini_request.h"
#include "gateway/messages_request.h"

namespace aigw {
namespace {

struct EndpointPath {
  std::string_view path;
  Endpoint endpoint;
};

constexpr EndpointPath kEndpoints[] = {
    {"/v1/chat/completions", Endpoint::ChatCompletions}, {"/chat/completions", Endpoint::ChatCompletions},
    {"/v1/completions", Endpoint::Completions},          {"/completions", Endpoint::Completions},
    {"/v1/embeddings", Endpoint::Embeddings},            {"/embeddings", Endpoint::Embeddings},
};

constexpr std::string_view kMessagesPath = "/v1/messages";
constexpr std::string_view kCountTokensPath = "/v1/messages/count_tokens";

const char* jsonTypeName(nlohmann::json::value_t type) {
  switch (type) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a decimal";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

FilterStatus invalidType(RequestContext& ex, const std::string& param, const char* expected, nlohmann::json::value_t got) {
  ex.sendError(400,
               "Invalid type for '" + param + "': expected " + expected + ", but got " + jsonTypeName(got) +
                   " instead.",
               "invalid_request_error", "invalid_type", param);
  return FilterStatus::StopIteration;
}

FilterStatus missing(RequestContext& ex, const char* param) {
  ex.sendError(400, std::string("Missing required parameter: '") + param + "'.", "invalid_request_error",
               "missing_required_parameter", param);
  return FilterStatus::StopIteration;
}

// Checks the fields each endpoint cannot do without. Returns true when an error was sent.
bool rejectBadFields(RequestContext& ex, Endpoint endpoint, const ApiBodySummary& body) {
  using Problem = ApiBodySummary::MessageProblem;
  if (endpoint == Endpoint::ChatCompletions) {
    const auto& messages = body.messages;
    if (!messages.present) return missing(ex, "messages"), true;
    if (messages.type != nlohmann::json::value_t::array) return invalidType(ex, "messages", "an array", messages.type), true;
    if (body.message_count == 0) {
      ex.sendError(400,
                   "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                   "array instead.",
                   "invalid_request_error", "empty_array", "messages");
      return true;
    }
    const std::string where = "messages[" + std::to_string(body.problem_index) + "]";
    switch (body.problem) {
      case Problem::None: break;
      case Problem::NotObject: return invalidType(ex, where, "an object", body.problem_type), true;
      case Problem::MissingRole: return missing(ex, (where + ".role").c_str()), true;
      case Problem::RoleNotString: return invalidType(ex, where + ".role", "a string", body.problem_type), true;
      case Problem::ContentInvalidType:
        return invalidType(ex, where + ".content", "a string or an array", body.problem_type), true;
      case Problem::RoleInvalid:
        ex.sendError(400,
                     "Invalid value: '" + echoed(body.problem_role) +
                         "'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and "
                         "'developer'.",
                     "invalid_request_error", "invalid_value", where + ".role");
        return true;
    }
  } else {
    const bool completions = endpoint == Endpoint::Completions;
    const char* key = completions ? "prompt" : "input";
    const auto& field = completions ? body.prompt : body.input;
    if (!field.present || field.type == nlohmann::json::value_t::null) return missing(ex, key), true;
    if (field.type != nlohmann::json::value_t::string && field.type != nlohmann::json::value_t::array) {
      return invalidType(ex, key, "a string or an array", field.type), true;
    }
  }
  if (body.stream.present && body.stream.type != nlohmann::json::value_t::null &&
      body.stream.type != nlohmann::json::value_t::boolean) {
    return invalidType(ex, "stream", "a boolean", body.stream.type), true;
  }
  return false;
}

// One rule on every endpoint: a body that repeats a key in any object is refused (see
// ApiBodySummary::duplicate_key for why).
FilterStatus duplicateKey(RequestContext& ex, const ApiBodySummary& body) {
  ex.sendError(400,
               "Invalid request body: the key '" + echoed(body.duplicate_key_name) +
                   "' appears more than once in one object. Send each key once.",
               "invalid_request_error", "duplicate_key", echoed(body.duplicate_key_name));
  return FilterStatus::StopIteration;
}

// No provider names a model in kilobytes; a longer name is an attack on everything that
// echoes, logs or keys by it.
constexpr size_t kMaxModelBytes = 512;

FilterStatus modelTooLong(RequestContext& ex, const std::string& model) {
  ex.sendError(400,
               "Invalid 'model': a model name has at most " + std::to_string(kMaxModelBytes) + " bytes; got " +
                   std::to_string(model.size()) + " ('" + echoed(model, 64) + "').",
               "invalid_request_error", "invalid_value", "model");
  return FilterStatus::StopIteration;
}

FilterStatus unknownModel(RequestContext& ex, const std::string& model) {
  ex.sendError(404, "The model `" + echoed(model) + "` does not exist or you do not have access to it.",
               "invalid_request_error", "model_not_found");
  return FilterStatus::StopIteration;
}

// "." and ".." segments (also percent-encoded) could walk out of the provider's API root.
bool hasDotSegment(std::string_view path) {
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string seg(path.substr(pos, end - pos));
    for (size_t i = 0; (i = seg.find("%2", i)) != std::string::npos;) {
      if (i + 2 < seg.size() && (seg[i + 2] == 'e' || seg[i + 2] == 'E')) seg.replace(i, 3, ".");
      else ++i;
    }
    if (seg == "." || seg == "..") return true;
    // "..;x" (also "..%3Bx") is ".." to upstream servers that strip path parameters.
    const size_t semi = std::min(seg.find(';'), std::min(seg.find("%3b"), seg.find("%3B")));
    if (semi != std::string::npos && (seg.compare(0, semi, ".") == 0 || seg.compare(0, semi, "..") == 0)) return true;
    if (seg.find("%2f") != std::string::npos || seg.find("%2F") != std::string::npos ||
        seg.find("%5c") != std::string::npos || seg.find("%5C") != std::string::npos || seg.find('\\') != std::string::npos) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

// Any other /v1/* path (files, images, audio, moderations, responses, batches ...) goes to the
// provider serving the JSON body's model, or to the default provider, as it is.
FilterStatus routePassthrough(RequestContext& ex, const GatewayConfig& config) {
  http::Request& req = ex.request();
  const std::string_view path = req.path();
  if (hasDotSegment(path)) {
    ex.sendError(400, "Invalid URL (" + req.method + " " + echoed(path) + "): dot segments are not allowed",
                 "invalid_request_error", "invalid_url");
    return FilterStatus::StopIteration;
  }
  ApiCall& api = ex.api();
  api.endpoint = Endpoint::Passthrough;
  api.path_suffix = req.target.substr(3);  // keep the query string
  const std::string* type = req.headers.find("content-type");
  if (!ex.bodyStreamed() && type != nullptr && type->find("json") != std::string::npos && !req.body.empty()) {
    // A body nested too deep is not valid here either: it is relayed as bytes, never parsed.
    const ApiBodySummary body = summarizeApiBody(req.body);
    if (body.duplicate_key) return duplicateKey(ex, body);
    if (body.valid && body.root == nlohmann::json::value_t::object) {
      api.json_object = true;
      api.body.reset(req.body);
      if (body.model.type == nlohmann::json::value_t::string) {
        if (body.model_value.size() > kMaxModelBytes) return modelTooLong(ex, body.model_value);
        api.model = body.model_value;
        api.route = config.resolve(api.model, &api.captured);
        if (api.route == nullptr) return unknownModel(ex, api.model);
      }
      api.stream = body.stream_value;
    }
  }
  if (api.route == nullptr) api.provider = config.defaultProvider();
  if (api.route == nullptr && api.provider == nullptr) {
    ex.sendError(404, "Invalid URL (" + req.method + " " + echoed(path) + ")", "invalid_request_error",
                 "unknown_url");
    return FilterStatus::StopIteration;
  }
  return FilterStatus::Continue;
}

}  // namespace

bool shouldStreamRequestBody(const http::Request& head) {
  const std::string_view path = head.path();
  // Only pass-through paths stream: every client API the gateway reads (OpenAI's endpoints, the
  // Messages API; Gemini's /v1beta and Bedrock's /model/ paths are outside /v1/) is held whole.
  if (path.substr(0, 4) != "/v1/" || path.substr(0, 10) == "/v1/models") return false;
  for (const auto& e : kEndpoints) {
    if (e.path == path) return false;
  }
  if (path == kMessagesPath || path == kCountTokensPath) return false;
  const std::string* length = head.headers.find("content-length");
  const bool has_body = head.headers.find("transfer-encoding") != nullptr || (length != nullptr && *length != "0");
  if (!has_body) return false;
  const std::string* type = head.headers.find("content-type");
  return type == nullptr || type->find("json") == std::string::npos;
}

FilterStatus ApiRequestFilter::onRequest(RequestContext& ex) const {
  http::Request& req = ex.request();
  const std::string_view path = req.path();
  const EndpointPath* match = nullptr;
  for (const auto& e : kEndpoints) {
    if (e.path == path) {
      match = &e;
      break;
    }
  }
  if (match == nullptr) {
    if (path == kMessagesPath || path == kCountTokensPath) return acceptMessages(ex, config_, path == kCountTokensPath);
    if (isGeminiPath(path)) return acceptGemini(ex, config_);
    if (isBedrockPath(path)) return acceptBedrock(ex, config_);
    if (path.substr(0, 4) == "/v1/") return routePassthrough(ex, config_);
    ex.sendError(404, "Invalid URL (" + req.method + " " + echoed(path) + ")", "invalid_request_error",
                 "unknown_url");
    return FilterStatus::StopIteration;
  }
  if (req.method != "POST") {
    http::HeaderList allow;
    allow.add("allow", "POST");
    ex.sendError(405, "Invalid method for URL (" + req.method + " " + echoed(path) + ")",
                 "invalid_request_error", "method_not_allowed", {}, &allow);
    return FilterStatus::StopIteration;
  }
  ApiCall& api = ex.api();
  api.endpoint = match->endpoint;
  const ApiBodySummary body = summarizeApiBody(req.body);
  if (body.duplicate_key) return duplicateKey(ex, body);
  if (body.too_deep) {
    ex.sendError(400, "Invalid request body: JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.",
                 "invalid_request_error", "invalid_json");
    return FilterStatus::StopIteration;
  }
  if (!body.valid) {
    ex.sendError(400,
                 "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                 "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                 "valid JSON.)",
                 "invalid_request_error", "invalid_json");
    return FilterStatus::StopIteration;
  }
  if (body.root != nlohmann::json::value_t::object) {
    ex.sendError(400, std::string("Invalid request body: expected a JSON object, but got ") +
                          jsonTypeName(body.root) + " instead.",
                 "invalid_request_error", "invalid_type");
    return FilterStatus::StopIteration;
  }
  if (!body.model.present || body.model.type == nlohmann::json::value_t::null) {
    ex.sendError(400, "you must provide a model parameter", "invalid_request_error", "missing_required_parameter",
                 "model");
    return FilterStatus::StopIteration;
  }
  if (body.model.type != nlohmann::json::value_t::string) return invalidType(ex, "model", "a string", body.model.type);
  if (body.model_value.size() > kMaxModelBytes) return modelTooLong(ex, body.model_value);
  if (rejectBadFields(ex, api.endpoint, body)) return FilterStatus::StopIteration;
  api.model = body.model_value;
  api.stream = body.stream_value;
  api.json_object = true;
  api.body.reset(req.body);
  api.route = config_.resolve(api.model, &api.captured);
  if (api.route == nullptr) return unknownModel(ex, api.model);
  return FilterStatus::Continue;
}

FilterStatus ProviderDispatchFilter::onRequest(RequestContext& ex) const {
  ex.dispatch();
  return FilterStatus::StopIteration;
}

}  // namespace aigw
