#include "providers/relay_call.h"

#include "http/response.h"
#include "upstream/header_policy.h"

namespace aigw {

std::string redirectRefusal(int status) {
  return "upstream answered with a redirect (" + std::to_string(status) + "), which is not followed";
}

void RelayCall::start(std::string request, bool body_streamed, bool chunked_upload) {
  chunked_upload_ = chunked_upload;
  call_.start(std::move(request), !body_streamed);
}

void RelayCall::onRequestBody(std::string_view data) {
  if (!chunked_upload_) {
    call_.writeBody(data);
    return;
  }
  std::string framed;
  http::appendChunk(framed, data);
  call_.writeBody(framed);
}

void RelayCall::onRequestEnd() {
  if (chunked_upload_) call_.writeBody(http::kLastChunk);
  call_.endBody();
}

void RelayCall::onEvent(void* self, const http::SseDecoder::Event& event) {
  auto* call = static_cast<RelayCall*>(self);
  if (event.data.find("\"usage\"") != std::string_view::npos && call->read_usage_(event.data, &call->usage_)) {
    call->usage_seen_ = true;
  }
}

void RelayCall::onUpstreamHead(int status, http::HeaderList& headers, int64_t content_length) {
  // 304 Not Modified answers a conditional request; it is not a redirect.
  if (status >= 300 && status < 400 && status != 304) {
    failed_ = true;
    observer_.onCallError(CallErrorKind::Protocol, redirectRefusal(status));
    return;
  }
  status_ = status;
  sse_ = http::isEventStream(headers);
  if (sse_) decoder_ = std::make_unique<http::SseDecoder>(&RelayCall::onEvent, this);
  if (sse_ && !scrubber_.empty()) scrub_events_ = std::make_unique<upstream::SseCredentialScrubber>(scrubber_);
  http::HeaderList out;
  upstream::copyForwardableResponseHeaders(headers, &out);
  scrubber_.scrubHeaders(out);
  observer_.onCallHead(status, std::move(out), content_length);
}

void RelayCall::onUpstreamBody(std::string_view data) {
  if (failed_) return;
  relay(scrub_events_ ? scrub_events_->feed(data) : scrub_bytes_.feed(data));
}

void RelayCall::relay(std::string_view data) {
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

void RelayCall::onUpstreamComplete() {
  if (failed_) return;
  if (scrub_events_ && scrub_events_->holding()) relay(scrub_events_->finish());
  if (scrub_bytes_.holding()) relay(scrub_bytes_.finish());
  if (!sse_ && !body_.empty()) read_usage_(body_, &usage_);
  observer_.onCallEnd(usage_);
}

void RelayCall::onUpstreamError(CallErrorKind kind, const std::string& error) {
  if (failed_) return;
  failed_ = true;
  observer_.onCallError(kind, error);
}

}  // namespace aigw
