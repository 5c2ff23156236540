#include "upstream/credential_scrubber.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/secret_forms.h"
#include "http/credential_headers.h"

namespace aigw::upstream {
namespace {

constexpr std::string_view kMaskWord = "[REDACTED]";

bool lowerStartsWith(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

void fillMask(char* at, size_t n) {
  if (n >= kMaskWord.size()) {
    std::memcpy(at, kMaskWord.data(), kMaskWord.size());
    std::memset(at + kMaskWord.size(), '*', n - kMaskWord.size());
  } else {
    std::memset(at, '*', n);
  }
}

char maskByte(size_t i, size_t n) { return n >= kMaskWord.size() && i < kMaskWord.size() ? kMaskWord[i] : '*'; }

CredentialScrubber::CredentialScrubber(std::string_view api_key, const http::HeaderList& configured) {
  add(api_key);
  for (const auto& h : configured) {
    std::string name = h.name;
    http::toLowerAscii(name);
    if (!http::looksLikeCredential(name)) continue;
    add(h.value);
    for (std::string_view scheme : {"bearer ", "basic ", "token "}) {
      if (lowerStartsWith(h.value, scheme)) add(h.value.substr(scheme.size()));
    }
  }
}

void CredentialScrubber::add(std::string_view secret) {
  addSecretForms(secrets_, secret);
  for (const std::string& s : secrets_) longest_ = std::max(longest_, s.size());
}

bool CredentialScrubber::mask(std::string& text) const {
  bool found = false;
  for (const std::string& secret : secrets_) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + secret.size())) {
      fillMask(text.data() + at, secret.size());
      found = true;
    }
  }
  return found;
}

size_t CredentialScrubber::possiblePrefix(std::string_view text) const {
  // The earliest start wins: it is the longest tail that could still grow into a secret.
  const size_t window = std::min(text.size(), longest_ - 1);
  for (size_t at = text.size() - window; at < text.size(); ++at) {
    const std::string_view tail = text.substr(at);
    for (const std::string& secret : secrets_) {
      if (secret.size() > tail.size() && secret.compare(0, tail.size(), tail) == 0) return tail.size();
    }
  }
  return 0;
}

void CredentialScrubber::scrubHeaders(http::HeaderList& headers) const {
  if (secrets_.empty()) return;
  for (auto& h : headers) mask(h.value);
}

std::string_view CredentialScrubber::Stream::feed(std::string_view data) {
  const CredentialScrubber& s = scrubber_;
  if (s.secrets_.empty()) return data;
  if (held_.empty()) {
    // The common case: no secret in this read and no tail that could begin one. No copy.
    bool any = false;
    for (const std::string& secret : s.secrets_) {
      if (data.find(secret) != std::string_view::npos) {
        any = true;
        break;
      }
    }
    if (!any && s.possiblePrefix(data) == 0) return data;
  }
  out_.assign(held_);
  out_.append(data);
  held_.clear();
  s.mask(out_);
  const size_t hold = s.possiblePrefix(out_);
  if (hold > 0) {
    held_.assign(out_, out_.size() - hold, hold);
    out_.resize(out_.size() - hold);
  }
  return out_;
}

std::string_view CredentialScrubber::Stream::finish() {
  out_.swap(held_);
  held_.clear();
  // A body that ends inside a secret still gave most of it away; a short prefix ("sk-p") is
  // no credential.
  if (out_.size() >= kMinSecretBytes) fillMask(out_.data(), out_.size());
  return out_;
}

}  // namespace aigw::upstream
