#include "providers/translated_call.h"

#include "http/response.h"
#include "providers/relay_call.h"
#include "upstream/header_policy.h"

namespace aigw {

CallUsage callUsage(const translate::TokenUsage& u) {
  CallUsage out;
  if (u.input > 0 || u.cache_read > 0 || u.cache_creation > 0 || u.output > 0) {
    out.prompt_tokens = u.input + u.cache_read + u.cache_creation;
    out.completion_tokens = u.output;
    out.cached_tokens = u.cache_read;
  }
  return out;
}

void TranslatedCall::onUpstreamHead(int status, http::HeaderList& headers, int64_t) {
  if (status >= 300 && status < 400) {
    fail(CallErrorKind::Protocol, redirectRefusal(status));
    return;
  }
  status_ = status;
  streaming_ = status < 300 && decoder_->streams(headers);
  upstream::copyForwardableResponseHeaders(headers, &head_);
  head_.remove("content-type");
  head_.remove("content-encoding");
  scrubber_.scrubHeaders(head_);
  if (!streaming_) return;  // the head goes out with the decoded answer
  head_.add("content-type", "text/event-stream");
  head_.add("cache-control", "no-cache");
  observer_.onCallHead(status, std::move(head_), -1);
}

void TranslatedCall::onUpstreamBody(std::string_view data) {
  if (failed_) return;
  // Credentials are masked before decoding: a key echoed in a string stays masked in any shape.
  const std::string_view clean = scrub_.feed(data);
  if (clean.empty()) return;
  if (!streaming_) {
    if (body_.size() + clean.size() > kMaxWholeAnswer) {
      fail(CallErrorKind::Overflow, "the upstream answer is larger than the gateway translates (" +
                                        std::to_string(kMaxWholeAnswer >> 20) + " MiB)");
      return;
    }
    body_.append(clean);
    return;
  }
  decoded_.clear();
  decoder_->feed(clean, decoded_);
  relay(decoded_);
}

void TranslatedCall::relay(std::string& decoded) {
  const CallUsage usage = callUsage(decoder_->usage());
  if (usage.prompt_tokens != told_.prompt_tokens || usage.completion_tokens != told_.completion_tokens) {
    told_ = usage;
    observer_.onCallUsage(usage);
  }
  if (decoded.empty()) return;
  observer_.onCallBody(decoded);
  if (observer_.callBlocked()) call_.pause();
}

void TranslatedCall::onUpstreamComplete() {
  if (failed_) return;
  if (scrub_.holding()) {
    const std::string_view rest = scrub_.finish();
    if (!streaming_) {
      body_.append(rest);
    } else {
      decoded_.clear();
      decoder_->feed(rest, decoded_);
      relay(decoded_);
    }
  }
  if (streaming_) {
    decoded_.clear();
    decoder_->finish(decoded_);
    relay(decoded_);
    if (failed_) return;
    observer_.onCallEnd(callUsage(decoder_->usage()));
    return;
  }
  answerWhole(status_, body_);
}

void TranslatedCall::answerWhole(int status, std::string_view body) {
  std::string out;
  // The OpenAI answer is about as long as the upstream's: one allocation instead of a doubling series.
  out.reserve(body.size() + 256);
  if (status < 400) {
    std::string why;
    if (!decoder_->decode(body, out, &why)) {
      fail(CallErrorKind::Protocol, "the upstream's answer could not be translated: " + why);
      return;
    }
  } else {
    translate::ApiError error = decoder_->error(status, head_, body);
    status = error.status;
    out = std::move(error.body);
  }
  head_.add("content-type", "application/json");
  observer_.onCallHead(status, std::move(head_), static_cast<int64_t>(out.size()));
  observer_.onCallBody(out);
  observer_.onCallEnd(callUsage(decoder_->usage()));
}

void TranslatedCall::onUpstreamError(CallErrorKind kind, const std::string& error) { fail(kind, error); }

void TranslatedCall::fail(CallErrorKind kind, const std::string& error) {
  if (failed_) return;
  failed_ = true;
  observer_.onCallError(kind, error);
}

}  // namespace aigw
