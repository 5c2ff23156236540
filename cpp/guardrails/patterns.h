// RE2 patterns a guardrail looks for: user patterns, phrase lists and the presets (email,
// phone, card, secrets), with the checks a regular expression cannot make (Luhn, phone shape).
// RE2 runs in linear time, so a user pattern cannot make a check take exponential time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace aigw::guardrails {

// Decides whether a candidate match text[start, end) really is one.
using MatchCheck = bool (*)(std::string_view text, size_t start, size_t end);

struct Pattern {
  std::string name;          // "email", "phone", "card", "secret", or "pattern" / "phrase"
  std::unique_ptr<re2::RE2> re;
  std::string replacement;   // what a redaction writes instead of the match
  MatchCheck check = nullptr;
  size_t max_match = 0;      // longest match the pattern is expected to need before it matches
  Pattern();
  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;
  ~Pattern();
};

// Compiles `expr` with RE2 (UTF-8, no logging); returns null and sets `error` when invalid.
std::unique_ptr<re2::RE2> compileRe2(const std::string& expr, bool case_insensitive, std::string* error);
// The RE2 syntax error of `expr`, or "" when it compiles.
std::string re2Error(const std::string& expr);

// The preset of that name ("email", "phone", "card", "secrets"), or false.
bool presetPattern(std::string_view name, Pattern* out);
inline constexpr const char* kPresetNames[] = {"email", "phone", "card", "secrets"};

// One pattern matching any of `phrases` (literally, case-insensitively); `whole_words` requires
// a word boundary on each side that is a word character.
bool phrasePattern(const std::vector<std::string>& phrases, bool whole_words, Pattern* out, std::string* error);

bool luhnValid(std::string_view digits_and_separators);

// What a scan found and did.
struct ScanResult {
  size_t matches = 0;    // matches counted (for redaction: those redacted)
  bool touched = false;  // the text was changed
};

// Finds matches of `p` in `text`. With `redact`, replaces every settled match by the pattern's
// replacement. Streams pass `settled` (see CheckInput): a match that ends past it, or (before
// the final window) at the very end of the text, is not settled: redaction holds it back by
// lowering `settled` to its start; a block does not count it yet.
ScanResult scan(const Pattern& p, std::string& text, bool redact, size_t* settled, bool final);

}  // namespace aigw::guardrails
