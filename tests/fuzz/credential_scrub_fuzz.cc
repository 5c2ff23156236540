// The provider-key masks (CredentialScrubber::Stream for bodies, SseCredentialScrubber for
// event streams) on arbitrary upstream bytes. Byte 0x01 in the input stands for the whole key
// and 0x02 N for its first N bytes, so runs reach keys whole and split. Properties:
//  - what goes out has exactly the length that came in (framing stays true);
//  - the key never appears in what goes out, for bodies and streams alike;
//  - a body comes out as the reference masking makes it (every occurrence masked, a tail that
//    is most of the key masked at the end), and neither output depends on how the bytes were
//    cut into reads.
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "upstream/credential_scrubber.h"
#include "upstream/sse_credential_scrubber.h"

namespace {

using aigw::upstream::CredentialScrubber;
using aigw::upstream::SseCredentialScrubber;

const std::string kKey = "sk-fz-0123456789abcdef";

std::string expand(std::string_view data) {
  std::string out;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\x01') {
      out += kKey;
    } else if (data[i] == '\x02' && i + 1 < data.size()) {
      out += kKey.substr(0, static_cast<unsigned char>(data[++i]) % kKey.size());
    } else {
      out += data[i];
    }
  }
  return out;
}

// The reference for bodies: mask left to right, then the longest end that is a proper prefix
// of the key, when it is at least the shortest secret.
std::string referenceBody(std::string text) {
  for (size_t at = text.find(kKey); at != std::string::npos; at = text.find(kKey, at + kKey.size())) {
    aigw::upstream::fillMask(text.data() + at, kKey.size());
  }
  for (size_t n = std::min(text.size(), kKey.size() - 1); n >= aigw::kMinSecretBytes; --n) {
    if (text.compare(text.size() - n, n, kKey, 0, n) == 0) {
      aigw::upstream::fillMask(text.data() + text.size() - n, n);
      break;
    }
  }
  return text;
}

template <typename Scrub>
std::string relay(const CredentialScrubber& scrubber, std::string_view text, const std::vector<size_t>& cuts) {
  Scrub scrub(scrubber);
  std::string out;
  for (std::string_view piece : aigw::fuzz::piecesAt(text, cuts)) out.append(scrub.feed(piece));
  out.append(scrub.finish());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = expand(std::string_view(reinterpret_cast<const char*>(data), size));
  static const CredentialScrubber scrubber(kKey, {});
  const std::vector<size_t> cuts = aigw::fuzz::cutPoints(text, 8);

  const std::string body = relay<CredentialScrubber::Stream>(scrubber, text, {});
  FUZZ_CHECK(body == referenceBody(text), "body masking differs from the reference");
  FUZZ_CHECK(relay<CredentialScrubber::Stream>(scrubber, text, cuts) == body, "body masking depends on the reads");

  const std::string stream = relay<SseCredentialScrubber>(scrubber, text, {});
  FUZZ_CHECK(stream.size() == text.size(), "stream length %zu became %zu", text.size(), stream.size());
  FUZZ_CHECK(stream.find(kKey) == std::string::npos, "the key went out in a stream");
  FUZZ_CHECK(relay<SseCredentialScrubber>(scrubber, text, cuts) == stream, "stream masking depends on the reads");
  if (text.size() <= 512) {
    FUZZ_CHECK(relay<SseCredentialScrubber>(scrubber, text, aigw::fuzz::everyByte(text)) == stream,
               "stream masking depends on the reads (byte by byte)");
  }
  return 0;
}
