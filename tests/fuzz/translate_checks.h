// What the two translation fuzz targets check: SSE text whose events carry JSON, JSON text that
// parses, and refusals that name a field drop_params could not drop. Shared so both directions hold their outputs to one reading.
#pragma once

#include <nlohmann/json.hpp>
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/sse.h"
#include "translate/translation.h"

namespace aigw::fuzz {

struct OutEvent {
  std::string event;
  nlohmann::json data;  // null for "[DONE]"
};

// Every event of `sse` (a translator's output), each data a JSON object or "[DONE]".
inline std::vector<OutEvent> outputEvents(std::string_view sse) {
  std::vector<OutEvent> events;
  http::SseDecoder decoder(
      [](void* ctx, const http::SseDecoder::Event& e) {
        auto* out = static_cast<std::vector<OutEvent>*>(ctx);
        if (e.data == "[DONE]") {
          out->push_back({std::string(e.event), nullptr});
          return;
        }
        nlohmann::json doc = nlohmann::json::parse(e.data, nullptr, false);
        FUZZ_CHECK(doc.is_object(), "an output event's data is no JSON object: %.200s", std::string(e.data).c_str());
        out->push_back({std::string(e.event), std::move(doc)});
      },
      &events);
  FUZZ_CHECK(decoder.feed(sse), "the output overflowed the SSE decoder");
  // "\r\n\r\n" is Gemini's own framing (the mock speaks it).
  FUZZ_CHECK(sse.empty() || sse.substr(sse.size() - 2) == "\n\n" || sse.substr(sse.size() - 4) == "\r\n\r\n",
             "the output ends inside an event");
  return events;
}

// A translator's request refusal: it says why, and (with every drop name given) names no field
// that drop_params would have dropped.
inline void checkRefusal(const translate::Translation& t, bool drop_all, const std::vector<std::string>& every_drop) {
  FUZZ_CHECK(!t.error.message.empty(), "a refusal without a message");
  FUZZ_CHECK(!drop_all || std::find(every_drop.begin(), every_drop.end(), t.error.drop_name) == every_drop.end(),
             "refused '%s' although drop_params names it", t.error.drop_name.c_str());
}

inline nlohmann::json parsedOutput(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  FUZZ_CHECK(doc.is_object(), "a translated body is no JSON object: %.200s", std::string(text).c_str());
  return doc;
}

}  // namespace aigw::fuzz
