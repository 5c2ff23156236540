// The stream stage: decodes an OpenAI SSE answer, runs the stream guardrails over each
// choice's text through a window that holds back the last K bytes (K: the longest lookback
// of the selected guardrails), so a match split across chunks is seen whole before any of it
// leaves, and re-encodes the events with the text that may go out. Held text is flushed at the
// choice's finish_reason, at [DONE], and when the upstream ends.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "http/sse.h"
#include "providers/provider.h"

namespace aigw::guardrails {

class RequestGuardrails;

class StreamGuard {
 public:
  StreamGuard(RequestGuardrails& req, Endpoint endpoint);

  // False once a guardrail blocked (see RequestGuardrails::blocked()).
  bool feed(std::string_view bytes, std::string& out);
  bool finish(std::string& out);

  // Text held for one choice past this size is checked as final (redacting an open match to
  // its end) and let go: the window is bounded even under a match that never ends.
  static constexpr size_t kMaxHeld = 256 * 1024;

 private:
  struct Choice {
    int64_t index = 0;
    std::string pending;  // checked up to the window, not yet sent
  };
  static void onEvent(void* self, const http::SseDecoder::Event& e);
  void event(const http::SseDecoder::Event& e);
  Choice& choice(int64_t index);
  // Runs the guardrails over the choice's window; returns what may go out now.
  std::string window(Choice& c, bool final);
  void flushAll();
  void append(std::string_view data, std::string_view event_name);
  void release();

  RequestGuardrails& req_;
  Endpoint endpoint_;
  http::SseDecoder decoder_;
  std::vector<Choice> choices_;
  nlohmann::json last_chunk_;  // id, object, created, model of the last chunk (for flushes)
  std::string* out_ = nullptr;
  bool blocked_ = false;
  bool done_ = false;  // [DONE] passed
  // Until the first text may go out, events without text (the role chunk) wait here too: a
  // block before any text left is then still a clean error response instead of a cut stream.
  std::string early_;
  bool released_ = false;
};

}  // namespace aigw::guardrails
