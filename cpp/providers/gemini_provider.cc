#include "providers/gemini_provider.h"

#include "core/clock.h"
#include "http/response.h"
#include "providers/local_answer.h"
#include "providers/usage.h"
#include "providers/translated_call.h"
#include "upstream/aws_sigv4.h"
#include "translate/gemini_embeddings.h"
#include "translate/gemini_request_encoder.h"

namespace aigw {
namespace {

// Model names go into the path: anything but RFC 3986's unreserved characters and '/' is
// escaped ("tunedModels/x" keeps its slash; pathSafeModel already refused dot segments).
void appendModel(std::string& out, std::string_view model) {
  if (model.substr(0, 7) == "models/") model.remove_prefix(7);
  out += upstream::awsUriEncode(model, true);
}

}  // namespace

bool encodeGeminiChat(const CallRequest& req, std::string* out) {
  translate::RequestOptions options;
  if (req.drop_params != nullptr) options.drop_params = *req.drop_params;
  nlohmann::json body;
  const translate::Translation t = translate::GeminiRequestEncoder(std::move(options)).encode(req.body.get(), body);
  if (!t.ok) {
    *out = refusalBody(t.error.message, t.error.field);
    return false;
  }
  *out = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

GeminiAnswerDecoder::Options geminiAnswerOptions(const CallRequest& request) {
  const nlohmann::json& body = request.body.get();
  GeminiAnswerDecoder::Options o;
  o.created = static_cast<int64_t>(wallSeconds());
  o.model = request.upstream_model.empty() ? request.model : request.upstream_model;
  o.include_usage = request.stream && asksForStreamUsage(body);
  o.embeddings = request.endpoint == Endpoint::Embeddings;
  if (o.embeddings) {
    auto format = body.find("encoding_format");
    o.base64 = format != body.end() && *format == "base64";
  }
  return o;
}

std::unique_ptr<GeminiProvider> GeminiProvider::create(std::string name, GeminiOptions options, std::string* error) {
  auto endpoint = UpstreamEndpoint::create(name, options, options.api_key, error);
  if (!endpoint) return nullptr;
  return std::unique_ptr<GeminiProvider>(new GeminiProvider(std::move(name), std::move(options), std::move(endpoint)));
}

GeminiProvider::GeminiProvider(std::string name, GeminiOptions options, std::unique_ptr<UpstreamEndpoint> endpoint)
    : Provider(std::move(name)), options_(std::move(options)), endpoint_(std::move(endpoint)) {
  if (!options_.api_key.empty()) auth_.add("x-goog-api-key", options_.api_key);
}

bool GeminiProvider::buildRequest(const CallRequest& req, std::string* out, int* error_status) const {
  if (!pathSafeModel(req.upstream_model.empty() ? req.model : req.upstream_model)) {
    *error_status = 400;
    *out = refusalBody("the model name cannot be used in the provider's URL", "model");
    return false;
  }
  const std::string_view model = req.upstream_model.empty() ? req.model : req.upstream_model;
  std::string text;
  std::string path = "/models/";
  appendModel(path, model);
  if (req.endpoint == Endpoint::ChatCompletions) {
    if (!encodeGeminiChat(req, &text)) {
      *error_status = 400;
      *out = std::move(text);
      return false;
    }
    path += req.stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  } else if (req.endpoint == Endpoint::Embeddings) {
    translate::RequestOptions options;
    if (req.drop_params != nullptr) options.drop_params = *req.drop_params;
    nlohmann::json body;
    std::string full = "models/";
    appendModel(full, model);
    const translate::Translation t =
        translate::GeminiEmbeddingsEncoder(std::move(options)).encode(req.body.get(), full, body);
    if (!t.ok) {
      *error_status = 400;
      *out = refusalBody(t.error.message, t.error.field);
      return false;
    }
    text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    path += ":batchEmbedContents";
  } else {
    *error_status = 400;
    *out = unsupportedEndpointBody(*this, req.endpoint);
    return false;
  }
  UpstreamRequest up;
  up.path = path;
  up.client = &req.http.headers;
  up.auth = &auth_;
  up.body = text;
  *out = endpoint_->write(up);
  return true;
}

ProviderCallPtr GeminiProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  if (request.endpoint == Endpoint::CountTokens) return answerTokenEstimate(request, observer);
  std::string wire;
  int error_status = 0;
  if (!buildRequest(request, &wire, &error_status)) return answerNow(observer, error_status, wire);
  auto call = std::make_unique<TranslatedCall>(ctx, endpoint_->pool(ctx, this), endpoint_->timeouts(request),
                                               endpoint_->scrubber(),
                                               std::make_unique<GeminiAnswerDecoder>(geminiAnswerOptions(request)),
                                               observer);
  call->start(std::move(wire));
  return call;
}

}  // namespace aigw
