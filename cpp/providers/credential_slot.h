// A provider's current credentials when they change while it serves: a refresher (Python's
// credentials hook, Vertex's token) writes rarely from any thread; every attempt reads them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "providers/provider.h"
#include "upstream/credential_scrubber.h"

namespace aigw {

// One set of credentials, immutable once made: an attempt holds it (shared) for as long as its
// call runs, so a swap never changes what an attempt in flight signs with or masks.
template <typename T>
struct Credentials {
  Credentials(T v, int64_t expires, upstream::CredentialScrubber s)
      : value(std::move(v)), expires_at(expires), scrubber(std::move(s)) {}
  T value;
  int64_t expires_at = 0;                 // unix seconds; 0: does not expire
  upstream::CredentialScrubber scrubber;  // masks these credentials in what comes back
};

// The expiry of pushed credentials (`expires_at`, unix seconds; absent or null: none), or -1
// when it is not a number.
int64_t pushedExpiry(const nlohmann::json& pushed);
// The string `key` of pushed credentials (absent, null: empty), or false when it is no string.
bool pushedString(const nlohmann::json& pushed, const char* key, std::string* out);

// Why an attempt has no credentials to use ("" when it has): none came yet, or they expired.
std::string unusableCredentials(std::string_view provider, bool present, int64_t expires_at, int64_t now);

template <typename T>
class CredentialSlot {
 public:
  using Ptr = std::shared_ptr<const Credentials<T>>;

  // A lock rather than an atomic shared_ptr: libstdc++'s atomic<shared_ptr> takes a lock too,
  // and this one is held for a reference count increment, once per attempt.
  Ptr current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }
  // The credentials for an attempt at `now`, or null after failing the call on `observer` with
  // why there are none (never pushed, or expired): as a connection failure, so the attempt is
  // retried or the route's next target tried.
  Ptr forAttempt(std::string_view provider, int64_t now, CallObserver& observer) const {
    Ptr c = current();
    std::string why = unusableCredentials(provider, c != nullptr, c ? c->expires_at : 0, now);
    if (why.empty()) return c;
    observer.onCallError(CallErrorKind::Connect, std::move(why));
    return nullptr;
  }
  void replace(Ptr value) {
    Ptr old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old = std::exchange(value_, std::move(value));
    }  // the old set is freed (if no attempt holds it) outside the lock
  }

 private:
  mutable std::mutex mutex_;
  Ptr value_;
};

}  // namespace aigw
