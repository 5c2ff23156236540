#include "gateway/bedrock_request.h"

#include <string>
#include <vector>

#include "core/echo.h"
#include "core/json_parse.h"
#include "gateway/api_body.h"
#include "gateway/builtin_routes.h"
#include "gateway/config.h"
#include "gateway/decoded_request.h"
#include "providers/upstream_endpoint.h"
#include "translate/bedrock_request_decoder.h"

namespace aigw {
namespace {

constexpr std::string_view kPrefix = "/model/";
// No provider names a model in kilobytes (the OpenAI API refuses the same).
constexpr size_t kMaxModelBytes = 512;

FilterStatus fail(RequestContext& ex, int status, const std::string& message) {
  ex.sendError(status, message);
  return FilterStatus::StopIteration;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A botocore client signs its request with SigV4 for AWS. The gateway authenticates its clients
// by its own rules, so the signature says nothing to it; and the fields must not travel on (a
// session token is a credential, and the upstream gets the gateway's own signature or key).
void dropAwsSignature(http::HeaderList& headers) {
  std::vector<std::string> names;
  for (const auto& h : headers) {
    const bool sigv4 = h.name == "authorization" && startsWith(h.value, "AWS4-HMAC-SHA256");
    if (sigv4 || startsWith(h.name, "x-amz-") || startsWith(h.name, "amz-sdk-")) names.push_back(h.name);
  }
  for (const std::string& name : names) headers.remove(name);
}

}  // namespace

bool isBedrockPath(std::string_view path) { return startsWith(path, kPrefix); }

FilterStatus acceptBedrock(RequestContext& ex, const GatewayConfig& config) {
  http::Request& req = ex.request();
  ApiCall& api = ex.api();
  api.client = ApiShape::Bedrock;  // from here on, errors are answered in Bedrock's shape
  api.endpoint = Endpoint::ChatCompletions;
  dropAwsSignature(req.headers);
  const std::string_view path = req.path();
  const std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  const std::string_view operation = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (operation != "converse" && operation != "converse-stream") {
    return fail(ex, 404, "the gateway serves /model/{modelId}/converse and /converse-stream; not " + echoed(path));
  }
  if (req.method != "POST") return fail(ex, 405, "method " + echoed(req.method) + " is not allowed here");
  // The model id is one segment, percent-encoded ("...-v1%3A0", an ARN's '/' as %2F). Dot
  // segments are refused as for any model that may reach a provider's URL.
  const std::string_view raw_model = rest.substr(0, slash);
  std::string model;
  if (raw_model.size() > kMaxModelBytes * 3 || !percentDecode(raw_model, &model) || model.size() > kMaxModelBytes ||
      !pathSafeModel(model)) {
    return fail(ex, 400, "invalid model identifier " + echoed(raw_model));
  }
  const ApiBodySummary body = summarizeApiBody(req.body);
  if (body.duplicate_key) return fail(ex, 400, "the key '" + echoed(body.duplicate_key_name) + "' appears twice in one object");
  if (body.too_deep) return fail(ex, 400, "the body nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (!body.valid || body.root != nlohmann::json::value_t::object) return fail(ex, 400, "the body must be a JSON object");
  api.model = std::move(model);
  api.route = config.resolve(api.model, &api.captured);
  if (api.route == nullptr) return fail(ex, 404, "the model " + echoed(api.model) + " is not found");
  const bool stream = operation == "converse-stream";
  translate::RequestOptions options;
  options.drop_params = api.route->drop_params;
  nlohmann::json openai;
  const translate::Translation t = translate::BedrockRequestDecoder(std::move(options))
                                       .decode(parseJson(req.body), api.model, stream, openai);
  if (!t.ok) return fail(ex, 400, t.error.message);
  useDecodedRequest(req, api, std::move(openai), stream);
  return FilterStatus::Continue;
}

}  // namespace aigw
