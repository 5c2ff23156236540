// The mock provider's knobs: how it answers (timing, failures, content). Defaults come from
// the provider's config; a request may override each one with an x-mock-* header.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "http/headers.h"

namespace aigw {

struct MockKnobs {
  int64_t latency_ms = 0;       // before a non-streamed answer, and before the first chunk
  int64_t ttft_ms = 0;          // extra wait before the first chunk of a stream
  int64_t chunk_delay_ms = 0;   // between chunks
  int64_t chunks = 8;           // content chunks in a stream
  int status = 200;             // non-2xx: answer with an OpenAI-shaped error
  double error_rate = 0.0;      // fraction of calls that fail with 500 (or `status` if an error)
  int64_t retry_after = -1;     // seconds; Retry-After on error answers
  int64_t stall_after = -1;     // stop after N chunks and hold the stream open
  int64_t reset_after = -1;     // reset the connection after N chunks (0: before any answer)
  std::optional<std::string> response;  // fixed completion text
  std::string error_code;       // the "code" of error answers (e.g. context_length_exceeded); empty: by status
  int64_t embedding_dimensions = 8;
  bool header_knobs = true;     // whether x-mock-* headers may override the above

  // A mock provider's entry of the core document, every knob present (null: not set).
  static MockKnobs fromJson(const nlohmann::json& provider);
  // Applies x-mock-* headers. Returns false (with `error` naming the header) on a bad value.
  bool applyHeaders(const http::HeaderList& headers, std::string* error);
};

}  // namespace aigw
