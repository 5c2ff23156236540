// Server-sent events framing (text/event-stream), as OpenAI and Anthropic streams use it.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::http {

// Appends one event: an optional "event: <name>" line, one "data: " line per line of `data`
// (a CR, LF or CRLF in `data` starts a new data line), then the blank line that ends it.
void appendSseEvent(std::string& out, std::string_view data, std::string_view event = {});

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// The body these headers announce is an event stream (content-type text/event-stream).
inline bool isEventStream(const HeaderList& headers) {
  const std::string* type = headers.find("content-type");
  return type != nullptr && type->find("text/event-stream") != std::string::npos;
}

}  // namespace aigw::http

namespace aigw::http {

// Incremental text/event-stream parser (WHATWG rules): accepts bytes split anywhere, CR, LF or
// CRLF line ends, comments, multi-line data; hands each complete event to the callback. It
// holds at most one partial event (capped), never the stream.
class SseDecoder {
 public:
  struct Event {
    std::string_view event;  // "message" when the stream named none
    std::string_view data;   // data lines joined with '\n'
    std::string_view id;
  };
  using Callback = void (*)(void* ctx, const Event& event);

  SseDecoder(Callback cb, void* ctx, size_t max_event_bytes = 1 << 20) : cb_(cb), ctx_(ctx), max_(max_event_bytes) {}
  // Returns false once an event or line exceeded the cap (the decoder then stops decoding).
  bool feed(std::string_view bytes);
  bool overflowed() const { return overflow_; }

 private:
  void line(std::string_view text);
  void dispatch();

  Callback cb_;
  void* ctx_;
  size_t max_;
  std::string partial_;  // the current, unfinished line
  std::string data_;
  std::string event_;
  std::string id_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  bool overflow_ = false;
};

}  // namespace aigw::http
