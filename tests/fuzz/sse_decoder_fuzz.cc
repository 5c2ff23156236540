// SseDecoder on arbitrary bytes. Properties: the events do not depend on how the stream was
// split (whole, cut at random places, byte by byte), also with a small cap where the overflow
// point must not move either; they equal those of a plain reference reading of the WHATWG
// rules over the whole text; and a capped decoder gives a prefix of the uncapped one's events.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/sse.h"

namespace {

using aigw::http::SseDecoder;

struct SseEvent {
  std::string event, data, id;
  bool operator==(const SseEvent&) const = default;
};

struct Decoded {
  std::vector<SseEvent> events;
  bool overflowed = false;
  bool operator==(const Decoded&) const = default;
};

void collect(void* ctx, const SseDecoder::Event& e) {
  static_cast<std::vector<SseEvent>*>(ctx)->push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
}

Decoded decode(const std::vector<std::string_view>& pieces, size_t cap) {
  Decoded out;
  SseDecoder decoder(&collect, &out.events, cap);
  bool ok = true;
  for (std::string_view piece : pieces) {
    const bool fed = decoder.feed(piece);
    FUZZ_CHECK(ok || !fed, "the decoder accepted bytes after it overflowed");
    ok = ok && fed;
  }
  out.overflowed = decoder.overflowed();
  FUZZ_CHECK(out.overflowed == !ok, "overflowed() disagrees with feed()");
  return out;
}

// The rules read straight off the spec: split the whole text into lines (CRLF, CR or LF), drop
// the unfinished last line, dispatch on empty lines.
std::vector<SseEvent> reference(std::string_view text) {
  std::vector<SseEvent> events;
  std::string data, event, id;
  bool has_data = false;
  size_t pos = 0;
  while (true) {
    const size_t eol = text.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) break;
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (text[eol] == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
    if (line.empty()) {
      if (has_data) events.push_back({event.empty() ? "message" : event, data, id});
      data.clear();
      event.clear();
      has_data = false;
      continue;
    }
    if (line[0] == ':') continue;
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (field == "data") {
      if (has_data) data += '\n';
      data += value;
      has_data = true;
    } else if (field == "event") {
      event = value;
    } else if (field == "id" && value.find('\0') == std::string_view::npos) {
      id = value;
    }
  }
  return events;
}

std::string show(const Decoded& d) {
  std::string out = d.overflowed ? "overflowed, " : "";
  out += std::to_string(d.events.size()) + " events:";
  for (const auto& e : d.events) out += " [" + e.event + "|" + e.data.substr(0, 40) + "|" + e.id + "]";
  return out;
}

void checkSplitsAgree(std::string_view input, size_t cap, const Decoded& whole) {
  for (uint64_t salt = 0; salt < 2; ++salt) {
    const Decoded split = decode(aigw::fuzz::piecesAt(input, aigw::fuzz::cutPoints(input, 16, salt)), cap);
    FUZZ_CHECK(split == whole, "cap %zu, split: %s\n  whole: %s", cap, show(split).c_str(), show(whole).c_str());
  }
  if (input.size() <= 4096) {
    const Decoded bytes = decode(aigw::fuzz::piecesAt(input, aigw::fuzz::everyByte(input)), cap);
    FUZZ_CHECK(bytes == whole, "cap %zu, byte by byte: %s\n  whole: %s", cap, show(bytes).c_str(),
               show(whole).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t kUncapped = size_t{1} << 30;
  const Decoded full = decode({input}, kUncapped);
  FUZZ_CHECK(!full.overflowed, "overflow without a cap");
  checkSplitsAgree(input, kUncapped, full);
  const std::vector<SseEvent> expected = reference(input);
  FUZZ_CHECK(full.events == expected, "decoder: %s\n  reference: %zu events", show(full).c_str(), expected.size());

  const size_t kSmallCap = 32;
  const Decoded capped = decode({input}, kSmallCap);
  checkSplitsAgree(input, kSmallCap, capped);
  FUZZ_CHECK(capped.events.size() <= full.events.size(), "the cap added events");
  for (size_t i = 0; i < capped.events.size(); ++i) {
    FUZZ_CHECK(capped.events[i] == full.events[i], "capped event %zu differs", i);
    FUZZ_CHECK(capped.events[i].data.size() <= kSmallCap, "an event of %zu bytes passed the cap of %zu",
               capped.events[i].data.size(), kSmallCap);
  }
  if (!capped.overflowed) FUZZ_CHECK(capped.events == full.events, "events lost without an overflow");
  return 0;
}
