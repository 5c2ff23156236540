#include "providers/anthropic_provider.h"

#include "core/clock.h"
#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "providers/anthropic_answer_decoder.h"
#include "providers/local_answer.h"
#include "providers/relay_call.h"
#include "providers/translated_call.h"
#include "providers/usage.h"
#include "translate/anthropic_request_encoder.h"

namespace aigw {

bool encodeAnthropicChat(const CallRequest& req, int64_t default_max_tokens, nlohmann::json* body,
                         std::string* error) {
  translate::RequestOptions options;
  if (req.drop_params != nullptr) options.drop_params = *req.drop_params;
  options.default_max_tokens = default_max_tokens;
  const translate::AnthropicRequestEncoder encoder(std::move(options));
  const translate::Translation t = encoder.encode(req.body.get(), *body);
  if (!t.ok) {
    *error = refusalBody(t.error.message, t.error.field);
    return false;
  }
  return true;
}

std::unique_ptr<AnthropicProvider> AnthropicProvider::create(std::string name, AnthropicOptions options,
                                                             std::string* error) {
  auto endpoint = UpstreamEndpoint::create(name, options, options.api_key, error);
  if (!endpoint) return nullptr;
  return std::unique_ptr<AnthropicProvider>(
      new AnthropicProvider(std::move(name), std::move(options), std::move(endpoint)));
}

AnthropicProvider::AnthropicProvider(std::string name, AnthropicOptions options, std::unique_ptr<UpstreamEndpoint> endpoint)
    : Provider(std::move(name)), options_(std::move(options)), endpoint_(std::move(endpoint)) {
  if (!options_.api_key.empty()) auth_.add("x-api-key", options_.api_key);
  auth_.add("anthropic-version", options_.version);
}

bool AnthropicProvider::encode(const CallRequest& req, std::string* out) const {
  nlohmann::json body;
  if (!encodeAnthropicChat(req, options_.default_max_tokens, &body, out)) return false;
  if (!req.upstream_model.empty()) body["model"] = req.upstream_model;
  if (req.endpoint == Endpoint::CountTokens) {
    // count_tokens takes the request without what shapes the answer.
    body.erase("max_tokens");
    body.erase("stream");
    body.erase("temperature");
    body.erase("top_p");
    body.erase("top_k");
    body.erase("stop_sequences");
  }
  *out = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

bool AnthropicProvider::buildRequest(const CallRequest& req, std::string* out, int* error_status) const {
  std::string body_storage;
  std::string_view body;
  if (req.shape == ApiShape::Anthropic) {
    // Same API: the client's bytes, with the route's model spliced in.
    body = req.json_text;
    if (!req.upstream_model.empty() && req.upstream_model != req.model &&
        !replaceTopLevelString(req.json_text, "model", req.upstream_model, &body_storage)) {
      nlohmann::json copy = parseJson(req.json_text);
      copy["model"] = req.upstream_model;
      body_storage = copy.dump();
    }
    if (!body_storage.empty()) body = body_storage;
  } else if (req.endpoint == Endpoint::ChatCompletions || req.endpoint == Endpoint::CountTokens) {
    if (!encode(req, &body_storage)) {
      *error_status = 400;
      *out = std::move(body_storage);
      return false;
    }
    body = body_storage;
  } else if (req.endpoint != Endpoint::Passthrough) {
    *error_status = 400;
    *out = unsupportedEndpointBody(*this, req.endpoint);
    return false;
  } else {
    body = req.json_object ? req.json_text : std::string_view(req.http.body);
  }
  const std::string_view path = req.endpoint == Endpoint::CountTokens ? "/v1/messages/count_tokens"
                                : req.endpoint == Endpoint::Passthrough ? req.path_suffix
                                                                        : "/v1/messages";
  std::string target;
  if (req.endpoint == Endpoint::Passthrough) {
    target = "/v1";
    target.append(path);
  }
  UpstreamRequest up;
  up.method = req.endpoint == Endpoint::Passthrough ? std::string_view(req.http.method) : std::string_view("POST");
  up.path = req.endpoint == Endpoint::Passthrough ? std::string_view(target) : path;
  up.client = &req.http.headers;
  up.auth = &auth_;
  up.body = body;
  up.body_streamed = req.body_streamed;
  up.streamed_length = req.http.headers.find("content-length");
  *out = endpoint_->write(up);
  return true;
}

ProviderCallPtr AnthropicProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  std::string wire;
  int error_status = 0;
  if (!buildRequest(request, &wire, &error_status)) return answerNow(observer, error_status, wire);
  upstream::UpstreamPool& pool = endpoint_->pool(ctx, this);
  const upstream::CallTimeouts timeouts = endpoint_->timeouts(request);
  const bool translated = request.shape == ApiShape::OpenAi && request.endpoint == Endpoint::ChatCompletions;
  if (!translated) {
    auto call = std::make_unique<RelayCall>(ctx, pool, timeouts, endpoint_->scrubber(), &extractAnthropicUsage, observer);
    call->start(std::move(wire), request.body_streamed,
                request.body_streamed && request.http.headers.find("content-length") == nullptr);
    return call;
  }
  auto decoder = std::make_unique<AnthropicAnswerDecoder>(static_cast<int64_t>(wallSeconds()),
                                                          request.stream && asksForStreamUsage(request.body.get()));
  auto call = std::make_unique<TranslatedCall>(ctx, pool, timeouts, endpoint_->scrubber(), std::move(decoder), observer);
  call->start(std::move(wire));
  return call;
}

void AnthropicProvider::describe(nlohmann::json& out) const {
  endpoint_->describe(out);
  out["anthropic_version"] = options_.version;
}

}  // namespace aigw
