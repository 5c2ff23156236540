// Answers of the Gemini API in OpenAI's shape (the AnswerDecoder of kind: gemini): generateContent
// answers, streamGenerateContent?alt=sse events, batchEmbedContents answers and Google's errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/sse.h"
#include "providers/answer_decoder.h"
#include "translate/gemini_stream_decoder.h"

namespace aigw {

class GeminiAnswerDecoder final : public AnswerDecoder {
 public:
  struct Options {
    int64_t created = 0;
    std::string_view model;  // the attempt's model (outlives the call: the route's or the request's)
    bool include_usage = false;
    bool embeddings = false;
    bool base64 = false;  // embeddings asked with encoding_format base64
  };

  explicit GeminiAnswerDecoder(const Options& o)
      : options_(o), model_(o.model), stream_(o.created, model_, o.include_usage),
        sse_(&GeminiAnswerDecoder::onEvent, this) {}

  bool streams(const http::HeaderList& headers) const override { return http::isEventStream(headers); }
  void feed(std::string_view data, std::string& out) override;
  void finish(std::string& out) override { stream_.finish(out); }
  bool decode(std::string_view body, std::string& out, std::string* why) override;
  translate::ApiError error(int status, const http::HeaderList& headers, std::string_view body) override;
  const translate::TokenUsage& usage() const override { return whole_ ? usage_ : stream_.usage(); }

 private:
  static void onEvent(void* self, const http::SseDecoder::Event& event);

  Options options_;
  std::string model_;
  translate::GeminiStreamDecoder stream_;
  http::SseDecoder sse_;
  std::string* out_ = nullptr;
  translate::TokenUsage usage_;
  bool whole_ = false;
};

}  // namespace aigw
