#include "gateway/answer_relay.h"

#include "gateway/config.h"
#include "http/response.h"
#include "http/sse.h"

namespace aigw {

void AnswerRelay::onCallHead(int status, http::HeaderList headers, int64_t content_length) {
  if (finished_) return;
  status_ = status;
  outcomes_.attemptAnswered(status);
  const bool routed = routes_.target() != nullptr;
  event_stream_ = http::isEventStream(headers);
  out_->onEvent(AnswerEvent::Restart);  // a new attempt answers: the stages drop the last one's
  const bool has_body = status >= 200 && status != 204 && status != 304 && http_.method != "HEAD";
  if (status >= 400 && routed) {
    // A failed attempt: held whole, to be retried, routed elsewhere or relayed.
    failing_ = true;
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}, shape_});
    return;
  }
  routes_.addAnswerHeaders(headers, status, id_);
  // (Serving as a mock upstream there is nothing to retry, and a test of a stall before the
  // first event needs the head to go out.)
  if (event_stream_ && has_body && routed && !server_.mock_mode) {
    // Nothing reaches the client before the first event: until then a failure can still retry.
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}, shape_});
    sse_head_held_ = true;
    return;
  }
  if (!event_stream_ && has_body && content_length <= static_cast<int64_t>(kMaxHeldBody)) {
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}, shape_});
    if (content_length > 0) held_->body.reserve(static_cast<size_t>(content_length));
    return;
  }
  record_.relayed = true;
  out_->writeHead(status, headers, content_length);
}

void AnswerRelay::commitHeld() {
  std::unique_ptr<HeldResponse> held = std::move(held_);
  if (failing_) {
    // Too big to hold for a retry decision: this failure is the answer.
    failing_ = false;
    routes_.addAnswerHeaders(held->headers, held->status, id_);
  }
  sse_head_held_ = false;
  record_.relayed = true;
  out_->writeHead(held->status, held->headers, held->content_length);
  if (!held->body.empty()) out_->writeBody(held->body);
}

void AnswerRelay::onCallBody(std::string_view data) {
  if (finished_) return;
  if (held_) {
    if (sse_head_held_) {
      commitHeld();
      out_->writeBody(data);
      return;
    }
    held_->body.append(data);
    if (held_->body.size() > kMaxHeldBody) commitHeld();  // too big to hold: relay the rest as it comes
    return;
  }
  out_->writeBody(data);
}

void AnswerRelay::onCallUsage(const CallUsage& usage) {
  if (!finished_) record_.usage = usage;
}

void AnswerRelay::onCallEnd(const CallUsage& usage) {
  if (finished_) return;
  if (failing_) {
    failing_ = false;
    outcomes_.attemptFailed(std::move(held_), usage);
    return;
  }
  record_.usage = usage;
  outcomes_.attemptEnded(status_);
  if (held_ && sse_head_held_) commitHeld();  // an event stream with no events
  if (held_) {
    respond(std::move(held_));
    return;
  }
  finished_ = true;
  out_->endResponse();
}

void AnswerRelay::onCallError(CallErrorKind kind, std::string message) {
  if (finished_) return;
  out_->onEvent(AnswerEvent::Restart);  // what a stage held back of this attempt stays unsent
  if (kind == CallErrorKind::Reset && server_.mock_mode) {
    finished_ = true;
    out_->resetConnection();
    return;
  }
  drop(false);  // an unfinished answer is not relayed: the client gets a clean error instead
  outcomes_.attemptErrored(kind, message, out_->headSent());
}

// After the client left the writer may already be freed (the call is deleted on the next idle
// turn, after timers have run): a finished relay reports itself blocked so the call stops.
// While an answer is held nothing is written, so nothing can block.
bool AnswerRelay::callBlocked() const { return finished_ || (!held_ && out_->writeBlocked()); }

void AnswerRelay::pauseRequestBody(bool pause) {
  if (finished_) return;
  if (pause) {
    out_->pauseRequestBody();
  } else {
    out_->resumeRequestBody();
  }
}

void AnswerRelay::drop(bool restart) {
  held_.reset();
  sse_head_held_ = false;
  failing_ = false;
  if (restart) out_->onEvent(AnswerEvent::Restart);
}

void AnswerRelay::respond(std::unique_ptr<HeldResponse> answer) {
  finished_ = true;
  status_ = answer->status;
  shape_ = answer->shape;
  record_.relayed = true;
  out_->respond(answer->status, answer->headers, answer->body);
}

void AnswerRelay::sendError(int status, std::string_view message, std::string_view type, std::string_view code,
                            int64_t retry_after_s) {
  if (record_.ended) return;
  finished_ = true;
  status_ = status;
  shape_ = ApiShape::OpenAi;  // the gateway's own answers are OpenAI-shaped
  record_.relayed = false;
  record_.noteError(type, message);  // the record needs no parse of the body we make here
  http::HeaderList h;
  routes_.addAnswerHeaders(h, status, id_);
  h.add("content-type", "application/json");
  if (retry_after_s >= 0) h.add("retry-after", std::to_string(retry_after_s));
  out_->respond(status, h, http::openAiErrorBody(message, type, code));
}

void AnswerRelay::cut(std::string_view type, std::string_view message, std::string_view code) {
  finished_ = true;
  shape_ = ApiShape::OpenAi;  // the error event is the gateway's, whatever the stream was
  record_.notePartial(type, message);
  if (event_stream_) {
    // Bytes already reached the client: end the stream with an error event and a clean end.
    std::string event;
    http::appendSseEvent(event, http::openAiErrorBody(message, type, code));
    out_->writeBody(event);
    out_->endResponse();
  } else {
    // A partial fixed-length body cannot be finished honestly: drop the connection.
    out_->resetConnection();
  }
}

}  // namespace aigw
