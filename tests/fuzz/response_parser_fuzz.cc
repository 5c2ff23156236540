// ResponseParser (an upstream's answer) on arbitrary bytes, as a response to GET and to HEAD.
// Properties: the listener hears a head, body pieces and a completion in that order, at most
// once each, never a 1xx head; a completed body with a Content-Length has that length; a HEAD
// answer has no body; the outcome does not depend on how the bytes were split; and a listener
// that reset()s the parser from inside onComplete (a pooled connection) is safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/response_parser.h"

namespace {

using aigw::http::ResponseParser;

struct Outcome {
  int heads = 0;
  int status = 0;
  int64_t content_length = -2;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int completes = 0;
  bool keep_alive = false;
  bool ok = true;         // every feed() and finish() returned true
  bool trailing = false;  // failed on bytes after a complete response
  std::string error;
  bool operator==(const Outcome&) const = default;
};

struct Recorder final : ResponseParser::Listener {
  Outcome* out;
  ResponseParser* parser = nullptr;
  bool reset_on_complete = false;

  void onHead(int status, aigw::http::HeaderList& headers, int64_t content_length) override {
    FUZZ_CHECK(out->heads == 0, "a second head");
    FUZZ_CHECK(status >= 200 || status < 100, "an informational head (%d) reached the listener", status);
    ++out->heads;
    out->status = status;
    out->content_length = content_length;
    for (const auto& h : headers) out->headers.emplace_back(h.name, h.value);
  }
  void onBody(std::string_view data) override {
    FUZZ_CHECK(out->heads == 1 && out->completes == 0, "body bytes outside head..completion");
    out->body.append(data);
  }
  void onComplete(bool keep_alive) override {
    FUZZ_CHECK(out->heads == 1 && out->completes == 0, "a completion without a head, or a second one");
    ++out->completes;
    out->keep_alive = keep_alive;
    FUZZ_CHECK(parser->complete(), "onComplete before the parser says complete");
    // As the pool does: a connection that may be kept serves the next request at once.
    if (reset_on_complete && keep_alive) {
      parser->reset(nullptr);
      was_reset = true;
    }
  }
  bool was_reset = false;
};

Outcome parse(const std::vector<std::string_view>& pieces, bool head_request, bool reset_on_complete) {
  Outcome out;
  ResponseParser parser;
  Recorder rec;
  rec.out = &out;
  rec.parser = &parser;
  rec.reset_on_complete = reset_on_complete;
  parser.reset(&rec, head_request);
  for (std::string_view piece : pieces) {
    const bool fed = parser.feed(piece.data(), piece.size());
    if (rec.was_reset) {
      // The bytes of that read were exactly the response: nothing else may fail it now.
      FUZZ_CHECK(fed, "feed() failed after a keep-alive completion");
      FUZZ_CHECK(!parser.started() && !parser.complete(), "reset() inside onComplete did not take");
      return out;
    }
    if (!fed) {
      out.ok = false;
      out.error = parser.error();
      FUZZ_CHECK(!out.error.empty(), "feed() failed without an error");
      break;
    }
  }
  if (out.ok && !parser.finish()) {
    out.ok = false;
    out.error = parser.error();
  }
  if (out.ok) FUZZ_CHECK(out.completes == 1, "finish() succeeded without a completion");
  out.trailing = out.error == "unexpected bytes after the response";
  if (out.trailing) {
    FUZZ_CHECK(out.completes == 1, "trailing bytes without a complete response");
    // Whether the completion already knew about them depends on where the read ended.
    out.keep_alive = false;
  }
  return out;
}

void checkResponse(const Outcome& o, bool head_request) {
  const bool bodiless = head_request || o.status == 204 || o.status == 304;
  // Such a response ends with its head, whatever length it announces (RFC 9112 section 6.3).
  if (o.heads == 1 && bodiless) FUZZ_CHECK(o.completes == 1, "a %d answer to %s waits for a body", o.status,
                                           head_request ? "HEAD" : "GET");
  if (o.completes == 0) return;
  if (bodiless) FUZZ_CHECK(o.body.empty(), "a body of %zu bytes on a %d answer to %s", o.body.size(), o.status,
                           head_request ? "HEAD" : "GET");
  if (o.content_length >= 0 && !bodiless) {
    FUZZ_CHECK(o.body.size() == static_cast<uint64_t>(o.content_length), "Content-Length %lld but %zu body bytes",
               static_cast<long long>(o.content_length), o.body.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool head_request : {false, true}) {
    const Outcome whole = parse({input}, head_request, false);
    checkResponse(whole, head_request);
    const Outcome split = parse(aigw::fuzz::piecesAt(input, aigw::fuzz::cutPoints(input, 8)), head_request, false);
    FUZZ_CHECK(split == whole, "split: ok=%d status=%d body=%zu error='%s'\n  whole: ok=%d status=%d body=%zu error='%s'",
               split.ok, split.status, split.body.size(), split.error.c_str(), whole.ok, whole.status,
               whole.body.size(), whole.error.c_str());
    if (input.size() <= 4096) {
      const Outcome bytes = parse(aigw::fuzz::piecesAt(input, aigw::fuzz::everyByte(input)), head_request, false);
      FUZZ_CHECK(bytes == whole, "byte by byte: ok=%d body=%zu error='%s'\n  whole: ok=%d body=%zu error='%s'",
                 bytes.ok, bytes.body.size(), bytes.error.c_str(), whole.ok, whole.body.size(), whole.error.c_str());
    }
    parse({input}, head_request, true);
  }
  return 0;
}
