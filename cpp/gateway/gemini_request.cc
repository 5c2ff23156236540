#include "gateway/gemini_request.h"

#include "core/echo.h"
#include "core/json_parse.h"
#include "gateway/api_body.h"
#include "gateway/config.h"
#include "gateway/decoded_request.h"
#include "translate/gemini_request_decoder.h"

namespace aigw {
namespace {

constexpr std::string_view kPrefix = "/v1beta/models/";

FilterStatus fail(RequestContext& ex, int status, const std::string& message) {
  ex.sendError(status, message);
  return FilterStatus::StopIteration;
}

}  // namespace

bool isGeminiPath(std::string_view path) { return path.substr(0, kPrefix.size()) == kPrefix; }

FilterStatus acceptGemini(RequestContext& ex, const GatewayConfig& config) {
  http::Request& req = ex.request();
  ApiCall& api = ex.api();
  api.client = ApiShape::Gemini;  // from here on, errors are answered in Google's shape
  api.endpoint = Endpoint::ChatCompletions;
  const std::string_view path = req.path();
  const std::string_view rest = path.substr(kPrefix.size());
  const size_t colon = rest.rfind(':');
  const std::string_view model = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  const std::string_view method = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  if (method != "generateContent" && method != "streamGenerateContent") {
    return fail(ex, 404, "the gateway serves models/{model}:generateContent and :streamGenerateContent; not " +
                             echoed(path));
  }
  const bool stream = method == "streamGenerateContent";
  if (stream && req.target.find("alt=sse") == std::string::npos) {
    return fail(ex, 400, "streamGenerateContent is served as server-sent events only: add ?alt=sse");
  }
  if (req.method != "POST") return fail(ex, 405, "method " + echoed(req.method) + " is not allowed here");
  if (model.empty() || model.size() > 512) return fail(ex, 400, "invalid model name");
  const ApiBodySummary body = summarizeApiBody(req.body);
  if (body.duplicate_key) return fail(ex, 400, "the key '" + echoed(body.duplicate_key_name) + "' appears twice in one object");
  if (!body.valid || body.root != nlohmann::json::value_t::object) {
    return fail(ex, 400, "Invalid JSON payload received: the body must be a JSON object");
  }
  api.model = std::string(model);
  api.route = config.resolve(api.model, &api.captured);
  if (api.route == nullptr) return fail(ex, 404, "models/" + echoed(api.model) + " is not found");
  translate::RequestOptions options;
  options.drop_params = api.route->drop_params;
  nlohmann::json openai;
  const translate::Translation t = translate::GeminiRequestDecoder(std::move(options))
                                       .decode(parseJson(req.body), api.model, stream, openai);
  if (!t.ok) return fail(ex, 400, t.error.message);
  useDecodedRequest(req, api, std::move(openai), stream);
  return FilterStatus::Continue;
}

}  // namespace aigw
