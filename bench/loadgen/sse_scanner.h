// Counts the events of one SSE response as its body arrives, without buffering it, and checks
// their shape: one `data:` line per event, a JSON object or [DONE], nothing after [DONE].
#pragma once

#include <cstddef>
#include <cstdint>

namespace aigw::bench {

class SseScanner {
 public:
  void reset();
  // Feeds decoded body bytes; returns how many data events ended in them.
  int feed(const char* data, size_t len);

  uint64_t events() const { return events_; }
  bool doneSeen() const { return done_seen_; }
  // Events carrying more than one data line, or a payload that is neither a whole JSON object
  // nor [DONE]: two chunks merged into one event, or one split across events.
  uint64_t malformed() const { return malformed_; }
  uint64_t afterDone() const { return after_done_; }

 private:
  void endLine();
  void endEvent();

  static constexpr size_t kHeadBytes = 16;
  char head_[kHeadBytes] = {};  // first bytes of the current line
  size_t line_len_ = 0;
  char last_ = 0;               // last byte of the current line, ignoring '\r'
  int data_lines_ = 0;          // in the current event
  bool bad_payload_ = false;    // in the current event
  bool done_in_event_ = false;
  uint64_t events_ = 0;
  uint64_t malformed_ = 0;
  uint64_t after_done_ = 0;
  bool done_seen_ = false;
  int ended_ = 0;               // events ended in the current feed()
};

}  // namespace aigw::bench
