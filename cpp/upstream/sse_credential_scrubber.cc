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

// True when `data` holds a whole secret, or a secret's start cut by the end of a JSON string
// or of the read: only then can it matter how its events are split.
bool SseCredentialScrubber::suspicious(std::string_view data) const {
  for (const std::string& secret : scrubber_.secrets()) {
    const char first = secret[0];
    for (size_t at = data.find(first); at != std::string_view::npos; at = data.find(first, at + 1)) {
      size_t k = 1;
      while (k < secret.size() && at + k < data.size() && data[at + k] == secret[k]) ++k;
      if (k == secret.size() || at + k == data.size()) return true;
      if (data[at + k] != '"') continue;
      // A string ends in the start of a secret: a value may go on in the next event; a key
      // ("choices": ...) is no text.
      // Only spaces and tabs: a CR or LF may end the event here, and then the string is the
      // event's last value, not a key (found by the credential_scrub fuzz target).
      size_t after = at + k + 1;
      while (after < data.size() && (data[after] == ' ' || data[after] == '\t')) ++after;
      if (after == data.size() || data[after] != ':') return true;
    }
  }
  return false;
}

bool SseCredentialScrubber::endsAnEvent(std::string_view data) {
  const size_t n = data.size();
  return (n >= 2 && data[n - 1] == '\n' && data[n - 2] == '\n') || (n >= 2 && data[n - 1] == '\r' && data[n - 2] == '\r') ||
         (n >= 3 && data[n - 1] == '\n' && data[n - 2] == '\r' && data[n - 3] == '\n');
}

std::string_view SseCredentialScrubber::feed(std::string_view data) {
  if (byte_mode_) return bytes_.feed(data);
  if (partial_.empty() && events_.empty() && endsAnEvent(data) && !suspicious(data)) {
    // The common read: whole events, nothing held, no key and no start of one. Any text tail
    // left pending would have held an event, so there is none: it goes out as it came.
    prev_[0] = data[data.size() - 2];
    prev_[1] = data[data.size() - 1];
    return data;
  }
  out_.clear();
  size_t from = 0;
  auto complete = [&](size_t last) {  // data[from, last] ends an event
    partial_.append(data.substr(from, last + 1 - from));
    from = last + 1;
    onEvent(partial_);
    partial_.clear();  // keeps its buffer for the next event
  };
  if (data.find('\r') == std::string_view::npos && prev_[1] != '\r') {
    // LF line ends, as providers send them: jump from LF to LF.
    for (size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
      if ((i > 0 ? data[i - 1] : prev_[1]) == '\n') complete(i);
    }
    if (data.size() >= 2) {
      prev_[0] = data[data.size() - 2];
      prev_[1] = data.back();
    } else if (!data.empty()) {
      prev_[0] = prev_[1];
      prev_[1] = data.back();
    }
  } else {
    for (size_t i = 0; i < data.size(); ++i) {
      const char c = data[i];
      // A blank line ends an event: LF LF, CR CR, or a CRLF (or LF) after a line end.
      const bool end = (c == '\n' && (prev_[1] == '\n' || (prev_[1] == '\r' && prev_[0] == '\n'))) ||
                       (c == '\r' && prev_[1] == '\r');
      prev_[0] = prev_[1];
      prev_[1] = c;
      if (end) complete(i);
    }
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

void SseCredentialScrubber::onEvent(const std::string& bytes) {
  events_.push_back(bytes);
  scrubber_.mask(events_.back());  // whole secrets anywhere in the event, text field or not
  std::array<bool, kTextFields.size()> seen{};
  scanEvent(&seen);
  for (size_t f = 0; f < kTextFields.size(); ++f) {
    Tail& tail = tails_[f];
    if (seen[f]) {
      tail.idle = 0;
    } else if (!tail.text.empty() && ++tail.idle > kMaxIdleEvents) {
      settle(tail);
    }
  }
  release(false);
}

// One pass over the newest held event's JSON strings: each key that names a text field and
// has a string value feeds that value to the field's running text. (A search per field name
// would test every quote of the event once per field.)
void SseCredentialScrubber::scanEvent(std::array<bool, kTextFields.size()>* seen) {
  const std::string& event = events_.back();
  const size_t n = event.size();
  // The end of the string literal that opens at `at` (the index of its closing quote, or n).
  auto closing = [&](size_t at) {
    size_t i = at + 1;
    while (i < n && event[i] != '"') i += event[i] == '\\' ? 2 : 1;
    return std::min(i, n);
  };
  auto skipSpace = [&](size_t i) {
    while (i < n && isSpace(event[i])) ++i;
    return i;
  };
  for (size_t at = event.find('"'); at != std::string::npos && at < n; at = event.find('"', at)) {
    const size_t end = closing(at);
    if (end >= n) return;
    size_t next = skipSpace(end + 1);
    if (next >= n || event[next] != ':') {
      at = end + 1;  // a value, or a key of something else
      continue;
    }
    const std::string_view key(event.data() + at, end + 1 - at);
    const size_t value = skipSpace(next + 1);
    size_t field = kTextFields.size();
    for (size_t f = 0; f < kTextFields.size(); ++f) {
      if (kTextFields[f] == key) field = f;
    }
    if (field == kTextFields.size() || value >= n || event[value] != '"') {
      at = value;  // not text: the value (a string, an object ...) is read on as usual
      continue;
    }
    const size_t value_end = closing(value);
    const size_t after = skipSpace(value_end + 1);
    if (value_end < n && after < n && event[after] == ':') {
      // Not JSON: a string after "content": that is itself followed by ':'. It is read as a
      // key, as suspicious() reads it, so the careful and the quick path agree (found by the
      // credential_scrub fuzz target: the output depended on where the reads were cut).
      at = value;
      continue;
    }
    (*seen)[field] = true;
    feedText(field, value + 1, value_end);
    at = value_end + 1;
  }
}

// The bytes [start, end) of the newest held event continue one text field's running text.
void SseCredentialScrubber::feedText(size_t field, size_t start, size_t end) {
  const uint64_t seq = first_seq_ + events_.size() - 1;
  const std::string& event = events_.back();
  Tail& tail = tails_[field];
  // The running text: what was held of this field, then this value (raw JSON bytes; the
  // scrubber knows each secret's escaped form too).
  std::string& text = scratch_text_;
  std::vector<Where>& where = scratch_where_;
  text.assign(tail.text);
  where.assign(tail.where.begin(), tail.where.end());
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
