// RequestParser on arbitrary bytes, with the production limits and with tiny ones. Properties:
// the parser never consumes more than it was given, never stalls, reports at most one outcome
// per request, and an error ends the stream; the events do not depend on how the bytes were
// split; every request it completes obeys the framing rules it enforces; and tightening the
// limits only ever cuts the event sequence short with a limit error.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/request_parser.h"

namespace {

using aigw::http::ParserLimits;
using aigw::http::Request;
using aigw::http::RequestParser;
using Event = RequestParser::Event;

struct ParseEvent {
  Event event = Event::NeedMore;
  size_t offset = 0;  // stream offset where the parser stopped
  int status = 0;
  std::string reason;
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int http_minor = 1;
  bool keep_alive = false, expect_continue = false, upgrade = false;
  bool operator==(const ParseEvent&) const = default;
};

// Small enough that short inputs reach every limit.
ParserLimits tinyLimits() {
  ParserLimits l;
  l.max_header_bytes = 96;
  l.max_url_bytes = 24;
  l.max_body_bytes = 40;
  l.max_streamed_body_bytes = 40;
  l.max_headers = 4;
  l.max_chunk_extension_bytes = 8;
  return l;
}

bool isLimitError(const ParseEvent& e) {
  return e.event == Event::Error &&
         (e.status == 413 || e.status == 414 || e.status == 431 || e.reason == "chunk extensions too long");
}

void checkCompleteRequest(const Request& r, const ParserLimits& limits) {
  FUZZ_CHECK(!r.method.empty(), "a request without a method");
  FUZZ_CHECK(!r.target.empty() && (r.target[0] == '/' || r.target == "*"), "target '%s'", r.target.c_str());
  FUZZ_CHECK(r.target.size() <= limits.max_url_bytes, "target of %zu bytes passed the limit", r.target.size());
  for (unsigned char c : r.target) FUZZ_CHECK(c > 0x20 && c < 0x7f, "target byte 0x%02x", c);
  FUZZ_CHECK(r.http_major == 1, "HTTP/%d accepted", r.http_major);
  FUZZ_CHECK(r.headers.size() <= limits.max_headers, "%zu header fields passed the limit", r.headers.size());
  FUZZ_CHECK(r.body.size() <= limits.max_body_bytes, "body of %zu bytes passed the limit", r.body.size());
  const size_t hosts = r.headers.count("host");
  FUZZ_CHECK(hosts <= 1 && (hosts == 1 || r.http_minor == 0), "%zu Host fields on HTTP/1.%d", hosts, r.http_minor);
  for (const auto& h : r.headers) {
    FUZZ_CHECK(!h.name.empty(), "empty field name");
    for (char c : h.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "field name '%s' not lower-cased", h.name.c_str());
    for (char c : h.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0', "CR, LF or NUL in '%s'", h.name.c_str());
  }
  const std::string* te = r.headers.find("transfer-encoding");
  const std::string* cl = r.headers.find("content-length");
  FUZZ_CHECK(!(te && cl), "both Transfer-Encoding and Content-Length accepted");
  FUZZ_CHECK(r.headers.count("transfer-encoding") <= 1 && r.headers.count("content-length") <= 1,
             "a repeated framing field accepted");
  if (te) FUZZ_CHECK(aigw::http::equalsIgnoreCase(*te, "chunked"), "Transfer-Encoding '%s' accepted", te->c_str());
  if (cl) {
    uint64_t length = 0;
    const auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    FUZZ_CHECK(ec == std::errc() && end == cl->data() + cl->size(), "Content-Length '%s' accepted", cl->c_str());
    FUZZ_CHECK(length == r.body.size() || (r.upgrade && r.body.empty()), "Content-Length %s but a body of %zu bytes",
               cl->c_str(), r.body.size());
  }
  if (r.upgrade) FUZZ_CHECK(!r.keep_alive, "an upgrade request kept the connection");
}

// Feeds `pieces` in order, handling events the way ServerConnection does.
std::vector<ParseEvent> parse(const std::vector<std::string_view>& pieces, const ParserLimits& limits) {
  RequestParser parser(limits);
  std::vector<ParseEvent> events;
  size_t stream_off = 0;
  bool awaiting_body = false;  // a HeadersComplete was reported for the current request
  for (std::string_view piece : pieces) {
    const char* data = piece.data();
    size_t len = piece.size();
    int stalls = 0;
    while (len > 0) {
      const RequestParser::Result r = parser.feed(data, len);
      FUZZ_CHECK(r.consumed <= len, "consumed %zu of %zu bytes", r.consumed, len);
      // A pause may consume nothing (Expect right at the end of a read), never twice in a row.
      stalls = r.consumed == 0 ? stalls + 1 : 0;
      FUZZ_CHECK(stalls < 3, "the parser stalls at stream offset %zu", stream_off);
      data += r.consumed;
      len -= r.consumed;
      stream_off += r.consumed;
      if (r.event == Event::NeedMore) {
        FUZZ_CHECK(len == 0, "NeedMore with %zu bytes left unconsumed", len);
        break;
      }
      ParseEvent e;
      e.event = r.event;
      if (r.event == Event::Error) {
        e.status = parser.errorStatus();
        e.reason = parser.errorReason();
        FUZZ_CHECK(e.status == 400 || e.status == 413 || e.status == 414 || e.status == 431 || e.status == 505,
                   "error status %d (%s)", e.status, e.reason.c_str());
        FUZZ_CHECK(!e.reason.empty(), "an error without a reason");
        // An error ends the stream: whatever follows is refused too.
        FUZZ_CHECK(parser.feed("GET / HTTP/1.1\r\n", 16).event == Event::Error, "the parser recovered from an error");
        events.push_back(std::move(e));
        return events;
      }
      e.offset = stream_off;
      const Request& req = parser.request();
      e.method = req.method;
      e.target = req.target;
      for (const auto& h : req.headers) e.headers.emplace_back(h.name, h.value);
      e.http_minor = req.http_minor;
      e.keep_alive = req.keep_alive;
      e.expect_continue = req.expect_continue;
      e.upgrade = req.upgrade;
      if (r.event == Event::HeadersComplete) {
        FUZZ_CHECK(!awaiting_body, "two HeadersComplete for one request");
        FUZZ_CHECK(req.expect_continue, "HeadersComplete without Expect: 100-continue or a head callback");
        awaiting_body = true;
      } else {
        checkCompleteRequest(req, limits);
        e.body = req.body;
        awaiting_body = false;
        parser.nextMessage();
      }
      events.push_back(std::move(e));
    }
  }
  return events;
}

std::string describe(const std::vector<ParseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    out += e.event == Event::Error ? "Error(" + std::to_string(e.status) + " " + e.reason + ") "
                                   : (e.event == Event::MessageComplete ? "Message(@" : "Head(@") +
                                         std::to_string(e.offset) + " " + e.method + " " + e.target + ") ";
  }
  return out;
}

void checkSplitsAgree(std::string_view input, const ParserLimits& limits, const std::vector<ParseEvent>& whole) {
  const std::vector<ParseEvent> split = parse(aigw::fuzz::piecesAt(input, aigw::fuzz::cutPoints(input, 8)), limits);
  FUZZ_CHECK(split == whole, "split: %s\n  whole: %s", describe(split).c_str(), describe(whole).c_str());
  if (input.size() <= 4096) {
    const std::vector<ParseEvent> bytes = parse(aigw::fuzz::piecesAt(input, aigw::fuzz::everyByte(input)), limits);
    FUZZ_CHECK(bytes == whole, "byte by byte: %s\n  whole: %s", describe(bytes).c_str(), describe(whole).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ParserLimits production;
  const ParserLimits tiny = tinyLimits();
  const std::vector<ParseEvent> full = parse({input}, production);
  checkSplitsAgree(input, production, full);
  const std::vector<ParseEvent> cut = parse({input}, tiny);
  checkSplitsAgree(input, tiny, cut);
  // Tighter limits: the same events, up to a limit error that ends the sequence early.
  for (size_t i = 0; i < cut.size(); ++i) {
    if (i < full.size() && cut[i] == full[i]) continue;
    FUZZ_CHECK(i + 1 == cut.size() && isLimitError(cut[i]), "tiny limits: %s\n  production: %s",
               describe(cut).c_str(), describe(full).c_str());
  }
  return 0;
}
