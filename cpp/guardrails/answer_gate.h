// The answer held back while the request's during guardrails decide: nothing reaches the client
// until they all allowed (then it goes out in order) or one blocked (then it is dropped and the
// block is the answer). Open, it passes everything through. DuringGate (during_gate.h) is the
// response stage that closes it for one request's checks.
#pragma once

#include <cstdint>
#include <string>

#include "http/exchange_api.h"
#include "http/headers.h"
#include "pipeline/response_stage.h"

namespace aigw::guardrails {

class AnswerGate : public ResponseStage {
 public:
  // Held body bytes past which the gate reports writeBlocked(): the provider call stops reading
  // the upstream (backpressure) instead of the gate buffering without limit. A whole answer the
  // attempt loop held itself (up to AttemptLoop::kMaxHeldBody) arrives in one respond() and is kept.
  static constexpr size_t kMaxHeld = 1 << 20;

  explicit AnswerGate(http::ResponseWriter& wire) : ResponseStage(wire) {}
  explicit AnswerGate(ResponseStage& next) : ResponseStage(next) {}

  void close() { closed_ = true; }
  bool closed() const { return closed_; }
  // Lets what was held out to the client, in order, and passes everything through from now on.
  void open();
  // Drops what was held (none of it went out) and passes everything through from now on.
  void discard();

  // http::ResponseWriter
  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  void resetConnection() override;
  bool writeBlocked() const override { return closed_ ? body_.size() > kMaxHeld : next_.writeBlocked(); }
  // Closed: whether the head was written into it (to the producer the answer has started, so
  // it decides retries and mid-stream errors exactly as it would without the gate).
  bool headSent() const override { return closed_ ? head_ : next_.headSent(); }

 private:
  enum class End : uint8_t { None, Respond, End, Reset };
  void clear();

  bool closed_ = false;
  bool head_ = false;
  int status_ = 0;
  http::HeaderList headers_;
  int64_t content_length_ = -1;
  std::string body_;
  End end_ = End::None;
};

}  // namespace aigw::guardrails
