#include "gateway/exchange.h"

#include "core/clock.h"
#include "gateway/config.h"
#include "gateway/worker.h"
#include "http/response.h"
#include "http/sse.h"

namespace aigw {

Exchange::Exchange(Worker& worker, http::Request&& request, http::ResponseWriter& writer)
    : worker_(worker), request_(std::move(request)), writer_(writer), id_(worker.newRequestId()),
      start_ns_(monotonicNs()) {
  worker_.shared().requests_in_flight.fetch_add(1, std::memory_order_relaxed);
}

Exchange::~Exchange() { worker_.shared().requests_in_flight.fetch_sub(1, std::memory_order_relaxed); }

const GatewayConfig& Exchange::config() const { return worker_.config(); }

void Exchange::start() { continuePipeline(); }

void Exchange::park(DeferredDeletablePtr work) { parked_ = std::move(work); }

void Exchange::continuePipeline() {
  // The parked work is usually on the stack below us: release it on the next iteration.
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  const FilterChain& chain = worker_.filters();
  while (!done_ && next_filter_ < chain.size()) {
    const Filter& filter = *chain[next_filter_++];
    if (filter.onRequest(*this) == FilterStatus::StopIteration) return;
  }
  if (!done_) sendError(500, "the request pipeline ended without an answer", "server_error");
}

void Exchange::onClientGone() {
  done_ = true;
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  releaseCall();
}

void Exchange::onWritable() {
  if (call_) call_->resume();
}

void Exchange::onRequestBody(std::string_view data) {
  if (done_) return;
  if (call_) {
    call_->onRequestBody(data);
    return;
  }
  // The pipeline has not reached the provider yet: hold a bounded amount.
  early_body_.append(data);
  if (early_body_.size() > 256 * 1024) writer_.pauseRequestBody();
}

void Exchange::onRequestEnd() {
  if (done_) return;
  if (call_) {
    call_->onRequestEnd();
  } else {
    early_end_ = true;
  }
}

void Exchange::pauseRequestBody(bool pause) {
  if (done_) return;
  if (pause) {
    writer_.pauseRequestBody();
  } else {
    writer_.resumeRequestBody();
  }
}

void Exchange::releaseCall() {
  // The call may be on the stack below us (we can be inside one of its callbacks).
  if (call_) worker_.loop().deferredDelete(std::move(call_));
}

http::HeaderList Exchange::baseHeaders() const {
  http::HeaderList h;
  h.reserve(6);
  h.add("x-aigw-request-id", id_);
  return h;
}

void Exchange::sendJson(int status, std::string_view body) {
  if (done_) return;
  done_ = true;
  status_ = status;
  http::HeaderList h = baseHeaders();
  h.add("content-type", "application/json");
  writer_.respond(status, h, body);
}

void Exchange::sendError(int status, std::string_view message, std::string_view type, std::string_view code,
                         std::string_view param, const http::HeaderList* extra) {
  if (done_) return;
  done_ = true;
  status_ = status;
  http::HeaderList h = baseHeaders();
  h.add("content-type", "application/json");
  if (extra != nullptr) {
    for (const auto& x : *extra) h.add(x.name, x.value);
  }
  writer_.respond(status, h,
                  http::openAiErrorBody(message, type.empty() ? http::errorTypeForStatus(status) : type, code, param));
}

std::string_view Exchange::upstreamModel() const {
  if (api_.route != nullptr && !api_.route->upstream_model.empty()) return api_.route->upstream_model;
  return api_.model;
}

void Exchange::dispatch() {
  CallRequest req{api_.endpoint, request_, api_.body, api_.json_object, api_.model, upstreamModel(), api_.stream, id_, api_.path_suffix,
                  request_.body_streamed};
  ProviderCallPtr call = api_.provider->start(worker_.callContext(), req, *this);
  if (done_) {
    // Answered synchronously (zero-latency mock); nothing more will come from the call.
    if (call) worker_.loop().deferredDelete(std::move(call));
    return;
  }
  call_ = std::move(call);
  if (request_.body_streamed && call_) {
    if (!early_body_.empty()) {
      std::string early;
      early.swap(early_body_);
      call_->onRequestBody(early);
      writer_.resumeRequestBody();
    }
    if (early_end_ && call_) call_->onRequestEnd();
  }
}

void Exchange::onCallHead(int status, http::HeaderList headers, int64_t content_length) {
  if (done_) return;
  status_ = status;
  headers.add("x-aigw-request-id", id_);
  headers.add("x-aigw-provider", api_.provider->name());
  if (!api_.model.empty()) headers.add("x-aigw-model", std::string(upstreamModel()));
  const std::string* type = headers.find("content-type");
  event_stream_ = type != nullptr && type->find("text/event-stream") != std::string::npos;
  const bool has_body = status >= 200 && status != 204 && status != 304 && request_.method != "HEAD";
  if (!event_stream_ && has_body && content_length <= static_cast<int64_t>(kMaxHeldBody)) {
    held_ = std::make_unique<HeldResponse>(HeldResponse{status, std::move(headers), content_length, {}});
    if (content_length > 0) held_->body.reserve(static_cast<size_t>(content_length));
    return;
  }
  writer_.writeHead(status, headers, content_length);
}

void Exchange::releaseHeld() {
  std::unique_ptr<HeldResponse> held = std::move(held_);
  writer_.writeHead(held->status, held->headers, held->content_length);
  writer_.writeBody(held->body);
}

void Exchange::onCallBody(std::string_view data) {
  if (done_) return;
  if (held_) {
    held_->body.append(data);
    if (held_->body.size() > kMaxHeldBody) releaseHeld();  // too big to hold: relay the rest as it comes
    return;
  }
  writer_.writeBody(data);
}

void Exchange::onCallEnd(const CallUsage& usage) {
  if (done_) return;
  done_ = true;
  GatewayShared& shared = worker_.shared();
  if (usage.prompt_tokens > 0) shared.prompt_tokens.fetch_add(static_cast<uint64_t>(usage.prompt_tokens), std::memory_order_relaxed);
  if (usage.completion_tokens > 0) {
    shared.completion_tokens.fetch_add(static_cast<uint64_t>(usage.completion_tokens), std::memory_order_relaxed);
  }
  if (held_) {
    std::unique_ptr<HeldResponse> held = std::move(held_);
    writer_.respond(held->status, held->headers, held->body);
    return;
  }
  writer_.endResponse();
}

void Exchange::onCallError(CallErrorKind kind, std::string message) {
  if (done_) return;
  const std::string& provider = api_.provider->name();
  if (kind == CallErrorKind::Reset && worker_.config().server().mock_mode) {
    done_ = true;
    writer_.resetConnection();
    return;
  }
  held_.reset();  // an unfinished answer is not relayed: the client gets a clean error instead
  if (!writer_.headSent()) {
    const int status = kind == CallErrorKind::Timeout ? 504 : kind == CallErrorKind::Overflow ? 503 : 502;
    sendError(status, "provider '" + provider + "' failed: " + message, "upstream_error");
    return;
  }
  done_ = true;
  if (event_stream_) {
    // Bytes already reached the client: end the stream with an error event and a clean end.
    std::string event;
    http::appendSseEvent(event, http::openAiErrorBody("provider '" + provider + "' failed mid-stream: " + message,
                                                      "upstream_error"));
    writer_.writeBody(event);
    writer_.endResponse();
  } else {
    // A partial fixed-length body cannot be finished honestly: drop the connection.
    writer_.resetConnection();
  }
}

// After onClientGone the writer may already be freed (the call is deleted on the next idle
// turn, after timers have run): a finished exchange reports itself blocked so the call stops.
// While an answer is held nothing is written, so nothing can block.
bool Exchange::callBlocked() const { return done_ || (!held_ && writer_.writeBlocked()); }

}  // namespace aigw
