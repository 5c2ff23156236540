#include "http/aws_event_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace aigw::http {
namespace {

struct Seen {
  std::string message_type, event_type, exception_type, content_type, error_code, error_message, payload;
};

struct Collector {
  std::vector<Seen> seen;
  AwsEventStreamDecoder decoder;

  explicit Collector(size_t max = AwsEventStreamDecoder::kMaxMessageBytes)
      : decoder(
            [](void* ctx, const AwsEventStreamMessage& m) {
              static_cast<Collector*>(ctx)->seen.push_back(
                  {std::string(m.message_type), std::string(m.event_type), std::string(m.exception_type),
                   std::string(m.content_type), std::string(m.error_code), std::string(m.error_message),
                   std::string(m.payload)});
            },
            this, max) {}
};

std::string fromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// AWS's published vector for a message with no headers and no payload.
const std::string kEmptyMessage = fromHex("000000100000000005c248eb7d98c8ff");

// Every header type (bool true/false, byte, short, int, long, bytes, string, timestamp, uuid),
// framed by Python's zlib and struct and read back by botocore's EventStreamBuffer.
const std::string kEveryHeaderType(
    "\x00\x00\x01\x08\x00\x00\x00\xc0\x05\x6a\x85\xbd\x04\x74\x72\x75\x65\x00\x05\x66\x61\x6c\x73\x65\x01\x04\x62"
    "\x79\x74\x65\x02\xcf\x05\x73\x68\x6f\x72\x74\x03\x03\xe8\x03\x69\x6e\x74\x04\xff\xfe\xee\x90\x04\x6c\x6f\x6e"
    "\x67\x05\x00\x00\x01\x00\x00\x00\x00\x00\x05\x62\x79\x74\x65\x73\x06\x00\x03\x00\x01\xff\x0b\x3a\x65\x76\x65"
    "\x6e\x74\x2d\x74\x79\x70\x65\x07\x00\x11\x63\x6f\x6e\x74\x65\x6e\x74\x42\x6c\x6f\x63\x6b\x44\x65\x6c\x74\x61"
    "\x09\x74\x69\x6d\x65\x73\x74\x61\x6d\x70\x08\x00\x00\x01\x8b\xcf\xe5\x68\x00\x04\x75\x75\x69\x64\x09\x00\x01"
    "\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x0d\x3a\x63\x6f\x6e\x74\x65\x6e\x74\x2d\x74\x79\x70"
    "\x65\x07\x00\x10\x61\x70\x70\x6c\x69\x63\x61\x74\x69\x6f\x6e\x2f\x6a\x73\x6f\x6e\x0d\x3a\x6d\x65\x73\x73\x61"
    "\x67\x65\x2d\x74\x79\x70\x65\x07\x00\x05\x65\x76\x65\x6e\x74\x7b\x22\x63\x6f\x6e\x74\x65\x6e\x74\x42\x6c\x6f"
    "\x63\x6b\x49\x6e\x64\x65\x78\x22\x3a\x30\x2c\x22\x64\x65\x6c\x74\x61\x22\x3a\x7b\x22\x74\x65\x78\x74\x22\x3a"
    "\x22\x48\x69\x22\x7d\x2c\x22\x70\x22\x3a\x22\x61\x62\x63\x64\x22\x7d\x07\x91\x49\x21",
    264);

std::string sampleStream() {
  std::string s;
  appendEventStreamEvent(s, "messageStart", R"({"role":"assistant"})");
  s += kEveryHeaderType;
  s += kEmptyMessage;
  appendEventStreamException(s, "throttlingException", R"({"message":"slow down"})");
  appendEventStreamMessage(s, {{":message-type", "error"}, {":error-code", "InternalError"}, {":error-message", "boom"}},
                           "");
  return s;
}

void expectSample(const Collector& c) {
  ASSERT_FALSE(c.decoder.failed()) << c.decoder.error();
  ASSERT_EQ(c.seen.size(), 5u);
  EXPECT_EQ(c.seen[0].event_type, "messageStart");
  EXPECT_EQ(c.seen[0].payload, R"({"role":"assistant"})");
  EXPECT_EQ(c.seen[1].message_type, "event");
  EXPECT_EQ(c.seen[1].event_type, "contentBlockDelta");
  EXPECT_EQ(c.seen[1].content_type, "application/json");
  EXPECT_EQ(c.seen[1].payload, R"({"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"})");
  EXPECT_EQ(c.seen[2].message_type, "");
  EXPECT_EQ(c.seen[2].payload, "");
  EXPECT_EQ(c.seen[3].message_type, "exception");
  EXPECT_EQ(c.seen[3].exception_type, "throttlingException");
  EXPECT_EQ(c.seen[3].payload, R"({"message":"slow down"})");
  EXPECT_EQ(c.seen[4].message_type, "error");
  EXPECT_EQ(c.seen[4].error_code, "InternalError");
  EXPECT_EQ(c.seen[4].error_message, "boom");
  EXPECT_TRUE(c.decoder.idle());
}

TEST(AwsEventStreamEncoder, FramesAnEventAsPythonZlibDoes) {
  std::string out;
  appendEventStreamEvent(out, "messageStart", R"({"role":"assistant"})");
  EXPECT_EQ(out, fromHex("000000760000005296d5fade0b3a6576656e742d7479706507000c6d65737361676553746172740d3a636f6e74"
                         "656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d74797065070005"
                         "6576656e747b22726f6c65223a22617373697374616e74227d6fa8c599"));
}

TEST(AwsEventStreamEncoder, EmptyMessageMatchesAwsVector) {
  std::string out;
  appendEventStreamMessage(out, {}, "");
  EXPECT_EQ(out, kEmptyMessage);
}

TEST(AwsEventStreamDecoder, DecodesWholeMessagesInOneFeed) {
  Collector c;
  EXPECT_TRUE(c.decoder.feed(sampleStream()));
  expectSample(c);
}

TEST(AwsEventStreamDecoder, DecodesByteByByte) {
  Collector c;
  const std::string s = sampleStream();
  for (char b : s) ASSERT_TRUE(c.decoder.feed(std::string_view(&b, 1)));
  expectSample(c);
}

TEST(AwsEventStreamDecoder, DecodesRandomSplits) {
  const std::string s = sampleStream();
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    Collector c;
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t n = std::min<size_t>(s.size() - pos, 1 + rng() % 40);
      ASSERT_TRUE(c.decoder.feed(std::string_view(s).substr(pos, n)));
      pos += n;
    }
    expectSample(c);
  }
}

