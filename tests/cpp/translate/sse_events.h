// Test helper: an SSE text as its (event name, data) pairs, read with the gateway's own decoder,
// and data compared as JSON where it is JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/sse.h"

namespace aigw::translate::testing {

struct SseEvent {
  std::string event;
  std::string data;
};

inline std::vector<SseEvent> sseEvents(std::string_view text) {
  std::vector<SseEvent> events;
  http::SseDecoder decoder(
      [](void* ctx, const http::SseDecoder::Event& e) {
        static_cast<std::vector<SseEvent>*>(ctx)->push_back({std::string(e.event), std::string(e.data)});
      },
      &events);
  decoder.feed(text);
  return events;
}

// Equal names and equal data: as JSON when both parse, as text otherwise ("[DONE]").
inline bool sameEvent(const SseEvent& a, const SseEvent& b) {
  if (a.event != b.event) return false;
  const auto ja = nlohmann::json::parse(a.data, nullptr, false);
  const auto jb = nlohmann::json::parse(b.data, nullptr, false);
  if (ja.is_discarded() || jb.is_discarded()) return a.data == b.data;
  return ja == jb;
}

inline std::string show(const std::vector<SseEvent>& events) {
  std::string out;
  for (const SseEvent& e : events) out += e.event + ": " + e.data + "\n";
  return out;
}

}  // namespace aigw::translate::testing
