// Bounds on what the gateway echoes of a client's input. A value the client sent (a model
// name, a role, a path) may appear in an error message, an x-aigw-* header or the record, but
// never at the client's length: an 8 MB model name must not make an 8 MB 404 or log row.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace aigw {

inline constexpr size_t kEchoMaxBytes = 256;
// The longest error message the gateway writes (its own words plus echoed values).
inline constexpr size_t kErrorMessageMaxBytes = 2048;

// `value` cut to at most `max` bytes at a UTF-8 character boundary, with a note of how much
// was left out ("…(+8388352 bytes)"); `value` itself when it fits.
std::string echoed(std::string_view value, size_t max = kEchoMaxBytes);
// echoed(), and safe as a header value: CR, LF, NUL and other control bytes become '?'
// (a model name is JSON text, so it may hold "\r\n" — never a new header line).
std::string echoedHeaderValue(std::string_view value, size_t max = kEchoMaxBytes);

}  // namespace aigw
