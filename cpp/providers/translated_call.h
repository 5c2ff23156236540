// A provider call whose upstream speaks another API: the request was encoded by the provider,
// the answer is decoded into OpenAI's shape here (AnswerDecoder) before any stage sees it.
// Streams go out event by event with the same backpressure as a relayed one; whole answers and
// errors are decoded once complete (the relay holds those anyway).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "providers/answer_decoder.h"
#include "providers/provider.h"
#include "upstream/credential_scrubber.h"
#include "upstream/upstream_call.h"

namespace aigw {

class TranslatedCall final : public ProviderCall, private upstream::UpstreamCall::Listener {
 public:
  // A whole answer larger than this is refused (502) rather than held for decoding.
  static constexpr size_t kMaxWholeAnswer = 32 << 20;

  TranslatedCall(CallContext& ctx, upstream::UpstreamPool& pool, const upstream::CallTimeouts& timeouts,
                 const upstream::CredentialScrubber& scrubber, std::unique_ptr<AnswerDecoder> decoder,
                 CallObserver& observer)
      : observer_(observer), call_(ctx.loop, pool, timeouts, *this), scrubber_(scrubber), scrub_(scrubber),
        decoder_(std::move(decoder)) {}

  void start(std::string request) { call_.start(std::move(request)); }
  // Keeps what the scrubber belongs to alive while the call runs (credentials pushed at run
  // time, providers/credential_slot.h, may be replaced meanwhile).
  void hold(std::shared_ptr<const void> owner) { held_ = std::move(owner); }
  void resume() override { call_.resume(); }

 private:
  void onUpstreamHead(int status, http::HeaderList& headers, int64_t content_length) override;
  void onUpstreamBody(std::string_view data) override;
  void onUpstreamComplete() override;
  void onUpstreamError(CallErrorKind kind, const std::string& error) override;
  // Decoded stream bytes to the observer (usage first, when it grew).
  void relay(std::string& decoded);
  void answerWhole(int status, std::string_view body);
  void fail(CallErrorKind kind, const std::string& error);

  std::shared_ptr<const void> held_;  // first: destroyed after everything that uses it
  CallObserver& observer_;
  upstream::UpstreamCall call_;
  const upstream::CredentialScrubber& scrubber_;
  upstream::CredentialScrubber::Stream scrub_;
  std::unique_ptr<AnswerDecoder> decoder_;
  http::HeaderList head_;  // the upstream's forwardable headers, for a whole answer's head
  int status_ = 0;
  bool streaming_ = false;
  bool failed_ = false;
  std::string body_;     // a whole answer, until complete
  std::string decoded_;  // a stream's decoded bytes, reused
  CallUsage told_;       // the usage last told to the observer
};

}  // namespace aigw
