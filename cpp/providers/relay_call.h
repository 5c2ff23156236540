// A provider call whose answer goes to the client as the upstream wrote it (OpenAI-compatible
// upstreams, and same-API attempts of other kinds): relayed as it arrives, credentials masked,
// usage picked out on the way by the kind's UsageReader.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/sse.h"
#include "providers/provider.h"
#include "upstream/credential_scrubber.h"
#include "upstream/sse_credential_scrubber.h"
#include "upstream/upstream_call.h"

namespace aigw {

// Reads the usage a JSON answer or stream event reports: sets the counts it has (leaving the
// others) and returns true when it had any.
using UsageReader = bool (*)(std::string_view json, CallUsage* usage);

class RelayCall final : public ProviderCall, private upstream::UpstreamCall::Listener {
 public:
  RelayCall(CallContext& ctx, upstream::UpstreamPool& pool, const upstream::CallTimeouts& timeouts,
            const upstream::CredentialScrubber& scrubber, UsageReader usage, CallObserver& observer)
      : observer_(observer), call_(ctx.loop, pool, timeouts, *this), scrubber_(scrubber), scrub_bytes_(scrubber),
        read_usage_(usage) {}

  void start(std::string request, bool body_streamed, bool chunked_upload);
  void resume() override { call_.resume(); }
  void onRequestBody(std::string_view data) override;
  void onRequestEnd() override;

 private:
  static void onEvent(void* self, const http::SseDecoder::Event& event);
  void onUpstreamHead(int status, http::HeaderList& headers, int64_t content_length) override;
  void onUpstreamBody(std::string_view data) override;
  void onUpstreamComplete() override;
  void onUpstreamBodyBackpressure(bool pause) override { observer_.pauseRequestBody(pause); }
  void onUpstreamError(CallErrorKind kind, const std::string& error) override;
  // Bytes of the answer, with this provider's credentials already masked.
  void relay(std::string_view data);

  static constexpr size_t kMaxUsageScan = 4 << 20;

  CallObserver& observer_;
  upstream::UpstreamCall call_;
  const upstream::CredentialScrubber& scrubber_;
  upstream::CredentialScrubber::Stream scrub_bytes_;
  std::unique_ptr<upstream::SseCredentialScrubber> scrub_events_;  // streams, when there is a key
  UsageReader read_usage_;
  int status_ = 0;
  bool sse_ = false;
  bool failed_ = false;
  bool chunked_upload_ = false;
  bool usage_seen_ = false;  // a stream event reported usage not yet told to the observer
  std::unique_ptr<http::SseDecoder> decoder_;
  std::string body_;
  CallUsage usage_;
};

// A 3xx other than 304 is not followed (the client chose no URL; the provider's config did):
// the message for the call's error.
std::string redirectRefusal(int status);

}  // namespace aigw
