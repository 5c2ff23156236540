// The stream stage's place in the response path: a guarded event stream's bytes go through a
// StreamGuard, which hands back what may reach the client (at once for synchronous guardrails,
// when their verdicts come for Python ones), a block, or the end. The head waits for the first
// bytes that may go out, so a stream blocked before any is a clean error response. While a
// window waits for verdicts the guard queues what follows; past its bound the producer is
// paused (writeBlocked) and resumed when the queue drains.
#pragma once

#include <memory>

#include "guardrails/stream_guard.h"
#include "pipeline/answer_source.h"
#include "pipeline/request_stage.h"
#include "pipeline/response_stage.h"

namespace aigw::guardrails {

class StreamGuardStage final : public ResponseStage, private StreamHost {
 public:
  StreamGuardStage(ResponseStage& next, RequestContext& request, RequestGuardrails& req, AnswerSource& source);
  ~StreamGuardStage() override;

  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  bool writeBlocked() const override { return (guard_ && guard_->full()) || next_.writeBlocked(); }
  bool headSent() const override { return head_ ? false : next_.headSent(); }
  void onEvent(AnswerEvent e) override;

 private:
  struct Head {
    int status;
    http::HeaderList headers;
    int64_t content_length;
  };
  void sendHead();
  // The guard of an answer that stopped: it hears nothing more.
  void dropGuard();

  // StreamHost
  void streamOut(std::string_view bytes) override;
  void streamBlocked() override;
  void streamFinished() override;
  void streamDrained() override;
  AsyncCheckPtr startStreamCheck(const Guardrail& g, const CheckInput& in, std::function<std::string_view()> subject,
                                 CheckDone done) override;
  void appendStreamSubject(std::string& out) override;
  void releaseLater(DeferredDeletablePtr p) override;

  RequestContext& request_;
  RequestGuardrails& req_;
  AnswerSource& source_;
  bool guarding_ = false;        // the answer in progress is a 2xx event stream
  std::unique_ptr<Head> head_;   // its head, until the first bytes that may go out
  std::unique_ptr<StreamGuard> guard_;
};

}  // namespace aigw::guardrails
