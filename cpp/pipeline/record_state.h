// What one request's record says about its answer, filled in along the response path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "providers/provider.h"

namespace aigw {

// What the request's record needs to know of its answer, written by the stages that learn it:
// the attempt loop (usage, a cut), the cost stage (the cost), the record stage (what reached
// the client).
struct RecordState {
  bool written = false;       // the record went to the journal (exactly once)
  bool skip = false;          // refused before admission (log backpressure): no record
  bool head_sent = false;
  bool reset = false;
  bool partial = false;       // a started response was cut (error event, reset)
  int status = 0;             // status sent to the client
  uint64_t first_byte_ns = 0;
  uint64_t start_wall_ms = 0;
  CallUsage usage;
  std::optional<double> cost_usd;
  std::string response_body;            // captured when log.bodies is on (capped)
  bool response_truncated = false;
  std::string error_type;               // set by the stage that failed the request, if it knows
  std::string error_message;
  bool ended = false;         // the response's last write reached the connection (or the client left)
  bool blocked = false;       // a guardrail replaced the answer after the upstream produced it
  bool relayed = false;       // the answer going out is the upstream's (priced), not one the gateway made

  static constexpr size_t kMaxErrorMessage = 2000;

  // Notes why the request failed (the message capped), unless a stage already did.
  void noteError(std::string_view type, std::string_view message) {
    if (!error_message.empty() || !error_type.empty()) return;
    error_type = type;
    error_message = message.substr(0, kMaxErrorMessage);
  }
  // A response that had started was cut (an error event after bytes went out): this is why.
  void notePartial(std::string_view type, std::string_view message) {
    partial = true;
    error_type = type;
    error_message = message.substr(0, kMaxErrorMessage);
  }
};

}  // namespace aigw
