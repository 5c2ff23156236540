#include "providers/vertex_provider.h"

#include "core/clock.h"
#include "core/glob.h"
#include "http/response.h"
#include "providers/anthropic_answer_decoder.h"
#include "providers/anthropic_provider.h"
#include "providers/gemini_provider.h"
#include "providers/local_answer.h"
#include "providers/translated_call.h"
#include "providers/usage.h"
#include "upstream/aws_sigv4.h"

namespace aigw {
namespace {

// One path segment: RFC 3986's unreserved set, plus '@', a pchar Vertex's model versions use
// ("claude-sonnet-4@20250514"). pathSafeModel already refused dot segments.
void appendSegment(std::string& out, std::string_view text) {
  const std::string encoded = upstream::awsUriEncode(text, false);
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded.compare(i, 3, "%40") == 0) {
      out.push_back('@');
      i += 2;
    } else {
      out.push_back(encoded[i]);
    }
  }
}

}  // namespace

std::unique_ptr<VertexProvider> VertexProvider::create(std::string name, VertexOptions options, std::string* error) {
  // The token is masked by its own scrubber (it changes); this one masks the configured headers.
  auto endpoint = UpstreamEndpoint::create(name, options, {}, error);
  if (!endpoint) return nullptr;
  return std::unique_ptr<VertexProvider>(new VertexProvider(std::move(name), std::move(options), std::move(endpoint)));
}

VertexProvider::VertexProvider(std::string name, VertexOptions options, std::unique_ptr<UpstreamEndpoint> endpoint)
    : Provider(std::move(name)), options_(std::move(options)), endpoint_(std::move(endpoint)) {
  models_path_ = "/v1/projects/";
  appendSegment(models_path_, options_.project);
  models_path_ += "/locations/";
  appendSegment(models_path_, options_.region);
  models_path_ += "/publishers/";
}

bool VertexProvider::acceptCredentials(const nlohmann::json& pushed, std::string* error) const {
  std::string token;
  const int64_t expires_at = pushedExpiry(pushed);
  if (expires_at < 0 || !pushedString(pushed, "token", &token) || token.empty() ||
      token.find_first_of("\r\n") != std::string::npos) {
    *error = "provider '" + name() + "' (kind vertex) takes {token, expires_at?}: a non-empty token on one line "
             "and unix seconds for expires_at";
    return false;
  }
  upstream::CredentialScrubber scrubber(token, options_.headers);
  http::HeaderList auth;
  auth.add("authorization", "Bearer " + token);
  token_.replace(std::make_shared<const Credentials<http::HeaderList>>(std::move(auth), expires_at,
                                                                       std::move(scrubber)));
  return true;
}

VertexProvider::Publisher VertexProvider::publisherOf(std::string_view model) const {
  for (const auto& glob : options_.anthropic_models) {
    if (globMatch(glob, model)) return Publisher::Anthropic;
  }
  return Publisher::Google;
}

bool VertexProvider::buildRequest(const CallRequest& req, const http::HeaderList& auth, std::string* out,
                                  int* error_status) const {
  const std::string_view model = req.upstream_model.empty() ? req.model : req.upstream_model;
  if (req.endpoint != Endpoint::ChatCompletions) {
    *error_status = 400;
    *out = unsupportedEndpointBody(*this, req.endpoint);
    return false;
  }
  if (!pathSafeModel(model)) {
    *error_status = 400;
    *out = refusalBody("the model name cannot be used in the provider's URL", "model");
    return false;
  }
  std::string path = models_path_;
  std::string text;
  if (publisherOf(model) == Publisher::Google) {
    if (!encodeGeminiChat(req, &text)) {
      *error_status = 400;
      *out = std::move(text);
      return false;
    }
    path += "google/models/";
    appendSegment(path, model);
    path += req.stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  } else {
    nlohmann::json body;
    if (!encodeAnthropicChat(req, options_.default_max_tokens, &body, out)) {
      *error_status = 400;
      return false;
    }
    // Vertex names the model in the URL and the API version in the body.
    body.erase("model");
    body["anthropic_version"] = options_.anthropic_version;
    if (req.stream) body["stream"] = true;  // the method streams; the body must agree
    text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    path += "anthropic/models/";
    appendSegment(path, model);
    path += req.stream ? ":streamRawPredict" : ":rawPredict";
  }
  UpstreamRequest up;
  up.path = path;
  up.client = &req.http.headers;
  up.auth = &auth;
  up.body = text;
  *out = endpoint_->write(up);
  return true;
}

ProviderCallPtr VertexProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  // Vertex's count-tokens endpoints differ per publisher: the gateway's estimate, like gemini's.
  if (request.endpoint == Endpoint::CountTokens) return answerTokenEstimate(request, observer);
  const int64_t now = static_cast<int64_t>(wallSeconds());
  const auto token = token_.forAttempt(name(), now, observer);
  if (!token) return nullptr;  // failed: none yet, or expired
  std::string wire;
  int error_status = 0;
  if (!buildRequest(request, token->value, &wire, &error_status)) return answerNow(observer, error_status, wire);
  std::unique_ptr<AnswerDecoder> decoder;
  const std::string_view model = request.upstream_model.empty() ? request.model : request.upstream_model;
  if (publisherOf(model) == Publisher::Google) {
    decoder = std::make_unique<GeminiAnswerDecoder>(geminiAnswerOptions(request));
  } else {
    decoder = std::make_unique<AnthropicAnswerDecoder>(now, request.stream && asksForStreamUsage(request.body.get()));
  }
  auto call = std::make_unique<TranslatedCall>(ctx, endpoint_->pool(ctx, this), endpoint_->timeouts(request),
                                               token->scrubber, std::move(decoder), observer);
  call->hold(token);
  call->start(std::move(wire));
  return call;
}

void VertexProvider::describe(nlohmann::json& out) const {
  endpoint_->describe(out);
  out["project"] = options_.project;
  out["region"] = options_.region;
}

}  // namespace aigw
