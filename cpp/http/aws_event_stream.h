// AWS event-stream framing (application/vnd.amazon.eventstream), the binary framing of Bedrock's
// ConverseStream answers: an incremental decoder for bytes split anywhere, and the encoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace aigw::http {

// One decoded message: the headers a reader of AWS streams needs (":message-type" is "event",
// "exception" or "error") and the payload. The views live until the callback returns.
struct AwsEventStreamMessage {
  std::string_view message_type;    // :message-type
  std::string_view event_type;      // :event-type (message-type event)
  std::string_view exception_type;  // :exception-type (message-type exception)
  std::string_view content_type;    // :content-type
  std::string_view error_code;      // :error-code (message-type error)
  std::string_view error_message;   // :error-message (message-type error)
  std::string_view payload;
};

// Frame: total length u32, headers length u32, CRC32 of those 8 bytes, the headers, the
// payload, CRC32 of everything before it (all big-endian). Both CRCs are checked. A message is
// decoded in place from the fed bytes when it arrived whole, and copied into one buffer only
// when it spans feeds; the buffer never holds more than one message (capped).
class AwsEventStreamDecoder {
 public:
  // AWS's own bound on one message (aws-c-event-stream: 16 MiB).
  static constexpr size_t kMaxMessageBytes = 16u << 20;
  using Callback = void (*)(void* ctx, const AwsEventStreamMessage& message);

  AwsEventStreamDecoder(Callback cb, void* ctx, size_t max_message_bytes = kMaxMessageBytes)
      : cb_(cb), ctx_(ctx), max_(max_message_bytes) {}

  // Decodes what `bytes` completes. Returns false once the stream is broken (a bad CRC, a
  // length out of bounds, a malformed header): the decoder then stops and error() says why.
  bool feed(std::string_view bytes);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // True between messages: a stream that ends while this is false was cut inside a message.
  bool idle() const { return partial_.empty(); }

 private:
  // The length of the message at the start of `bytes` once its prelude is there and valid; 0
  // while the prelude is incomplete or after a failure.
  size_t messageLength(std::string_view bytes);
  bool decode(std::string_view message);
  bool fail(std::string_view why);

  Callback cb_;
  void* ctx_;
  size_t max_;
  std::string partial_;  // a message that spans feeds, up to its end
  std::string error_;
};

// A header for the encoder; every header it writes is of type string (7), all Bedrock sends.
struct AwsEventStreamHeader {
  std::string_view name;
  std::string_view value;
};

// Appends one framed message. Names over 255 bytes and values over 65535 bytes are cut (the
// encoder is for the mock and tests, which write AWS's short header names).
void appendEventStreamMessage(std::string& out, std::initializer_list<AwsEventStreamHeader> headers,
                              std::string_view payload);
// An event: :event-type `type`, :content-type application/json, :message-type event.
void appendEventStreamEvent(std::string& out, std::string_view type, std::string_view json_payload);
// An exception: :exception-type `type`, :content-type application/json, :message-type exception.
void appendEventStreamException(std::string& out, std::string_view type, std::string_view json_payload);

}  // namespace aigw::http
