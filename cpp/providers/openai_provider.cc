#include "providers/openai_provider.h"

#include "core/json_text.h"
#include "http/response.h"
#include "http/sse.h"
#include "net/tls_context.h"
#include "providers/usage.h"
#include "upstream/header_policy.h"
#include "upstream/pool_registry.h"
#include "upstream/sse_credential_scrubber.h"

namespace aigw {
namespace {

const char* endpointSuffix(Endpoint e) {
  switch (e) {
    case Endpoint::ChatCompletions: return "/chat/completions";
    case Endpoint::Completions: return "/completions";
    case Endpoint::Embeddings: return "/embeddings";
    case Endpoint::Passthrough: return "";
  }
  return "";
}

// Relays one upstream response to the pipeline, picking usage out of it on the way.
class OpenAiCall final : public ProviderCall, private upstream::UpstreamCall::Listener {
 public:
  OpenAiCall(CallContext& ctx, upstream::UpstreamPool& pool, const upstream::CallTimeouts& timeouts,
             const upstream::CredentialScrubber& scrubber, CallObserver& observer)
      : observer_(observer), call_(ctx.loop, pool, timeouts, *this), scrubber_(scrubber), scrub_bytes_(scrubber) {}

  void start(std::string request, bool body_streamed, bool chunked_upload) {
    chunked_upload_ = chunked_upload;
    call_.start(std::move(request), !body_streamed);
  }
  void resume() override { call_.resume(); }
  void onRequestBody(std::string_view data) override {
    if (!chunked_upload_) {
      call_.writeBody(data);
      return;
    }
    std::string framed;
    http::appendChunk(framed, data);
    call_.writeBody(framed);
  }
  void onRequestEnd() override {
    if (chunked_upload_) call_.writeBody(http::kLastChunk);
    call_.endBody();
  }

 private:
  static void onEvent(void* self, const http::SseDecoder::Event& event) {
    auto* call = static_cast<OpenAiCall*>(self);
    if (event.data.find("\"usage\"") != std::string_view::npos && extractUsage(event.data, &call->usage_)) {
      call->usage_seen_ = true;
    }
  }

  void onUpstreamHead(int status, http::HeaderList& headers, int64_t content_length) override {
    // 304 Not Modified answers a conditional request; it is not a redirect.
    if (status >= 300 && status < 400 && status != 304) {
      failed_ = true;
      observer_.onCallError(CallErrorKind::Protocol,
                            "upstream answered with a redirect (" + std::to_string(status) + "), which is not followed");
      return;
    }
    status_ = status;
    sse_ = http::isEventStream(headers);
    if (sse_) decoder_ = std::make_unique<http::SseDecoder>(&OpenAiCall::onEvent, this);
    if (sse_ && !scrubber_.empty()) scrub_events_ = std::make_unique<upstream::SseCredentialScrubber>(scrubber_);
    http::HeaderList out;
    upstream::copyForwardableResponseHeaders(headers, &out);
    scrubber_.scrubHeaders(out);
    observer_.onCallHead(status, std::move(out), content_length);
  }

  void onUpstreamBody(std::string_view data) override {
    if (failed_) return;
    relay(scrub_events_ ? scrub_events_->feed(data) : scrub_bytes_.feed(data));
  }

  // Bytes of the answer, with this provider's credentials already masked.
  void relay(std::string_view data) {
    if (data.empty()) return;
    // Usage is looked for in answers and in error bodies (a failed request may still have
    // consumed, and report, prompt tokens).
    if (sse_) {
      if (status_ < 300) decoder_->feed(data);
    } else if (body_.size() + data.size() <= kMaxUsageScan) {
      body_.append(data);
    }
    if (usage_seen_) {
      // Told before the bytes that carry it: a stream cut after them still knows its usage.
      usage_seen_ = false;
      observer_.onCallUsage(usage_);
    }
    observer_.onCallBody(data);
    if (observer_.callBlocked()) call_.pause();
  }

  void onUpstreamComplete() override {
    if (failed_) return;
    if (scrub_events_ && scrub_events_->holding()) relay(scrub_events_->finish());
    if (scrub_bytes_.holding()) relay(scrub_bytes_.finish());
    if (!sse_ && !body_.empty()) extractUsage(body_, &usage_);
    observer_.onCallEnd(usage_);
  }

  void onUpstreamBodyBackpressure(bool pause) override { observer_.pauseRequestBody(pause); }

  void onUpstreamError(CallErrorKind kind, const std::string& error) override {
    if (failed_) return;
    failed_ = true;
    observer_.onCallError(kind, error);
  }

  static constexpr size_t kMaxUsageScan = 4 << 20;

