// How the answers the gateway writes in OpenAI's shape reach a client that speaks another API:
// one encoder per answer, used by the ClientAnswerStage. Whole answers and errors are encoded
// once complete, streams event by event.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/call.h"
#include "http/headers.h"
#include "translate/api_errors.h"
#include "translate/translation.h"

namespace aigw {

class ClientEncoder {
 public:
  virtual ~ClientEncoder() = default;
  // An OpenAI-shaped error answer (status, body) in the client's shape and statuses.
  virtual translate::ApiError error(int status, std::string_view openai_body) const = 0;
  // The gateway's own error (a bad gateway, an answer too large): in the client's shape.
  virtual std::string errorBody(int status, std::string_view message) const = 0;
  // Header fields an error answer carries besides its body (Bedrock names its exception in one).
  virtual void addErrorHeaders(int /*status*/, http::HeaderList& /*headers*/) const {}
  // A whole chat.completion, appended to `out` in the client's shape.
  virtual translate::Translation answer(const nlohmann::json& openai, std::string& out) const = 0;
  // Streams: the content type of the client's stream, then each OpenAI event's data, then the end.
  virtual std::string_view streamType() const { return "text/event-stream"; }
  virtual void beginStream() = 0;  // a new stream (a retry restarts it)
  virtual void streamEvent(std::string_view openai_data, std::string& out) = 0;
  virtual void endStream(std::string& out) = 0;  // what closes the stream, unless it ended
  virtual bool streamEnded() const = 0;
};

// The stream half every encoder shares: one of translate's stream encoders per stream
// (onEvent, finish, ended), begun anew for each attempt.
template <typename StreamEncoder>
class StreamingClientEncoder : public ClientEncoder {
 public:
  void beginStream() override { stream_.emplace(); }
  void streamEvent(std::string_view data, std::string& out) override { stream_->onEvent(data, out); }
  void endStream(std::string& out) override {
    if (!stream_->ended()) stream_->finish(out);
  }
  bool streamEnded() const override { return stream_->ended(); }

 private:
  std::optional<StreamEncoder> stream_;
};

// The encoder for a client API (null for OpenAI's, which needs none).
std::unique_ptr<ClientEncoder> clientEncoder(ApiShape client);

}  // namespace aigw
