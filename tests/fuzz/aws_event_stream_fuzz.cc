// AwsEventStreamDecoder on arbitrary bytes, and the Bedrock stream decoder behind it.
// Properties: the messages and the failure do not depend on how the bytes were split (whole,
// cut at random places, byte by byte); a failure comes with a reason and stops decoding; each
// message re-encoded from what was read decodes to the same; and the BedrockStreamDecoder fed
// those messages writes SSE events of JSON that, after finish(), end exactly once ([DONE] or an
// error chunk).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/aws_event_stream.h"
#include "translate/bedrock_stream_decoder.h"
#include "translate_checks.h"

namespace {

using aigw::http::AwsEventStreamDecoder;
using aigw::http::AwsEventStreamMessage;

struct Message {
  std::string message_type, event_type, exception_type, content_type, error_code, error_message, payload;
  bool operator==(const Message&) const = default;
};

struct Decoded {
  std::vector<Message> messages;
  std::string error;
  bool idle = true;
  bool operator==(const Decoded&) const = default;
};

void collect(void* ctx, const AwsEventStreamMessage& m) {
  static_cast<std::vector<Message>*>(ctx)->push_back(
      {std::string(m.message_type), std::string(m.event_type), std::string(m.exception_type),
       std::string(m.content_type), std::string(m.error_code), std::string(m.error_message), std::string(m.payload)});
}

// A small cap, so that the fuzzer reaches the limit without megabytes of input.
constexpr size_t kCap = 4096;

Decoded decode(const std::vector<std::string_view>& pieces, size_t cap = kCap) {
  Decoded out;
  AwsEventStreamDecoder decoder(&collect, &out.messages, cap);
  bool ok = true;
  for (std::string_view piece : pieces) {
    const bool fed = decoder.feed(piece);
    FUZZ_CHECK(ok || !fed, "the decoder accepted bytes after it failed");
    ok = ok && fed;
  }
  FUZZ_CHECK(decoder.failed() == !ok, "failed() disagrees with feed()");
  FUZZ_CHECK(!decoder.failed() || !decoder.error().empty(), "a failure without a reason");
  out.error = decoder.error();
  out.idle = decoder.idle();
  return out;
}

void checkReencoding(const Message& m) {
  std::string frame;
  aigw::http::appendEventStreamMessage(frame,
                                       {{":message-type", m.message_type},
                                        {":event-type", m.event_type},
                                        {":exception-type", m.exception_type},
                                        {":content-type", m.content_type},
                                        {":error-code", m.error_code},
                                        {":error-message", m.error_message}},
                                       m.payload);
  const Decoded again = decode({frame}, AwsEventStreamDecoder::kMaxMessageBytes);
  FUZZ_CHECK(again.error.empty() && again.messages.size() == 1 && again.messages[0] == m,
             "a re-encoded message did not decode to itself: %s", again.error.c_str());
}

void checkBedrockStream(const std::vector<Message>& messages) {
  aigw::translate::BedrockStreamDecoder decoder(1, "m", true, "r");
  std::string out;
  for (const Message& m : messages) {
    if (m.message_type == "exception")
      decoder.onException(m.exception_type, m.payload, out);
    else if (m.message_type == "error")
      decoder.onException(m.error_code, m.error_message, out);
    else
      decoder.onEvent(m.event_type, m.payload, out);
  }
  decoder.finish(out);
  FUZZ_CHECK(decoder.ended(), "finish() left the stream open");
  const auto events = aigw::fuzz::outputEvents(out);
  FUZZ_CHECK(!events.empty(), "no output at all");
  size_t endings = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const bool ending = events[i].data.is_null() || events[i].data.contains("error");
    endings += ending;
    FUZZ_CHECK(!ending || i + 1 == events.size(), "an ending before the last event (%zu of %zu)", i, events.size());
  }
  FUZZ_CHECK(endings == 1, "%zu endings", endings);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Decoded whole = decode({input});
  const Decoded cut = decode(aigw::fuzz::piecesAt(input, aigw::fuzz::cutPoints(input, 16)));
  FUZZ_CHECK(cut == whole, "random cuts changed the result");
  if (size <= 2048) {
    const Decoded bytes = decode(aigw::fuzz::piecesAt(input, aigw::fuzz::everyByte(input)));
    FUZZ_CHECK(bytes == whole, "byte-by-byte feeding changed the result");
  }
  for (const Message& m : whole.messages) checkReencoding(m);
  checkBedrockStream(whole.messages);
  return 0;
}