  CallObserver& observer_;
  upstream::UpstreamCall call_;
  const upstream::CredentialScrubber& scrubber_;
  upstream::CredentialScrubber::Stream scrub_bytes_;
  std::unique_ptr<upstream::SseCredentialScrubber> scrub_events_;  // streams, when there is a key
  int status_ = 0;
  bool sse_ = false;
  bool failed_ = false;
  bool chunked_upload_ = false;
  bool usage_seen_ = false;  // a stream event reported usage not yet told to the observer
  std::unique_ptr<http::SseDecoder> decoder_;
  std::string body_;
  CallUsage usage_;
};

}  // namespace

std::unique_ptr<OpenAiProvider> OpenAiProvider::create(std::string name, OpenAiOptions options, std::string* error) {
  std::shared_ptr<net::TlsClientContext> tls;
  if (options.origin.tls) {
    net::TlsClientOptions tls_options;
    tls_options.verify = options.verify;
    tls_options.ca_file = options.ca_file;
    tls = net::TlsClientContext::create(tls_options, error);
    if (!tls) {
      *error = "provider '" + name + "': " + *error;
      return nullptr;
    }
  }
  return std::unique_ptr<OpenAiProvider>(new OpenAiProvider(std::move(name), std::move(options), std::move(tls)));
}

OpenAiProvider::OpenAiProvider(std::string name, OpenAiOptions options, std::shared_ptr<net::TlsClientContext> tls)
    : Provider(std::move(name)),
      options_(std::move(options)),
      tls_(std::move(tls)),
      scrubber_(options_.api_key, options_.headers) {}

std::string OpenAiProvider::buildRequest(const CallRequest& req) const {
  const upstream::Origin& o = options_.origin;
  std::string body_storage;
  std::string_view body = req.json_object ? req.json_text : std::string_view(req.http.body);
  if (req.json_object) {
    if (!req.upstream_model.empty() && req.upstream_model != req.model) {
      // Splice the new model into the client's bytes; re-encode only if that is impossible.
      if (!replaceTopLevelString(req.json_text, "model", req.upstream_model, &body_storage)) {
        nlohmann::json copy = req.body.get();
        copy["model"] = req.upstream_model;
        body_storage = copy.dump();
      }
      body = body_storage;
    }
  }
  http::HeaderList headers;
  headers.reserve(req.http.headers.size() + options_.headers.size() + 6);
  upstream::copyForwardableRequestHeaders(req.http.headers, &headers);
  upstream::applyConfiguredRequestHeaders(options_.headers, &headers);

  std::string out;
  out.reserve(256 + body.size() + headers.size() * 48);
  out.append(req.endpoint == Endpoint::Passthrough ? req.http.method : "POST");
  out.push_back(' ');
  out.append(o.base_path);
  if (req.endpoint == Endpoint::Passthrough) {
    out.append(req.path_suffix);
  } else {
    out.append(endpointSuffix(req.endpoint));
  }
  out.append(" HTTP/1.1\r\n");
  http::appendHeader(out, "host", o.host_header);
  for (const auto& h : headers) http::appendHeader(out, h.name, h.value);
  if (!options_.api_key.empty() && headers.find("authorization") == nullptr) {
    out.append("authorization: Bearer ");
    out.append(options_.api_key);
    out.append("\r\n");
  }
  if (headers.find("content-type") == nullptr && !body.empty()) http::appendHeader(out, "content-type", "application/json");
  if (headers.find("user-agent") == nullptr) http::appendHeader(out, "user-agent", "aigw/" AIGW_VERSION);
  http::appendHeader(out, "accept-encoding", "identity");
  // An empty body is announced only where the method expects one (RFC 9110 8.6).
  const std::string_view method = req.endpoint == Endpoint::Passthrough ? std::string_view(req.http.method) : "POST";
  if (req.body_streamed) {
    // The body follows as it arrives: keep the client's length, or chunk it ourselves.
    const std::string* length = req.http.headers.find("content-length");
    if (length != nullptr) {
      http::appendHeader(out, "content-length", *length);
    } else {
      http::appendHeader(out, "transfer-encoding", "chunked");
    }
  } else if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    http::appendHeader(out, "content-length", std::to_string(body.size()));
  }
  out.append("\r\n");
  out.append(body);
  return out;
}

ProviderCallPtr OpenAiProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  upstream::UpstreamPool& pool = ctx.pools->get(this, options_.origin, tls_, options_.pool);
  upstream::CallTimeouts timeouts = options_.timeouts;
  if (request.connect_timeout_ms > 0) timeouts.connect_ms = request.connect_timeout_ms;
  if (request.first_byte_timeout_ms > 0) timeouts.first_byte_ms = request.first_byte_timeout_ms;
  if (request.idle_timeout_ms > 0) timeouts.idle_ms = request.idle_timeout_ms;
  auto call = std::make_unique<OpenAiCall>(ctx, pool, timeouts, scrubber_, observer);
  call->start(buildRequest(request), request.body_streamed,
              request.body_streamed && request.http.headers.find("content-length") == nullptr);
  return call;
}

std::string OpenAiProvider::startupWarning() const {
  if (!options_.origin.tls || options_.verify) return {};
  return "provider '" + name() + "' has TLS verification turned off (verify: false)";
}

void OpenAiProvider::describe(nlohmann::json& out) const {
  out["base_url"] = options_.origin.key() + options_.origin.base_path;
  out["tls_verify"] = !options_.origin.tls || options_.verify;
}

}  // namespace aigw
