#include "upstream/sse_credential_scrubber.h"

#include <algorithm>

namespace aigw::upstream {
namespace {

// An upstream event this large is no delta; past it the stream is scrubbed byte by byte.
constexpr size_t kMaxEventBytes = 1 << 20;
// A text that stops for this many events is settled: it is not being continued.
constexpr int kMaxIdleEvents = 4;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string_view SseCredentialScrubber::feed(std::string_view data) {
  if (byte_mode_) return bytes_.feed(data);
  out_.clear();
  size_t from = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    // A blank line ends an event: LF LF, CR CR, or a CRLF (or LF) after a line end.
    const bool end = (c == '\n' && (prev_[1] == '\n' || (prev_[1] == '\r' && prev_[0] == '\n'))) ||
                     (c == '\r' && prev_[1] == '\r');
    prev_[0] = prev_[1];
    prev_[1] = c;
    if (!end) continue;
    partial_.append(data.substr(from, i + 1 - from));
    from = i + 1;
    onEvent(std::move(partial_));
    partial_.clear();
  }
  partial_.append(data.substr(from));
  if (partial_.size() > kMaxEventBytes) {
    byte_mode_ = true;
    for (Tail& t : tails_) settle(t);
    release(true);
    std::string rest = std::move(partial_);
    partial_.clear();
    out_.append(bytes_.feed(rest));
  }
  return out_;
}

std::string_view SseCredentialScrubber::finish() {
  if (byte_mode_) return bytes_.finish();
  out_.clear();
  for (Tail& t : tails_) settle(t);
  release(true);
  if (!partial_.empty()) {
    out_.append(bytes_.feed(partial_));
    out_.append(bytes_.finish());
    partial_.clear();
  }
  return out_;
}

void SseCredentialScrubber::onEvent(std::string event) {
  scrubber_.mask(event);  // whole secrets anywhere in the event, text field or not
  events_.push_back(std::move(event));
  for (size_t f = 0; f < kTextFields.size(); ++f) {
    Tail& tail = tails_[f];
    if (scanField(f)) {
      tail.idle = 0;
    } else if (!tail.text.empty() && ++tail.idle > kMaxIdleEvents) {
      settle(tail);
    }
  }
  release(false);
}

bool SseCredentialScrubber::scanField(size_t field) {
  std::string& event = events_.back();
  const uint64_t seq = first_seq_ + events_.size() - 1;
  const std::string_view name = kTextFields[field];
  Tail& tail = tails_[field];
  bool found = false;
  for (size_t at = event.find(name); at != std::string::npos; at = event.find(name, at + name.size())) {
    size_t i = at + name.size();
    while (i < event.size() && isSpace(event[i])) ++i;
    if (i >= event.size() || event[i] != ':') continue;  // a value "text", not the key text
    ++i;
    while (i < event.size() && isSpace(event[i])) ++i;
    if (i >= event.size() || event[i] != '"') continue;  // null, an array ...: no text
    const size_t start = ++i;
    while (i < event.size() && event[i] != '"') i += event[i] == '\\' ? 2 : 1;
    const size_t end = std::min(i, event.size());
    found = true;
    // The running text: what was held of this field, then this value (raw JSON bytes; the
    // scrubber knows each secret's escaped form too).
    std::string text = std::move(tail.text);
    std::vector<Where> where = std::move(tail.where);
    for (size_t k = start; k < end; ++k) where.push_back({seq, static_cast<uint32_t>(k)});
    text.append(event, start, end - start);
    for (const std::string& secret : scrubber_.secrets()) {
      for (size_t m = text.find(secret); m != std::string::npos; m = text.find(secret, m + secret.size())) {
        for (size_t k = 0; k < secret.size(); ++k) *byteAt(where[m + k]) = maskByte(k, secret.size());
      }
    }
    const size_t hold = scrubber_.possiblePrefix(text);
    tail.text.assign(text, text.size() - hold, hold);
    tail.where.assign(where.end() - static_cast<std::ptrdiff_t>(hold), where.end());
  }
  return found;
}

void SseCredentialScrubber::settle(Tail& tail) {
  if (tail.text.size() >= kMinSecretBytes) {
    for (size_t k = 0; k < tail.where.size(); ++k) *byteAt(tail.where[k]) = maskByte(k, tail.where.size());
  }
  tail.text.clear();
  tail.where.clear();
  tail.idle = 0;
}

char* SseCredentialScrubber::byteAt(const Where& w) { return &events_[w.event - first_seq_][w.offset]; }

void SseCredentialScrubber::release(bool all) {
  uint64_t keep_from = first_seq_ + events_.size();
  if (!all) {
    for (const Tail& t : tails_) {
      if (!t.where.empty()) keep_from = std::min(keep_from, t.where.front().event);
    }
  }
  while (!events_.empty() && first_seq_ < keep_from) {
    out_.append(events_.front());
    events_.pop_front();
    ++first_seq_;
  }
}

}  // namespace aigw::upstream
