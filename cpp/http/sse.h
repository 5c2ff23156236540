// Server-sent events framing (text/event-stream), as OpenAI and Anthropic streams use it.
#pragma once

#include <string>
#include <string_view>

namespace aigw::http {

// Appends one event: an optional "event: <name>" line, one "data: " line per line of `data`
// (a CR, LF or CRLF in `data` starts a new data line), then the blank line that ends it.
void appendSseEvent(std::string& out, std::string_view data, std::string_view event = {});

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace aigw::http
