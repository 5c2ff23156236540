#include "upstream/response_relay.h"

namespace aigw::upstream {

void ResponseRelay::begin(UpstreamExchange* exchange, bool head_request) {
  exchange_ = exchange;
  active_ = true;
  reusable_ = false;
  parser_.reset(this, head_request);
}

UpstreamExchange* ResponseRelay::detach() {
  UpstreamExchange* ex = exchange_;
  exchange_ = nullptr;
  return ex;
}

void ResponseRelay::onHead(int status, http::HeaderList& headers, int64_t content_length) {
  if (exchange_ != nullptr) exchange_->onResponseHead(status, headers, content_length);
}

void ResponseRelay::onBody(std::string_view data) {
  if (exchange_ != nullptr) exchange_->onResponseBody(data);
}

void ResponseRelay::onComplete(bool keep_alive) {
  reusable_ = keep_alive;
  ++served_;
  active_ = false;
  // The exchange may begin() the next request from inside its callback (a pooled connection
  // handed straight to a waiter).
  UpstreamExchange* ex = detach();
  if (ex != nullptr) ex->onResponseComplete();
}

}  // namespace aigw::upstream
