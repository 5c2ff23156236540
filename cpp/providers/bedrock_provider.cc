#include "providers/bedrock_provider.h"

#include "core/clock.h"
#include "http/response.h"
#include "providers/bedrock_answer_decoder.h"
#include "providers/local_answer.h"
#include "providers/usage.h"
#include "providers/translated_call.h"
#include "translate/bedrock_request_encoder.h"

namespace aigw {

std::unique_ptr<BedrockProvider> BedrockProvider::create(std::string name, BedrockOptions options, std::string* error) {
  // The endpoint masks the configured headers; the credentials' own scrubber masks them too.
  auto endpoint = UpstreamEndpoint::create(name, options, {}, error);
  if (!endpoint) return nullptr;
  std::unique_ptr<BedrockProvider> provider(
      new BedrockProvider(std::move(name), std::move(options), std::move(endpoint)));
  if (!provider->options_.credentials_hook) provider->install(provider->options_.credentials, 0);
  provider->options_.credentials = {};  // the slot holds them; nothing else needs a copy
  return provider;
}

BedrockProvider::BedrockProvider(std::string name, BedrockOptions options, std::unique_ptr<UpstreamEndpoint> endpoint)
    : Provider(std::move(name)), options_(std::move(options)), endpoint_(std::move(endpoint)) {}

void BedrockProvider::install(upstream::AwsCredentials credentials, int64_t expires_at) const {
  // The secret never goes on the wire, but an upstream could echo the access key id or the
  // session token: both are masked like an api key.
  const std::string masked = credentials.session_token.empty() ? credentials.access_key_id : credentials.session_token;
  upstream::CredentialScrubber scrubber(masked, options_.headers);
  credentials_.replace(std::make_shared<const Credentials<upstream::AwsCredentials>>(std::move(credentials), expires_at,
                                                                                    std::move(scrubber)));
}

bool BedrockProvider::acceptCredentials(const nlohmann::json& pushed, std::string* error) const {
  upstream::AwsCredentials c;
  const int64_t expires_at = pushed.is_object() ? pushedExpiry(pushed) : -1;
  if (expires_at < 0 || !pushedString(pushed, "access_key_id", &c.access_key_id) ||
      !pushedString(pushed, "secret_access_key", &c.secret_access_key) ||
      !pushedString(pushed, "session_token", &c.session_token) || c.access_key_id.empty() ||
      c.secret_access_key.empty()) {
    *error = "provider '" + name() +
             "' (kind bedrock) takes {access_key_id, secret_access_key, session_token?, expires_at?} with strings "
             "for the keys and unix seconds for expires_at";
    return false;
  }
  install(std::move(c), expires_at);
  return true;
}

bool BedrockProvider::buildRequest(const CallRequest& req, int64_t unix_seconds, std::string* out,
                                   int* error_status) const {
  const auto credentials = credentials_.current();
  if (!credentials) {
    *error_status = 503;
    *out = http::openAiErrorBody(unusableCredentials(name(), false, 0, unix_seconds), "service_unavailable_error",
                                 "no_credentials", {});
    return false;
  }
  return buildRequest(req, credentials->value, unix_seconds, out, error_status);
}

bool BedrockProvider::buildRequest(const CallRequest& req, const upstream::AwsCredentials& credentials,
                                   int64_t unix_seconds, std::string* out, int* error_status) const {
  if (req.endpoint != Endpoint::ChatCompletions) {
    *error_status = 400;
    *out = unsupportedEndpointBody(*this, req.endpoint);
    return false;
  }
  if (!pathSafeModel(req.upstream_model.empty() ? req.model : req.upstream_model)) {
    *error_status = 400;
    *out = refusalBody("the model name cannot be used in the provider's URL", "model");
    return false;
  }
  translate::RequestOptions options;
  if (req.drop_params != nullptr) options.drop_params = *req.drop_params;
  nlohmann::json body;
  const translate::Translation t = translate::BedrockRequestEncoder(std::move(options)).encode(req.body.get(), body);
  if (!t.ok) {
    *error_status = 400;
    *out = refusalBody(t.error.message, t.error.field);
    return false;
  }
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string_view model = req.upstream_model.empty() ? req.model : req.upstream_model;
  // The model id (with its ':' and, for ARNs, '/') is one path segment, encoded once on the wire.
  const std::string path = "/model/" + upstream::awsUriEncode(model, false) + (req.stream ? "/converse-stream" : "/converse");
  const upstream::Origin& o = options_.origin;
  const std::string wire_path = o.base_path + path;
  const upstream::SigV4Header signed_headers[] = {{"content-type", "application/json"}};
  upstream::SigV4Request signing;
  signing.method = "POST";
  signing.path = wire_path;
  signing.host = o.host_header;
  signing.body = text;
  signing.headers = signed_headers;
  const upstream::SigV4Headers sig =
      upstream::signSigV4(signing, credentials, options_.region, "bedrock", unix_seconds);
  http::HeaderList auth;
  auth.add("authorization", sig.authorization);
  auth.add("x-amz-date", sig.amz_date);
  if (!sig.security_token.empty()) auth.add("x-amz-security-token", sig.security_token);
  if (req.stream) auth.add("accept", "application/vnd.amazon.eventstream");
  UpstreamRequest up;
  up.path = path;
  // Client headers are not forwarded: the signature covers what AWS sees, and a client's
  // content-type or x-amz-* header must not change it.
  up.auth = &auth;
  up.body = text;
  *out = endpoint_->write(up);
  return true;
}

ProviderCallPtr BedrockProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  if (request.endpoint == Endpoint::CountTokens) return answerTokenEstimate(request, observer);
  const int64_t now = static_cast<int64_t>(wallSeconds());
  const auto credentials = credentials_.forAttempt(name(), now, observer);
  if (!credentials) return nullptr;  // failed: none yet, or expired
  std::string wire;
  int error_status = 0;
  if (!buildRequest(request, credentials->value, now, &wire, &error_status)) {
    return answerNow(observer, error_status, wire);
  }
  BedrockAnswerDecoder::Options o;
  o.created = now;
  o.model = request.upstream_model.empty() ? request.model : request.upstream_model;
  o.include_usage = request.stream && asksForStreamUsage(request.body.get());
  o.id = request.request_id;
  auto call = std::make_unique<TranslatedCall>(ctx, endpoint_->pool(ctx, this), endpoint_->timeouts(request),
                                               credentials->scrubber, std::make_unique<BedrockAnswerDecoder>(o),
                                               observer);
  call->hold(credentials);
  call->start(std::move(wire));
  return call;
}

void BedrockProvider::describe(nlohmann::json& out) const {
  endpoint_->describe(out);
  out["region"] = options_.region;
}

}  // namespace aigw
