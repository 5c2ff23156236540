#include "providers/openai_provider.h"

#include "core/json_text.h"
#include "providers/local_answer.h"
#include "providers/relay_call.h"
#include "providers/usage.h"
#include "upstream/aws_sigv4.h"

namespace aigw {
namespace {

const char* endpointSuffix(Endpoint e) {
  switch (e) {
    case Endpoint::ChatCompletions: return "/chat/completions";
    case Endpoint::Completions: return "/completions";
    case Endpoint::Embeddings: return "/embeddings";
    case Endpoint::Passthrough:
    case Endpoint::CountTokens: return "";
  }
  return "";
}

}  // namespace

std::unique_ptr<OpenAiProvider> OpenAiProvider::create(std::string name, OpenAiOptions options, std::string* error) {
  auto endpoint = UpstreamEndpoint::create(name, options, options.api_key, error);
  if (!endpoint) return nullptr;
  return std::unique_ptr<OpenAiProvider>(new OpenAiProvider(std::move(name), std::move(options), std::move(endpoint)));
}

OpenAiProvider::OpenAiProvider(std::string name, OpenAiOptions options, std::unique_ptr<UpstreamEndpoint> endpoint)
    : Provider(std::move(name)), options_(std::move(options)), endpoint_(std::move(endpoint)) {
  if (options_.api_key.empty()) return;
  if (options_.api_version.empty() || options_.azure_bearer) {
    auth_.add("authorization", "Bearer " + options_.api_key);
  } else {
    auth_.add("api-key", options_.api_key);
  }
}

std::string OpenAiProvider::path(const CallRequest& req) const {
  if (req.endpoint == Endpoint::Passthrough) return std::string(req.path_suffix);
  if (options_.api_version.empty()) return endpointSuffix(req.endpoint);
  std::string out = "/openai/deployments/";
  // RFC 3986's unreserved characters pass, everything else is escaped ('/' too): a deployment
  // name can never change the path.
  out += upstream::awsUriEncode(req.upstream_model.empty() ? req.model : req.upstream_model, false);
  out.append(endpointSuffix(req.endpoint));
  out.append("?api-version=");
  out += upstream::awsUriEncode(options_.api_version, false);
  return out;
}

std::string OpenAiProvider::buildRequest(const CallRequest& req) const {
  std::string body_storage;
  std::string_view body = req.json_object ? req.json_text : std::string_view(req.http.body);
  if (req.json_object && !req.upstream_model.empty() && req.upstream_model != req.model) {
    // Splice the new model into the client's bytes; re-encode only if that is impossible.
    if (!replaceTopLevelString(req.json_text, "model", req.upstream_model, &body_storage)) {
      nlohmann::json copy = req.body.get();
      copy["model"] = req.upstream_model;
      body_storage = copy.dump();
    }
    body = body_storage;
  }
  const std::string target = path(req);
  UpstreamRequest out;
  out.method = req.endpoint == Endpoint::Passthrough ? std::string_view(req.http.method) : std::string_view("POST");
  out.path = target;
  out.client = &req.http.headers;
  out.auth = &auth_;
  out.body = body;
  out.body_streamed = req.body_streamed;
  out.streamed_length = req.http.headers.find("content-length");
  return endpoint_->write(out);
}

ProviderCallPtr OpenAiProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  // OpenAI has no token-counting endpoint: Anthropic clients asking get the gateway's estimate.
  if (request.endpoint == Endpoint::CountTokens) return answerTokenEstimate(request, observer);
  if (!options_.api_version.empty() && request.endpoint != Endpoint::Passthrough &&
      !pathSafeModel(request.upstream_model.empty() ? request.model : request.upstream_model)) {
    return answerNow(observer, 400, refusalBody("the model name cannot be used in the provider's URL", "model"));
  }
  auto call = std::make_unique<RelayCall>(ctx, endpoint_->pool(ctx, this), endpoint_->timeouts(request),
                                          endpoint_->scrubber(), &extractUsage, observer);
  call->start(buildRequest(request), request.body_streamed,
              request.body_streamed && request.http.headers.find("content-length") == nullptr);
  return call;
}

std::string OpenAiProvider::startupWarning() const { return endpoint_->startupWarning(name()); }

void OpenAiProvider::describe(nlohmann::json& out) const {
  endpoint_->describe(out);
  if (!options_.api_version.empty()) out["api_version"] = options_.api_version;
}

}  // namespace aigw
