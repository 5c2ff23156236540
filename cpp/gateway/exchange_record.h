// The request log's view of one Exchange: a ResponseWriter that sits between the Exchange and
// the connection, notes what reaches the client (status, first byte, end, reset, body), and
// has the Exchange write its record just before the response's last write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/exchange_api.h"
#include "providers/provider.h"

namespace aigw {

class Exchange;

// What the record needs that the rest of the Exchange does not keep.
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

  // Notes why the request failed (the message capped), unless a stage already did.
  void noteError(std::string_view type, std::string_view message);
};

class RecordingWriter final : public http::ResponseWriter {
 public:
  RecordingWriter(http::ResponseWriter& inner, Exchange& owner, RecordState& state)
      : inner_(inner), owner_(owner), state_(state) {}

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  void resetConnection() override;
  bool writeBlocked() const override { return inner_.writeBlocked(); }
  bool headSent() const override { return inner_.headSent(); }
  void pauseRequestBody() override { inner_.pauseRequestBody(); }
  void resumeRequestBody() override { inner_.resumeRequestBody(); }

 private:
  void firstByte();
  void capture(std::string_view data);

  http::ResponseWriter& inner_;
  Exchange& owner_;
  RecordState& state_;
};

}  // namespace aigw
