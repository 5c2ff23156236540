#include "guardrails/answer_gate.h"

namespace aigw::guardrails {

void AnswerGate::respond(int status, const http::HeaderList& headers, std::string_view body) {
  if (!closed_) return next_.respond(status, headers, body);
  head_ = true;
  status_ = status;
  headers_ = headers;
  body_.assign(body);
  end_ = End::Respond;
}

void AnswerGate::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  if (!closed_) return next_.writeHead(status, headers, content_length);
  head_ = true;
  status_ = status;
  headers_ = headers;
  content_length_ = content_length;
}

void AnswerGate::writeBody(std::string_view data) {
  if (!closed_) return next_.writeBody(data);
  body_.append(data);
}

void AnswerGate::endResponse() {
  if (!closed_) return next_.endResponse();
  end_ = End::End;
}

void AnswerGate::resetConnection() {
  if (!closed_) return next_.resetConnection();
  end_ = End::Reset;
}

void AnswerGate::open() {
  if (!closed_) return;
  closed_ = false;
  // Moved out first: a write may end the response, after which nothing here is touched.
  const bool head = head_;
  const End end = end_;
  const int status = status_;
  const int64_t length = content_length_;
  http::HeaderList headers = std::move(headers_);
  std::string body = std::move(body_);
  clear();
  if (end == End::Respond) {
    next_.respond(status, headers, body);
    return;
  }
  if (head) next_.writeHead(status, headers, length);
  if (!body.empty()) next_.writeBody(body);
  if (end == End::End) next_.endResponse();
  if (end == End::Reset) next_.resetConnection();
}

void AnswerGate::discard() {
  closed_ = false;
  clear();
}

void AnswerGate::clear() {
  head_ = false;
  status_ = 0;
  headers_.clear();
  content_length_ = -1;
  std::string().swap(body_);
  end_ = End::None;
}

}  // namespace aigw::guardrails
