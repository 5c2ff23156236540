// Keeps a provider's credentials out of a relayed event stream, also when the upstream sends a
// key as the text of two or more events ("sk-ab" then "c123..."): the bytes never hold the key
// whole, but the client's concatenated deltas would. The text fields of each event are read as
// one running text per field; an event whose text ends in what could begin a secret is held
// until the next events settle it, then released masked or as it was.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/credential_scrubber.h"

namespace aigw::upstream {

class SseCredentialScrubber {
 public:
  explicit SseCredentialScrubber(const CredentialScrubber& scrubber) : scrubber_(scrubber), bytes_(scrubber) {}
  // What may go out now: whole events, in order, each with every secret masked (same length).
  // The view is valid until the next call.
  std::string_view feed(std::string_view data);
  // At the end of the stream: everything held, a trailing part of a secret masked.
  std::string_view finish();
  bool holding() const { return !partial_.empty() || !events_.empty() || bytes_.holding(); }

  // The JSON keys whose string values are streamed text (OpenAI and Anthropic deltas).
  static constexpr std::array<std::string_view, 7> kTextFields = {
      "\"content\"", "\"arguments\"", "\"text\"", "\"reasoning_content\"", "\"refusal\"", "\"partial_json\"",
      "\"thinking\""};

 private:
  struct Where {
    uint64_t event;  // sequence number of the held event
    uint32_t offset;
  };
  // The end of one field's running text that could still begin a secret, and where each of its
  // bytes sits in the held events.
  struct Tail {
    std::string text;
    std::vector<Where> where;
    int idle = 0;  // events since one carried this field
  };

  bool suspicious(std::string_view data) const;
  static bool endsAnEvent(std::string_view data);
  void onEvent(const std::string& bytes);
  // Reads the text fields of the newest held event; `seen` marks the fields it had.
  void scanEvent(std::array<bool, kTextFields.size()>* seen);
  void feedText(size_t field, size_t start, size_t end);
  // A tail that can no longer grow: masked when it is long enough to be most of a secret.
  void settle(Tail& tail);
  void release(bool all);
  char* byteAt(const Where& w);

  const CredentialScrubber& scrubber_;
  CredentialScrubber::Stream bytes_;  // after an event too big to hold: plain byte scrubbing
  bool byte_mode_ = false;
  std::string partial_;               // an event not yet complete
  char prev_[2] = {0, 0};             // the two bytes before the current one (blank-line search)
  std::deque<std::string> events_;    // complete events not yet released
  uint64_t first_seq_ = 0;            // sequence number of events_.front()
  std::array<Tail, kTextFields.size()> tails_;
  std::string out_;
  std::string scratch_text_;  // one field's running text while an event is read
  std::vector<Where> scratch_where_;
};

}  // namespace aigw::upstream
