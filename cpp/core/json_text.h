// Small helpers for writing JSON text directly into a std::string on the hot path,
// where building an nlohmann::json tree would cost allocations for nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aigw {

// Appends `text` as a JSON string literal, quotes included; ill-formed UTF-8 becomes U+FFFD.
void appendJsonString(std::string& out, std::string_view text);
void appendJsonNumber(std::string& out, int64_t value);
void appendJsonNumber(std::string& out, double value);
// `text` as a JSON string, or null when it is empty.
void appendJsonStringOrNull(std::string& out, std::string_view text);
// `value` as a JSON number, or null when it is negative (unknown counts, costs, times).
void appendJsonNumberOrNull(std::string& out, int64_t value);
void appendJsonNumberOrNull(std::string& out, double value);

}  // namespace aigw

namespace aigw {

// Replaces the value of the top-level `key` of the JSON object `json` (every copy, when it is
// repeated) with the JSON string `value`, leaving every other byte as it was (no re-encoding:
// key order, number spelling and big integers survive). Returns false, with `out` untouched,
// when `json` is not an object, has no such key, or spells a top-level key with escapes (the
// caller re-encodes instead).
bool replaceTopLevelString(std::string_view json, std::string_view key, std::string_view value, std::string* out);

}  // namespace aigw
