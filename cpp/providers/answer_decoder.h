// How a provider that speaks another API than OpenAI turns its upstream's answers into OpenAI's
// shape: one decoder per call, fed by TranslatedCall. Streams are decoded as they arrive, event
// by event; whole answers and errors once complete.
#pragma once

#include <string>
#include <string_view>

#include "core/call.h"
#include "http/headers.h"
#include "translate/api_errors.h"
#include "translate/token_usage.h"

namespace aigw {

class AnswerDecoder {
 public:
  virtual ~AnswerDecoder() = default;
  // A success answer with these headers is a stream, decoded by feed() as it arrives.
  virtual bool streams(const http::HeaderList& headers) const = 0;
  // The next bytes of the stream (split anywhere): appends OpenAI SSE bytes to `out`.
  virtual void feed(std::string_view data, std::string& out) = 0;
  // The upstream's stream ended: appends what closes the OpenAI stream.
  virtual void finish(std::string& out) = 0;
  // A whole success answer: appends the chat.completion. False (with `why`): no answer of this
  // API, which the gateway answers as a bad gateway.
  virtual bool decode(std::string_view body, std::string& out, std::string* why) = 0;
  // An error answer, in OpenAI's shape and statuses.
  virtual translate::ApiError error(int status, const http::HeaderList& headers, std::string_view body) = 0;
  // The counts the answer reported so far.
  virtual const translate::TokenUsage& usage() const = 0;
};

// Anthropic's counts as the gateway books them: prompt tokens include cache reads and writes.
CallUsage callUsage(const translate::TokenUsage& usage);

}  // namespace aigw
