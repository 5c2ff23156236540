// Response stages: decorators on the response writer (Envoy's encoder filters, h2o's output
// filters). Each sees the head, the body bytes and the end of the answer on its way to the
// client, may hold, rewrite or replace them, and passes them on to the next stage; the last one
// writes to the connection. A stage is created per request only when its config applies to it,
// so a request pays for nothing it does not use.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/exchange_api.h"
#include "http/headers.h"

namespace aigw {

// What happens to the answer beside the writes, told to every stage from the top down.
enum class AnswerEvent : uint8_t {
  Restart,     // the producer drops the answer in progress (a retry, a cut): drop what you hold of it
  Deadline,    // the request's deadline passed: work bounded by it ends now
  ClientGone,  // the client left: cancel, settle, record
};

class ResponseStage : public http::ResponseWriter {
 public:
  // The last stage writes to the connection; every other one to the stage after it.
  explicit ResponseStage(http::ResponseWriter& wire) : next_(wire) {}
  explicit ResponseStage(ResponseStage& next) : next_(next), next_stage_(&next) {}

  void respond(int status, const http::HeaderList& headers, std::string_view body) override {
    next_.respond(status, headers, body);
  }
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override {
    next_.writeHead(status, headers, content_length);
  }
  void writeBody(std::string_view data) override { next_.writeBody(data); }
  void endResponse() override { next_.endResponse(); }
  void resetConnection() override { next_.resetConnection(); }
  bool writeBlocked() const override { return next_.writeBlocked(); }
  bool headSent() const override { return next_.headSent(); }
  void pauseRequestBody() override { next_.pauseRequestBody(); }
  void resumeRequestBody() override { next_.resumeRequestBody(); }
  virtual void onEvent(AnswerEvent e) {
    if (next_stage_ != nullptr) next_stage_->onEvent(e);
  }

 protected:
  http::ResponseWriter& next_;

 private:
  ResponseStage* next_stage_ = nullptr;
};

}  // namespace aigw
