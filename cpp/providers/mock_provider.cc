#include "providers/mock_provider.h"

#include <memory>

#include "core/clock.h"
#include "core/timer.h"
#include "http/response.h"
#include "http/sse.h"
#include "providers/local_answer.h"
#include "providers/mock_bodies.h"
#include "providers/usage.h"

namespace aigw {
namespace {

http::HeaderList jsonHeaders() {
  http::HeaderList h;
  h.add("content-type", "application/json");
  return h;
}

class MockCall final : public ProviderCall {
 public:
  MockCall(CallContext& ctx, CallObserver& observer, MockKnobs knobs)
      : ctx_(ctx), obs_(observer), knobs_(std::move(knobs)) {}

  void begin(const CallRequest& req);
  void resume() override {
    if (!waiting_writable_) return;
    waiting_writable_ = false;
    streamNext();
  }

 private:
  enum class Next { Whole, Error, Stream };

  void after(int64_t ms, Next next);
  void run();
  void answerError(int status, std::string_view message, std::string_view code);
  void answerWhole();
  void streamNext();
  size_t totalEvents() const;
  std::string eventAt(size_t index, int64_t* delay_ms) const;

  CallContext& ctx_;
  CallObserver& obs_;
  MockKnobs knobs_;
  std::unique_ptr<Timer> timer_;
  Next next_ = Next::Whole;
  int error_status_ = 0;

  mock::Completion completion_;
  mock::EmbeddingRequest embedding_;
  bool stream_ = false;
  bool include_usage_ = false;
  bool head_sent_ = false;
  bool delay_done_ = false;
  bool waiting_writable_ = false;
  bool finished_ = false;
  size_t next_event_ = 0;
  int64_t sent_events_ = 0;
};

void MockCall::begin(const CallRequest& call) {
  // The mock reads many fields: it takes the whole document (parsed once, here).
  struct View {
    Endpoint endpoint;
    const nlohmann::json& body;
    std::string_view upstream_model;
    bool stream;
    std::string_view request_id;
  } req{call.endpoint, call.body.get(), call.upstream_model, call.stream, call.request_id};
  completion_.endpoint = req.endpoint;
  completion_.model = std::string(req.upstream_model);
  completion_.created = static_cast<int64_t>(wallSeconds());
  completion_.prompt_tokens = estimatePromptTokens(req.endpoint, req.body);
  stream_ = req.stream && req.endpoint != Endpoint::Embeddings;

  if (req.endpoint == Endpoint::Embeddings) {
    embedding_.model = completion_.model;
    embedding_.dimensions = knobs_.embedding_dimensions;
    std::string error;
    if (!mock::parseEmbeddingInput(req.body, &embedding_, &error)) {
      answerError(400, error, "invalid_value");
      return;
    }
  } else {
    completion_.id = (req.endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-") + std::string(req.request_id.substr(4));
    if (auto n = req.body.find("n"); n != req.body.end() && !n->is_null()) {
      if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > 128) {
        answerError(400, "'n' must be an integer from 1 to 128", "invalid_value");
        return;
      }
      completion_.choices = static_cast<int>(n->get<int64_t>());
    }
    completion_.pieces = mock::completionPieces(knobs_.response ? &*knobs_.response : nullptr, knobs_.chunks);
    if (req.endpoint == Endpoint::ChatCompletions &&
        mock::pickToolCall(req.body, &completion_.tool_name, &completion_.tool_arguments)) {
      completion_.pieces.clear();  // the answer is the call
      completion_.finish_reason = "tool_calls";
    }
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
      auto it = req.body.find(key);
      if (it == req.body.end() || it->is_null()) continue;
      if (!it->is_number_integer() || it->get<int64_t>() < 1) {
        answerError(400, std::string("'") + key + "' must be a positive integer", "invalid_value");
        return;
      }
      if (static_cast<size_t>(it->get<int64_t>()) < completion_.pieces.size()) {
        completion_.pieces.resize(static_cast<size_t>(it->get<int64_t>()));
        completion_.finish_reason = "length";
      }
      break;
    }
    include_usage_ = asksForStreamUsage(req.body);
  }

