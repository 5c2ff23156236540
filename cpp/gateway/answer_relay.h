// The provider call's observer for the attempt loop: what an attempt answers goes into the
// response stages, or is held back while a failure could still be retried. It tells the loop
// how each attempt ends (AttemptOutcomes) and writes what the loop decides. See docs/routing.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/route_attempts.h"
#include "pipeline/record_state.h"
#include "pipeline/response_stage.h"
#include "providers/provider.h"

namespace aigw {

struct ServerSettings;

// An answer held back whole (or its head, for an event stream).
struct HeldResponse {
  int status;
  http::HeaderList headers;
  int64_t content_length;
  std::string body;
  ApiShape shape = ApiShape::OpenAi;  // the API it is written in
};

// How the attempt in progress ends, as the relay sees it; the AttemptLoop decides what follows.
class AttemptOutcomes {
 public:
  virtual ~AttemptOutcomes() = default;
  // Its head arrived with this status.
  virtual void attemptAnswered(int status) = 0;
  // A routed attempt answered >= 400 and the whole answer is held: retry, fall back, or relay
  // it when giving up (with the usage it reported).
  virtual void attemptFailed(std::unique_ptr<HeldResponse> answer, const CallUsage& usage) = 0;
  // Its answer (status) is complete; the relay writes what it still holds after this.
  virtual void attemptEnded(int status) = 0;
  // The call failed; `head_sent`: an answer's head already reached the client.
  virtual void attemptErrored(CallErrorKind kind, const std::string& message, bool head_sent) = 0;
};

class AnswerRelay final : public CallObserver {
 public:
  // Answers that are not event streams are held until complete (up to this size), so a
  // failure before the end is still a clean error response (or a retry), and the answer goes
  // out in one write. An event stream's head is held until its first event.
  static constexpr size_t kMaxHeldBody = 8 << 20;

  AnswerRelay(const RouteAttempts& routes, const http::Request& http, const std::string& id,
              const ServerSettings& server, RecordState& record, AttemptOutcomes& outcomes)
      : routes_(routes), http_(http), id_(id), server_(server), record_(record), outcomes_(outcomes) {}

  void start(ResponseStage& out) { out_ = &out; }
  // Nothing more comes from the relay: it wrote its end, or the answer was stopped.
  bool finished() const { return finished_; }
  int status() const { return status_; }
  // The API of what the relay writes now: the attempt's (set before its call starts), or
  // OpenAI's for the gateway's own errors.
  ApiShape shape() const { return shape_; }
  void setShape(ApiShape shape) { shape_ = shape; }
  // Drops what is held of the answer in progress, here and in the stages (`restart`).
  void drop(bool restart);
  // Nothing more is written: what is held is dropped and the call's events are ignored.
  void stop() {
    drop(false);
    finished_ = true;
  }

  // What the loop settles on.
  void respond(std::unique_ptr<HeldResponse> answer);
  void sendError(int status, std::string_view message, std::string_view type, std::string_view code,
                 int64_t retry_after_s = -1);
  // The answer was cut after its head went out: an error event ends an event stream, anything
  // else is reset.
  void cut(std::string_view type, std::string_view message, std::string_view code);

  // CallObserver
  void onCallHead(int status, http::HeaderList headers, int64_t content_length) override;
  void onCallBody(std::string_view data) override;
  void onCallEnd(const CallUsage& usage) override;
  void onCallError(CallErrorKind kind, std::string message) override;
  void onCallUsage(const CallUsage& usage) override;
  bool callBlocked() const override;
  void pauseRequestBody(bool pause) override;

 private:
  // Commits to the held answer: its head (and what arrived so far) goes out; the rest follows.
  void commitHeld();

  const RouteAttempts& routes_;
  const http::Request& http_;
  const std::string& id_;
  const ServerSettings& server_;
  RecordState& record_;
  AttemptOutcomes& outcomes_;
  ResponseStage* out_ = nullptr;
  bool finished_ = false;
  bool event_stream_ = false;  // the answer being relayed is text/event-stream
  int status_ = 0;
  ApiShape shape_ = ApiShape::OpenAi;
  std::unique_ptr<HeldResponse> held_;
  bool sse_head_held_ = false;  // held_ is an event stream's head, waiting for its first event
  bool failing_ = false;        // held_ is a failed attempt's answer, held for a decision
};

}  // namespace aigw
