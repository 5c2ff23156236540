#include "loadgen/sse_scanner.h"

#include <cstring>

namespace aigw::bench {

void SseScanner::reset() { *this = SseScanner(); }

int SseScanner::feed(const char* data, size_t len) {
  ended_ = 0;
  for (size_t i = 0; i < len; ++i) {
    const char c = data[i];
    if (c == '\n') {
      endLine();
      continue;
    }
    if (c == '\r') continue;  // CRLF line ends: the '\n' ends the line
    if (line_len_ < kHeadBytes) head_[line_len_] = c;
    ++line_len_;
    last_ = c;
  }
  return ended_;
}

void SseScanner::endLine() {
  if (line_len_ == 0) {
    endEvent();
    return;
  }
  const size_t head = line_len_ < kHeadBytes ? line_len_ : kHeadBytes;
  if (head >= 5 && std::memcmp(head_, "data:", 5) == 0) {
    ++data_lines_;
    size_t start = 5;
    if (head > start && head_[start] == ' ') ++start;
    const size_t payload_len = line_len_ - start;
    if (payload_len == 6 && head >= start + 6 && std::memcmp(head_ + start, "[DONE]", 6) == 0) {
      done_in_event_ = true;
    } else if (payload_len < 2 || head <= start || head_[start] != '{' || last_ != '}') {
      bad_payload_ = true;
    }
  }
  line_len_ = 0;
  last_ = 0;
}

void SseScanner::endEvent() {
  if (data_lines_ > 0) {
    ++events_;
    ++ended_;
    if (data_lines_ > 1 || bad_payload_) ++malformed_;
    if (done_seen_) ++after_done_;
    if (done_in_event_) done_seen_ = true;
  }
  data_lines_ = 0;
  bad_payload_ = false;
  done_in_event_ = false;
}

}  // namespace aigw::bench
