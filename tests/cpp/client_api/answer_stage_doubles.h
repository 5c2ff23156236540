// What the ClientAnswerStage tests write into and answer from: a wire that keeps what reached
// the client, and an answer source whose shape a test sets (same-API or OpenAI-shaped).
#pragma once

#include <string>
#include <string_view>

#include "http/exchange_api.h"
#include "pipeline/answer_source.h"

namespace aigw::testing_doubles {

class Wire final : public http::ResponseWriter {
 public:
  void respond(int s, const http::HeaderList& h, std::string_view b) override {
    status = s;
    head = h;
    type = h.find("content-type") ? *h.find("content-type") : "";
    body = b;
    ended = true;
  }
  void writeHead(int s, const http::HeaderList& h, int64_t) override {
    status = s;
    head = h;
    type = h.find("content-type") ? *h.find("content-type") : "";
  }
  void writeBody(std::string_view d) override { body += d; }
  void endResponse() override { ended = true; }
  void resetConnection() override {}
  bool writeBlocked() const override { return false; }
  bool headSent() const override { return status != 0; }
  void pauseRequestBody() override {}
  void resumeRequestBody() override {}

  int status = 0;
  http::HeaderList head;
  std::string type;
  std::string body;
  bool ended = false;
};

class Source final : public AnswerSource {
 public:
  void stopAnswer() override {}
  bool abandonAnswer(std::string_view) override { return false; }
  void resumeAnswer() override {}
  void answerComplete() override {}
  void answeredBy(std::string_view*, const Provider**) const override {}
  ApiShape answerShape() const override { return shape; }
  const router::Route* currentRoute() const override { return nullptr; }
  ApiShape shape = ApiShape::OpenAi;
};

}  // namespace aigw::testing_doubles
