// One request's journey through the gateway: the pipeline position, what the API request
// asked for, the provider call answering it, and the relay of that answer to the client.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "gateway/api_body.h"
#include "http/exchange_api.h"
#include "providers/provider.h"

namespace aigw {

class Worker;
class GatewayConfig;
struct ModelEntry;

// What an OpenAI-style API request asks for, filled in by the API request filter.
struct ApiCall {
  Endpoint endpoint = Endpoint::ChatCompletions;
  LazyJson body;            // the request's JSON, parsed only if a stage asks for it
  bool json_object = false; // the body is a JSON object (always, for the three API endpoints)
  std::string model;
  bool stream = false;
  const ModelEntry* route = nullptr;   // null for a passthrough that names no model
  const Provider* provider = nullptr;  // who answers: the route's provider or the default one
  std::string path_suffix;             // Passthrough: the target after "/v1"
};

class Exchange final : public http::RequestHandler, public CallObserver {
 public:
  Exchange(Worker& worker, http::Request&& request, http::ResponseWriter& writer);
  ~Exchange() override;

  // http::RequestHandler
  void start() override;
  void onClientGone() override;
  void onWritable() override;
  void onRequestBody(std::string_view data) override;
  void onRequestEnd() override;

  // Runs the filters from the current position until one stops iteration.
  void continuePipeline();
  // A stage that stops iteration for async work hands that work over here: it is destroyed
  // (and must then cancel itself) if the exchange ends first, or released once the work calls
  // continuePipeline().
  void park(DeferredDeletablePtr work);

  http::Request& request() { return request_; }
  const std::string& id() const { return id_; }
  Worker& worker() { return worker_; }
  const GatewayConfig& config() const;
  ApiCall& api() { return api_; }
  uint64_t startNs() const { return start_ns_; }

  // Answers and ends the exchange.
  void sendJson(int status, std::string_view body);
  // An OpenAI-shaped error; empty `type` derives it from the status.
  void sendError(int status, std::string_view message, std::string_view type = {}, std::string_view code = {},
                 std::string_view param = {}, const http::HeaderList* extra = nullptr);
  // Starts the provider call for api(); the answer is relayed as it arrives.
  void dispatch();

  // CallObserver
  void onCallHead(int status, http::HeaderList headers, int64_t content_length) override;
  void onCallBody(std::string_view data) override;
  void onCallEnd(const CallUsage& usage) override;
  void onCallError(CallErrorKind kind, std::string message) override;
  bool callBlocked() const override;
  void pauseRequestBody(bool pause) override;

  // Answers that are not event streams are held until complete (up to this size), so a
  // failure before the end is still a clean error response, and the answer goes out in one write.
  static constexpr size_t kMaxHeldBody = 8 << 20;

  bool bodyStreamed() const { return request_.body_streamed; }

 private:
  http::HeaderList baseHeaders() const;
  std::string_view upstreamModel() const;
  void releaseCall();
  void releaseHeld();

  struct HeldResponse {
    int status;
    http::HeaderList headers;
    int64_t content_length;
    std::string body;
  };

  Worker& worker_;
  http::Request request_;
  http::ResponseWriter& writer_;
  std::string id_;
  uint64_t start_ns_;
  size_t next_filter_ = 0;
  ApiCall api_;
  ProviderCallPtr call_;
  DeferredDeletablePtr parked_;
  bool event_stream_ = false;      // the provider's answer is text/event-stream
  std::unique_ptr<HeldResponse> held_;
  std::string early_body_;         // streamed body that arrived before the provider call existed
  bool early_end_ = false;
  bool done_ = false;
  int status_ = 0;
};

}  // namespace aigw
