// Keeps a provider's own credentials out of what the gateway relays. An upstream may echo the
// key it was sent (in an error body, an answer, a stream event or a header); the gateway knows
// those exact strings, so each occurrence is masked before any byte reaches the client, also
// when a key is split across two reads or two events.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/secret_forms.h"
#include "http/headers.h"

namespace aigw::upstream {

class CredentialScrubber {
 public:
  // The strings to mask: `api_key` and the values of configured credential headers
  // (Authorization also without its "Bearer " scheme), each also as JSON escapes it. Strings
  // under 6 bytes are skipped: they would mask ordinary words, and no key is that short.
  CredentialScrubber(std::string_view api_key, const http::HeaderList& configured);
  bool empty() const { return secrets_.empty(); }
  const std::vector<std::string>& secrets() const { return secrets_; }

  // Masks every secret in each header value (in place).
  void scrubHeaders(http::HeaderList& headers) const;
  // Masks every whole secret in `text` (same length); returns true if one was found.
  bool mask(std::string& text) const;
  // How many bytes at the end of `text` are a proper prefix of some secret (the longest such).
  size_t possiblePrefix(std::string_view text) const;

  // One response body, read by read. A masked secret keeps its length ("[REDACTED]***..."), so
  // Content-Length and chunk framing stay true and nothing else in the relay has to know.
  class Stream {
   public:
    explicit Stream(const CredentialScrubber& scrubber) : scrubber_(scrubber) {}
    // What may go out now: `data` itself when nothing matched and nothing is held back (no
    // copy), else a view of a buffer valid until the next call. The end of a read that could
    // be the start of a secret is held back until the next read decides.
    std::string_view feed(std::string_view data);
    // At the end of the body: what was held back, masked when it is most of a secret.
    std::string_view finish();
    bool holding() const { return !held_.empty(); }

   private:
    const CredentialScrubber& scrubber_;
    std::string held_;  // a tail that may begin a secret
    std::string out_;
  };

 private:
  void add(std::string_view secret);

  std::vector<std::string> secrets_;
  size_t longest_ = 0;
};

// "[REDACTED]" padded with '*' to `n` bytes (only '*' when n < 10): a mask of the same length.
void fillMask(char* at, size_t n);
// The byte of that mask at `i`.
char maskByte(size_t i, size_t n);


}  // namespace aigw::upstream
