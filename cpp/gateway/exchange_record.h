// The record stage: the last response stage, in front of the connection. It notes what reaches
// the client (status, first byte, end, reset, body), and has the Exchange write the request's
// record just before the response's last write (or when the client leaves).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/exchange_api.h"
#include "pipeline/record_state.h"
#include "pipeline/response_stage.h"

namespace aigw {

class Exchange;

class RecordingWriter final : public ResponseStage {
 public:
  RecordingWriter(http::ResponseWriter& wire, Exchange& owner, RecordState& state)
      : ResponseStage(wire), owner_(owner), state_(state) {}

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  void resetConnection() override;
  void onEvent(AnswerEvent e) override;

 private:
  void firstByte();
  void capture(std::string_view data);

  Exchange& owner_;
  RecordState& state_;
};

}  // namespace aigw
