// Answers of Bedrock's Converse API in OpenAI's shape (the AnswerDecoder of kind: bedrock): a
// Converse response, a ConverseStream of event-stream frames, and AWS's errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/aws_event_stream.h"
#include "providers/answer_decoder.h"
#include "translate/bedrock_stream_decoder.h"

namespace aigw {

class BedrockAnswerDecoder final : public AnswerDecoder {
 public:
  struct Options {
    int64_t created = 0;
    std::string_view model;
    bool include_usage = false;
    std::string_view id;  // names the chat.completion (Converse sends none)
  };

  explicit BedrockAnswerDecoder(const Options& o)
      : created_(o.created), model_(o.model), id_(o.id), stream_(o.created, model_, o.include_usage, id_),
        frames_(&BedrockAnswerDecoder::onMessage, this) {}

  bool streams(const http::HeaderList& headers) const override;
  void feed(std::string_view data, std::string& out) override;
  void finish(std::string& out) override;
  bool decode(std::string_view body, std::string& out, std::string* why) override;
  translate::ApiError error(int status, const http::HeaderList& headers, std::string_view body) override;
  const translate::TokenUsage& usage() const override { return whole_ ? usage_ : stream_.usage(); }

 private:
  static void onMessage(void* self, const http::AwsEventStreamMessage& message);
  void broken(std::string_view why, std::string& out);

  int64_t created_;
  std::string model_;
  std::string id_;
  translate::BedrockStreamDecoder stream_;
  http::AwsEventStreamDecoder frames_;
  std::string* out_ = nullptr;
  translate::TokenUsage usage_;
  bool whole_ = false;
};

}  // namespace aigw
