#include "gateway/messages_request.h"

#include "core/echo.h"
#include "core/json_parse.h"
#include "gateway/api_body.h"
#include "gateway/config.h"
#include "translate/anthropic_request_decoder.h"

namespace aigw {
namespace {

FilterStatus invalid(RequestContext& ex, const std::string& message) {
  ex.sendError(400, message, "invalid_request_error");
  return FilterStatus::StopIteration;
}

// Anthropic's wording for a missing or mistyped field: "max_tokens: Field required".
FilterStatus fieldProblem(RequestContext& ex, const char* field, const char* problem) {
  return invalid(ex, std::string(field) + ": " + problem);
}

bool present(const ApiBodySummary::Field& f) { return f.present && f.type != nlohmann::json::value_t::null; }

}  // namespace

FilterStatus acceptMessages(RequestContext& ex, const GatewayConfig& config, bool count_tokens) {
  http::Request& req = ex.request();
  ApiCall& api = ex.api();
  api.client = ApiShape::Anthropic;  // from here on, errors are answered in Anthropic's shape
  api.endpoint = count_tokens ? Endpoint::CountTokens : Endpoint::ChatCompletions;
  if (req.method != "POST") {
    ex.sendError(405, "Method Not Allowed: " + echoed(req.method), "invalid_request_error");
    return FilterStatus::StopIteration;
  }
  const ApiBodySummary body = summarizeApiBody(req.body);
  if (body.duplicate_key) {
    return invalid(ex, "Invalid request body: the key '" + echoed(body.duplicate_key_name) +
                           "' appears more than once in one object. Send each key once.");
  }
  if (body.too_deep) return invalid(ex, "Invalid request body: JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
  if (!body.valid) return invalid(ex, "There was an error parsing the body of your request: it is not valid JSON.");
  if (body.root != nlohmann::json::value_t::object) return invalid(ex, "Invalid request body: expected a JSON object.");
  if (!present(body.model)) return fieldProblem(ex, "model", "Field required");
  if (body.model.type != nlohmann::json::value_t::string) return fieldProblem(ex, "model", "Input should be a valid string");
  if (!present(body.messages)) return fieldProblem(ex, "messages", "Field required");
  if (body.messages.type != nlohmann::json::value_t::array) return fieldProblem(ex, "messages", "Input should be a valid list");
  if (body.stream.present && body.stream.type != nlohmann::json::value_t::null &&
      body.stream.type != nlohmann::json::value_t::boolean) {
    return fieldProblem(ex, "stream", "Input should be a valid boolean");
  }
  if (body.model_value.size() > 512) return fieldProblem(ex, "model", "String should have at most 512 characters");
  api.model = body.model_value;
  api.route = config.resolve(api.model, &api.captured);
  if (api.route == nullptr) {
    ex.sendError(404, "model: " + echoed(api.model), "not_found_error");
    return FilterStatus::StopIteration;
  }
  const nlohmann::json doc = parseJson(req.body);
  if (!count_tokens) {
    auto max_tokens = doc.find("max_tokens");
    if (max_tokens == doc.end() || max_tokens->is_null()) return fieldProblem(ex, "max_tokens", "Field required");
    if (!max_tokens->is_number_integer() && !max_tokens->is_number_unsigned()) {
      return fieldProblem(ex, "max_tokens", "Input should be a valid integer");
    }
  }
  // Decoded with the route's drop_params. What OpenAI cannot express and the route does not
  // drop is left out of the stages' copy and remembered: only an attempt that would lose it
  // refuses the request (a same-API attempt carries the client's bytes).
  translate::RequestOptions options;
  options.drop_params = api.route->drop_params;
  nlohmann::json openai;
  translate::Translation t = translate::AnthropicRequestDecoder(options).decode(doc, openai);
  if (!t.ok && t.error.drop_name.empty()) return invalid(ex, t.error.message);
  if (!t.ok) {
    api.refusal = t.error.message;
    api.refusal_field = t.error.field;
    options.drop_params.emplace_back(translate::kDropEverything);
    openai = nlohmann::json();
    t = translate::AnthropicRequestDecoder(options).decode(doc, openai);
    if (!t.ok) return invalid(ex, t.error.message);
  }
  api.stream = body.stream_value && !count_tokens;
  api.json_object = true;
  api.native_body = std::move(req.body);
  req.body = openai.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  api.body.reset(req.body, std::move(openai));
  return FilterStatus::Continue;
}

}  // namespace aigw