  int status = knobs_.status;
  if (status < 400 && knobs_.error_rate > 0.0) {
    std::uniform_real_distribution<double> roll(0.0, 1.0);
    if (roll(ctx_.rng) < knobs_.error_rate) status = 500;
  }
  if (status >= 400) {
    error_status_ = status;
    after(knobs_.latency_ms, Next::Error);
  } else if (stream_) {
    after(knobs_.latency_ms + knobs_.ttft_ms, Next::Stream);
  } else {
    after(knobs_.latency_ms, Next::Whole);
  }
}

void MockCall::after(int64_t ms, Next next) {
  next_ = next;
  if (ms <= 0) {
    run();
    return;
  }
  if (!timer_) timer_ = std::make_unique<Timer>(ctx_.loop.uv(), [this] { run(); });
  timer_->start(static_cast<uint64_t>(ms));
}

void MockCall::run() {
  switch (next_) {
    case Next::Error: {
      std::string code = knobs_.error_code;
      if (code.empty()) code = error_status_ == 429 ? "rate_limit_exceeded" : error_status_ >= 500 ? "server_error" : "";
      std::string message = "mock provider: simulated " + std::to_string(error_status_) + " error";
      if (!knobs_.error_code.empty()) message += " (" + knobs_.error_code + ")";
      answerError(error_status_, message, code);
      return;
    }
    case Next::Whole:
      answerWhole();
      return;
    case Next::Stream:
      delay_done_ = true;  // the first delay (latency + ttft) has passed
      streamNext();
      return;
  }
}

void MockCall::answerError(int status, std::string_view message, std::string_view code) {
  http::HeaderList h = jsonHeaders();
  if (knobs_.retry_after >= 0) h.add("retry-after", std::to_string(knobs_.retry_after));
  std::string body = http::openAiErrorBody(message, http::errorTypeForStatus(status), code);
  obs_.onCallHead(status, std::move(h), static_cast<int64_t>(body.size()));
  obs_.onCallBody(body);
  obs_.onCallEnd(CallUsage{});
}

void MockCall::answerWhole() {
  if (knobs_.reset_after >= 0) {
    obs_.onCallError(CallErrorKind::Reset, "mock provider: simulated connection reset");
    return;
  }
  if (knobs_.stall_after >= 0) return;  // hold the request open, never answer
  std::string body;
  CallUsage usage;
  if (completion_.endpoint == Endpoint::Embeddings) {
    body = mock::embeddingsBody(embedding_, completion_.prompt_tokens);
    usage.prompt_tokens = completion_.prompt_tokens;
    usage.completion_tokens = 0;
  } else {
    body = mock::completionBody(completion_);
    usage.prompt_tokens = completion_.prompt_tokens;
    usage.completion_tokens = completion_.completion_tokens();
  }
  obs_.onCallHead(200, jsonHeaders(), static_cast<int64_t>(body.size()));
  obs_.onCallBody(body);
  obs_.onCallEnd(usage);
}

size_t MockCall::totalEvents() const {
  const size_t n = static_cast<size_t>(completion_.choices);
  const size_t roles = completion_.endpoint == Endpoint::ChatCompletions ? n : 0;
  return roles + completion_.pieces.size() * n + n + (include_usage_ ? 1 : 0) + 1;
}

std::string MockCall::eventAt(size_t i, int64_t* delay_ms) const {
  const size_t n = static_cast<size_t>(completion_.choices);
  const bool chat = completion_.endpoint == Endpoint::ChatCompletions;
  std::string out;
  *delay_ms = 0;
  if (chat) {
    if (i < n) {
      http::appendSseEvent(out, mock::completionChunk(completion_, static_cast<int>(i), {}, true, false, include_usage_));
      return out;
    }
    i -= n;
  }
  const size_t contents = completion_.pieces.size() * n;
  if (i < contents) {
    const size_t piece = i / n;
    const size_t choice = i % n;
    if (choice == 0 && piece > 0) *delay_ms = knobs_.chunk_delay_ms;
    http::appendSseEvent(out, mock::completionChunk(completion_, static_cast<int>(choice), completion_.pieces[piece],
                                                    false, false, include_usage_));
    return out;
  }
  i -= contents;
  if (i < n) {
    http::appendSseEvent(out, mock::completionChunk(completion_, static_cast<int>(i), {}, false, true, include_usage_));
    return out;
  }
  i -= n;
  if (include_usage_ && i == 0) {
    http::appendSseEvent(out, mock::usageChunk(completion_));
    return out;
  }
  out.append(http::kSseDone);
  return out;
}

void MockCall::streamNext() {
  if (finished_) return;
  if (head_sent_ && obs_.callBlocked()) {
    waiting_writable_ = true;
    return;
  }
  std::string batch;
  bool usage_in_batch = false;
  auto flush = [&] {
    if (!head_sent_) {
      head_sent_ = true;
      http::HeaderList h;
      h.add("content-type", "text/event-stream; charset=utf-8");
      h.add("cache-control", "no-cache");
      obs_.onCallHead(200, std::move(h), -1);
    }
    if (usage_in_batch) {
      usage_in_batch = false;  // like an upstream: the usage is known once its event is relayed
      obs_.onCallUsage(CallUsage{completion_.prompt_tokens, completion_.completion_tokens()});
    }
    if (!batch.empty()) {
      obs_.onCallBody(batch);
      batch.clear();
    }
  };
  const size_t total = totalEvents();
  while (next_event_ < total) {
    if (knobs_.reset_after >= 0 && sent_events_ >= knobs_.reset_after) {
      if (sent_events_ > 0) flush();
      finished_ = true;
      obs_.onCallError(CallErrorKind::Reset, "mock provider: simulated connection reset");
      return;
    }
    if (knobs_.stall_after >= 0 && sent_events_ >= knobs_.stall_after) {
      flush();
      return;  // stalled: hold the stream open with nothing more to send
    }
    int64_t delay = 0;
    std::string event = eventAt(next_event_, &delay);
    if (delay > 0 && !delay_done_) {
      flush();
      after(delay, Next::Stream);
      return;
    }
    delay_done_ = false;
    if (include_usage_ && next_event_ + 2 == total) usage_in_batch = true;  // the usage chunk
    batch += event;
    ++next_event_;
    ++sent_events_;
    if (batch.size() >= 16 * 1024) {
      flush();
      if (obs_.callBlocked()) {
        waiting_writable_ = true;
        return;
      }
    }
  }
  flush();
  finished_ = true;
  obs_.onCallEnd(CallUsage{completion_.prompt_tokens, completion_.completion_tokens()});
}

}  // namespace

ProviderCallPtr MockProvider::start(CallContext& ctx, const CallRequest& request, CallObserver& observer) const {
  if (request.endpoint == Endpoint::Passthrough) {
    return answerNow(observer, 404,
                     http::openAiErrorBody("Invalid URL (" + request.http.method + " " +
                                               std::string(request.http.path()) + "): the mock provider does not serve it",
                                           "invalid_request_error", "unknown_url"));
  }
  if (request.endpoint == Endpoint::CountTokens) return answerTokenEstimate(request, observer);
  MockKnobs knobs = defaults_;
  std::string error;
  if (!knobs.applyHeaders(request.http.headers, &error)) {
    return answerNow(observer, 400, http::openAiErrorBody(error, "invalid_request_error", "invalid_mock_knob"));
  }
  auto call = std::make_unique<MockCall>(ctx, observer, std::move(knobs));
  call->begin(request);
  return call;
}

void MockProvider::describe(nlohmann::json& out) const {
  out["latency_ms"] = defaults_.latency_ms;
  out["chunks"] = defaults_.chunks;
}

}  // namespace aigw
