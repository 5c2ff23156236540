#include "http/aws_event_stream.h"

#include <algorithm>
#include <array>

namespace aigw::http {

namespace {

constexpr size_t kPreludeBytes = 12;       // total length, headers length, prelude CRC
constexpr size_t kMinMessageBytes = 16;    // a prelude and the message CRC, nothing else
constexpr size_t kMaxHeaderNameBytes = 255;
constexpr size_t kMaxHeaderValueBytes = 65535;

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32): the build links no zlib, and a table of 256
// words is all it takes.
constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

uint32_t crc32(std::string_view bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t readU32(std::string_view b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
         (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

void appendU32(std::string& out, uint32_t v) {
  out += char(v >> 24);
  out += char(v >> 16);
  out += char(v >> 8);
  out += char(v);
}

// The size of a header value of `type` after its type byte: fixed, or -1 for the two types
// with a u16 length prefix, or -2 for an unknown type.
int fixedValueBytes(uint8_t type) {
  switch (type) {
    case 0:  // bool true
    case 1:  // bool false
      return 0;
    case 2:  // byte
      return 1;
    case 3:  // short
      return 2;
    case 4:  // int
      return 4;
    case 5:  // long
    case 8:  // timestamp (ms since the epoch)
      return 8;
    case 9:  // uuid
      return 16;
    case 6:  // bytes
    case 7:  // string
      return -1;
    default:
      return -2;
  }
}

}  // namespace

bool AwsEventStreamDecoder::feed(std::string_view bytes) {
  if (failed()) return false;
  size_t pos = 0;
  if (!partial_.empty()) {
    // Complete the message that spans feeds: its prelude first (for its length), then the rest.
    if (partial_.size() < kPreludeBytes) {
      const size_t take = std::min(kPreludeBytes - partial_.size(), bytes.size());
      partial_.append(bytes.substr(0, take));
      pos = take;
      if (partial_.size() < kPreludeBytes) return true;
    }
    const size_t length = messageLength(partial_);
    if (length == 0) return false;
    const size_t take = std::min(length - partial_.size(), bytes.size() - pos);
    partial_.append(bytes.substr(pos, take));
    pos += take;
    if (partial_.size() < length) return true;
    if (!decode(partial_)) return false;
    partial_.clear();  // keeps its capacity for the next message that spans feeds
  }
  while (pos < bytes.size()) {
    const std::string_view rest = bytes.substr(pos);
    if (rest.size() < kPreludeBytes) {
      partial_.assign(rest);
      return true;
    }
    const size_t length = messageLength(rest);
    if (length == 0) return false;
    if (rest.size() < length) {
      partial_.assign(rest);
      return true;
    }
    if (!decode(rest.substr(0, length))) return false;
    pos += length;
  }
  return true;
}

size_t AwsEventStreamDecoder::messageLength(std::string_view bytes) {
  const uint32_t total = readU32(bytes, 0);
  const uint32_t headers = readU32(bytes, 4);
  // The prelude CRC is checked before the length is believed: a corrupt length must not make
  // the decoder wait for (or buffer) megabytes that will never form a message.
  if (crc32(bytes.substr(0, 8)) != readU32(bytes, 8)) {
    fail("the prelude CRC does not match");
    return 0;
  }
  if (total < kMinMessageBytes) {
    fail("a message shorter than its prelude and CRC");
    return 0;
  }
  if (total > max_) {
    fail("a message of " + std::to_string(total) + " bytes, over the limit of " + std::to_string(max_));
    return 0;
  }
  if (headers > total - kMinMessageBytes) {
    fail("headers longer than the message");
    return 0;
  }
  return total;
}

bool AwsEventStreamDecoder::decode(std::string_view message) {
  const size_t length = message.size();
  if (crc32(message.substr(0, length - 4)) != readU32(message, length - 4)) {
    return fail("the message CRC does not match");
  }
  const size_t headers_end = kPreludeBytes + readU32(message, 4);
  AwsEventStreamMessage out;
  size_t p = kPreludeBytes;
  while (p < headers_end) {
    const size_t name_len = uint8_t(message[p++]);
    if (name_len == 0) return fail("a header without a name");
    if (p + name_len + 1 > headers_end) return fail("a header name runs past the headers");
    const std::string_view name = message.substr(p, name_len);
    p += name_len;
    const uint8_t type = uint8_t(message[p++]);
    int value_len = fixedValueBytes(type);
    if (value_len == -2) return fail("a header of unknown type " + std::to_string(type));
    if (value_len == -1) {
      if (p + 2 > headers_end) return fail("a header value runs past the headers");
      value_len = (uint8_t(message[p]) << 8) | uint8_t(message[p + 1]);
      p += 2;
    }
    if (p + size_t(value_len) > headers_end) return fail("a header value runs past the headers");
    if (type == 7) {
      const std::string_view value = message.substr(p, value_len);
      if (name == ":message-type") {
        out.message_type = value;
      } else if (name == ":event-type") {
        out.event_type = value;
      } else if (name == ":exception-type") {
        out.exception_type = value;
      } else if (name == ":content-type") {
        out.content_type = value;
      } else if (name == ":error-code") {
        out.error_code = value;
      } else if (name == ":error-message") {
        out.error_message = value;
      }
    }
    p += value_len;
  }
  out.payload = message.substr(headers_end, length - 4 - headers_end);
  cb_(ctx_, out);
  return true;
}

bool AwsEventStreamDecoder::fail(std::string_view why) {
  error_.assign(why);
  partial_.clear();
  partial_.shrink_to_fit();  // a failed stream keeps no buffer
  return false;
}

void appendEventStreamMessage(std::string& out, std::initializer_list<AwsEventStreamHeader> headers,
                              std::string_view payload) {
  size_t headers_len = 0;
  for (const AwsEventStreamHeader& h : headers) {
    headers_len += 1 + std::min(h.name.size(), kMaxHeaderNameBytes) + 1 + 2 +
                   std::min(h.value.size(), kMaxHeaderValueBytes);
  }
  const size_t start = out.size();
  out.reserve(start + kMinMessageBytes + headers_len + payload.size());
  appendU32(out, uint32_t(kMinMessageBytes + headers_len + payload.size()));
  appendU32(out, uint32_t(headers_len));
  appendU32(out, crc32(std::string_view(out).substr(start, 8)));
  for (const AwsEventStreamHeader& h : headers) {
    const std::string_view name = h.name.substr(0, kMaxHeaderNameBytes);
    const std::string_view value = h.value.substr(0, kMaxHeaderValueBytes);
    out += char(name.size());
    out += name;
    out += char(7);  // string
    out += char(value.size() >> 8);
    out += char(value.size());
    out += value;
  }
  out += payload;
  appendU32(out, crc32(std::string_view(out).substr(start)));
}

void appendEventStreamEvent(std::string& out, std::string_view type, std::string_view json_payload) {
  appendEventStreamMessage(out,
                           {{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}},
                           json_payload);
}

void appendEventStreamException(std::string& out, std::string_view type, std::string_view json_payload) {
  appendEventStreamMessage(
      out, {{":exception-type", type}, {":content-type", "application/json"}, {":message-type", "exception"}},
      json_payload);
}

}  // namespace aigw::http
