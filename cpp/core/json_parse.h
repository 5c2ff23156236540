// Parsing JSON text into an nlohmann::json document several times faster than nlohmann's own
// parser, which reads one character at a time through an input adapter and keeps a copy of each
// token for its error messages: on the translation path every body and every streamed event is
// parsed, and that lexer was most of what translation cost (docs/performance.md, figure 10).
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace aigw {

// The document `text` says, or a discarded value when it is not JSON: exactly what
// nlohmann::json::parse(text, nullptr, false) returns, value for value and type for type
// (a non-negative integer is number_unsigned, a negative one number_integer, one too large for
// either a float; a repeated key keeps its last value; a UTF-8 byte order mark is skipped;
// a NUL byte after the document ends the text, as it ends nlohmann's), so
// the two are interchangeable (tests/fuzz/json_parse_fuzz.cc holds them to it).
nlohmann::json parseJson(std::string_view text);

}  // namespace aigw