TEST(AwsEventStreamDecoder, IdleOnlyBetweenMessages) {
  Collector c;
  const std::string s = sampleStream();
  EXPECT_TRUE(c.decoder.idle());
  c.decoder.feed(std::string_view(s).substr(0, 5));
  EXPECT_FALSE(c.decoder.idle());
  c.decoder.feed(std::string_view(s).substr(5, 20));
  EXPECT_FALSE(c.decoder.idle());
}

TEST(AwsEventStreamDecoder, EveryCorruptedByteIsAnErrorNeverAMessage) {
  // Flipping any bit of the message breaks one of the two CRCs (or, in the prelude, the
  // length it guards): the decoder reports an error or waits for bytes, never delivers.
  for (size_t i = 0; i < kEveryHeaderType.size(); ++i) {
    std::string s = kEveryHeaderType;
    s[i] = char(s[i] ^ 0x10);
    Collector c;
    c.decoder.feed(s);
    EXPECT_TRUE(c.seen.empty()) << "byte " << i;
    if (i >= 12) {
      EXPECT_TRUE(c.decoder.failed()) << "byte " << i;
    }
  }
}

TEST(AwsEventStreamDecoder, PreludeCrcMismatchNamesIt) {
  std::string s = kEmptyMessage;
  s[9] ^= 1;
  Collector c;
  EXPECT_FALSE(c.decoder.feed(s));
  EXPECT_EQ(c.decoder.error(), "the prelude CRC does not match");
  EXPECT_FALSE(c.decoder.feed(kEmptyMessage));  // stays failed
  EXPECT_TRUE(c.seen.empty());
}

TEST(AwsEventStreamDecoder, MessageCrcMismatchNamesIt) {
  std::string s = kEmptyMessage;
  s[15] ^= 1;
  Collector c;
  EXPECT_FALSE(c.decoder.feed(s));
  EXPECT_EQ(c.decoder.error(), "the message CRC does not match");
}

TEST(AwsEventStreamDecoder, MessageOverTheLimitFailsFromItsPrelude) {
  std::string s;
  appendEventStreamEvent(s, "contentBlockDelta", std::string(1000, 'x'));
  Collector c(512);
  // Only the prelude has arrived: the length is refused before any payload is buffered.
  EXPECT_FALSE(c.decoder.feed(std::string_view(s).substr(0, 12)));
  EXPECT_NE(c.decoder.error().find("over the limit of 512"), std::string::npos) << c.decoder.error();
}

// Frames whose CRCs are right but whose contents are not (built with Python's zlib.crc32).
struct BadFrame {
  const char* hex;
  const char* error;
};

class AwsEventStreamBadFrame : public ::testing::TestWithParam<BadFrame> {};

TEST_P(AwsEventStreamBadFrame, FailsNamingWhy) {
  Collector c;
  EXPECT_FALSE(c.decoder.feed(fromHex(GetParam().hex)));
  EXPECT_EQ(c.decoder.error(), GetParam().error);
  EXPECT_TRUE(c.seen.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, AwsEventStreamBadFrame,
    ::testing::Values(BadFrame{"0000000800000000555294a8", "a message shorter than its prelude and CRC"},
                      BadFrame{"000000100000000172c5787d", "headers longer than the message"},
                      BadFrame{"0000001300000003db6b638101780a64ab3f3a", "a header of unknown type 10"},
                      BadFrame{"00000018000000083b698b1801780700096162635a0dcf1b", "a header value runs past the headers"},
                      BadFrame{"0000001400000004f72f2a3200070000712b5900", "a header without a name"},
                      BadFrame{"0000001200000002910c7aa7057858683b55", "a header name runs past the headers"}));

TEST(AwsEventStreamDecoder, IgnoresHeadersItDoesNotRead) {
  std::string s;
  appendEventStreamMessage(s, {{"x-amz-id", "1"}, {":event-type", "metadata"}, {":date", "x"}}, "{}");
  Collector c;
  EXPECT_TRUE(c.decoder.feed(s));
  ASSERT_EQ(c.seen.size(), 1u);
  EXPECT_EQ(c.seen[0].event_type, "metadata");
  EXPECT_EQ(c.seen[0].payload, "{}");
}

}  // namespace
}  // namespace aigw::http
