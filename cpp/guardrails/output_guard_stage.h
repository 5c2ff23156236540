// The output stage's place in the response path: a whole 2xx answer from the upstream waits
// here (nothing written yet) while the output guardrails check it; asynchronous ones (Python,
// moderation) keep it waiting until their verdicts. It goes out as they left it, or the block
// is the answer. A restart, a deadline or a client that leaves ends the wait.
#pragma once

#include <memory>
#include <string>

#include "pipeline/answer_source.h"
#include "pipeline/record_state.h"
#include "pipeline/request_stage.h"
#include "pipeline/response_stage.h"

namespace aigw::guardrails {

class RequestGuardrails;

class OutputGuardStage final : public ResponseStage {
 public:
  OutputGuardStage(ResponseStage& next, RequestContext& request, RequestGuardrails& req, const RecordState& record,
                   AnswerSource& source);
  ~OutputGuardStage() override;

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void onEvent(AnswerEvent e) override;

 private:
  struct Held {
    int status;
    http::HeaderList headers;
  };
  void checked(bool blocked, std::string body);

  RequestContext& request_;
  RequestGuardrails& req_;
  const RecordState& record_;
  AnswerSource& source_;
  std::unique_ptr<Held> held_;   // the answer waiting for its verdicts (its body is lent to the checks)
  DeferredDeletablePtr checks_;  // the output stage while it waits for verdicts
};

}  // namespace aigw::guardrails
