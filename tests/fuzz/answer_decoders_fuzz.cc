// The provider-side answer decoders (providers/*_answer_decoder: Anthropic SSE, Gemini SSE,
// Bedrock event-stream frames) and the client-side ClientAnswerStage (Anthropic) on arbitrary upstream
// bytes, cut in input-chosen places. Properties:
//  - nothing crashes, whatever the bytes and wherever they are cut;
//  - a decoder fed a stream and then finished wrote SSE that ends in exactly one way: the last
//    event is "data: [DONE]" or an error chunk, and nothing follows it;
//  - the same bytes cut differently decode to the same output;
//  - whole answers decode to JSON objects or are refused with a reason; errors always become an
//    OpenAI error body with a status;
//  - the Anthropic answer stage always hands the wire a status and a JSON body (whole answers),
//    or SSE whose last event is message_stop or error.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "client_api/client_answer_stage.h"
#include "fuzz_check.h"
#include "providers/anthropic_answer_decoder.h"
#include "providers/bedrock_answer_decoder.h"
#include "providers/gemini_answer_decoder.h"

namespace {

using nlohmann::json;

std::unique_ptr<aigw::AnswerDecoder> decoder(int which) {
  switch (which) {
    case 0: return std::make_unique<aigw::AnthropicAnswerDecoder>(1, true);
    case 1: {
      aigw::GeminiAnswerDecoder::Options o;
      o.created = 1;
      o.model = "gemini";
      o.include_usage = true;
      return std::make_unique<aigw::GeminiAnswerDecoder>(o);
    }
    default: {
      aigw::BedrockAnswerDecoder::Options o;
      o.created = 1;
      o.model = "bedrock";
      o.include_usage = true;
      o.id = "req_1";
      return std::make_unique<aigw::BedrockAnswerDecoder>(o);
    }
  }
}

std::string decodeStream(int which, std::string_view data, const std::vector<size_t>& cuts) {
  auto d = decoder(which);
  std::string out;
  for (std::string_view piece : aigw::fuzz::piecesAt(data, cuts)) d->feed(piece, out);
  d->finish(out);
  return out;
}

// The last SSE event of `out` and that nothing follows an ending.
void checkEnding(std::string_view out) {
  FUZZ_CHECK(out.size() >= 2 && out.substr(out.size() - 2) == "\n\n", "the stream does not end an event: %.*s",
             static_cast<int>(std::min<size_t>(out.size(), 200)), out.data());
  const size_t last = out.rfind("data: ", out.size() - 2);
  FUZZ_CHECK(last != std::string_view::npos, "no event at all");
  const std::string_view event = out.substr(last + 6, out.size() - 2 - last - 6);
  if (event == "[DONE]") return;
  const json doc = json::parse(event, nullptr, false);
  FUZZ_CHECK(doc.is_object() && doc.contains("error"), "the last event is neither [DONE] nor an error: %.*s",
             static_cast<int>(std::min<size_t>(event.size(), 200)), event.data());
}

class Wire final : public aigw::http::ResponseWriter {
 public:
  void respond(int s, const aigw::http::HeaderList&, std::string_view b) override {
    status = s;
    body = b;
    whole = true;
  }
  void writeHead(int s, const aigw::http::HeaderList&, int64_t) override { status = s; }
  void writeBody(std::string_view d) override { body += d; }
  void endResponse() override { ended = true; }
  void resetConnection() override {}
  bool writeBlocked() const override { return false; }
  bool headSent() const override { return status != 0; }
  void pauseRequestBody() override {}
  void resumeRequestBody() override {}
  int status = 0;
  std::string body;
  bool whole = false;
  bool ended = false;
};

void checkAnthropicStage(std::string_view data, const std::vector<size_t>& cuts, bool stream) {
  Wire wire;
  aigw::ResponseStage bottom(wire);
  aigw::ClientAnswerStage stage(bottom, aigw::clientEncoder(aigw::ApiShape::Anthropic));
  aigw::http::HeaderList head;
  head.add("content-type", stream ? "text/event-stream" : "application/json");
  stage.writeHead(200, head, -1);
  for (std::string_view piece : aigw::fuzz::piecesAt(data, cuts)) stage.writeBody(piece);
  stage.endResponse();
  if (!stream) {
    FUZZ_CHECK(wire.whole && wire.status != 0, "a whole answer got no status");
    FUZZ_CHECK(json::parse(wire.body, nullptr, false).is_object(), "a whole answer is no JSON object");
    return;
  }
  FUZZ_CHECK(wire.ended, "the stream was not ended");
  const size_t last = wire.body.rfind("event: ");
  FUZZ_CHECK(last != std::string::npos, "no Anthropic event at all");
  const std::string_view name = std::string_view(wire.body).substr(last + 7, wire.body.find('\n', last) - last - 7);
  FUZZ_CHECK(name == "message_stop" || name == "error", "the stream ends with %.*s", static_cast<int>(name.size()),
             name.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const std::vector<size_t> cuts = aigw::fuzz::cutPoints(data, 16);
  for (int which = 0; which < 3; ++which) {
    const std::string once = decodeStream(which, data, {});
    checkEnding(once);
    FUZZ_CHECK(decodeStream(which, data, cuts) == once, "decoder %d: the cuts changed the output", which);
    auto d = decoder(which);
    std::string out, why;
    if (d->decode(data, out, &why)) {
      FUZZ_CHECK(json::parse(out, nullptr, false).is_object(), "decoder %d: a whole answer is no JSON object", which);
    } else {
      FUZZ_CHECK(!why.empty(), "decoder %d: a refusal without a reason", which);
    }
    const aigw::translate::ApiError e = d->error(400 + static_cast<int>(size % 200), {}, data);
    FUZZ_CHECK(e.status >= 400 && json::parse(e.body, nullptr, false).contains("error"),
               "decoder %d: an error answer is no OpenAI error", which);
  }
  checkAnthropicStage(data, cuts, false);
  checkAnthropicStage(data, cuts, true);
  return 0;
}
