#include "guardrails/patterns.h"

#include <re2/re2.h>

namespace aigw::guardrails {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isWordChar(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (static_cast<unsigned char>(c) & 0x80) != 0;
}

// RE2's \b knows ASCII word characters only.
bool isAsciiWordChar(char c) { return (static_cast<unsigned char>(c) & 0x80) == 0 && isWordChar(c); }

size_t nextChar(std::string_view text, size_t pos) {
  ++pos;
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

bool cardCheck(std::string_view text, size_t start, size_t end) { return luhnValid(text.substr(start, end - start)); }

// Accepts international numbers (+ country code), numbers with an area code in parentheses,
// and separated national numbers of 9 to 12 digits whose groups look like a phone number's
// (at least three, none of one digit, the last of four or more): "+44 20 7946 0958",
// "(415) 555-2671", "415-555-2671". Dates, versions, amounts and card numbers do not pass.
bool phoneCheck(std::string_view text, size_t start, size_t end) {
  if (start > 0 && (isWordChar(text[start - 1]) || text[start - 1] == '+')) return false;
  if (end < text.size() && isWordChar(text[end])) return false;
  // Not a piece of a longer separated number ("1111 1111 1111" inside a card number).
  auto separator = [](char c) { return c == ' ' || c == '.' || c == '-'; };
  if (start > 1 && separator(text[start - 1]) && isDigit(text[start - 2])) return false;
  if (end + 1 < text.size() && separator(text[end]) && isDigit(text[end + 1])) return false;
  const std::string_view m = text.substr(start, end - start);
  size_t digits = 0;
  std::vector<size_t> groups;
  size_t run = 0;
  for (char c : m) {
    if (isDigit(c)) {
      ++digits;
      ++run;
    } else if (run > 0) {
      groups.push_back(run);
      run = 0;
    }
  }
  if (run > 0) groups.push_back(run);
  if (digits < 7 || digits > 15) return false;
  if (m.front() == '+') return digits >= 8;
  if (m.find('(') != std::string_view::npos) return digits >= 9;
  if (groups.size() < 3 || groups.back() < 4 || digits < 9 || digits > 12) return false;
  for (size_t g : groups) {
    if (g < 2) return false;
  }
  return true;
}

void makePattern(Pattern* out, std::string name, const std::string& expr, std::string replacement, MatchCheck check,
                 size_t max_match) {
  std::string error;
  out->name = std::move(name);
  out->re = compileRe2(expr, false, &error);
  out->replacement = std::move(replacement);
  out->check = check;
  out->max_match = max_match;
}

}  // namespace

Pattern::Pattern() = default;
Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;
Pattern::~Pattern() = default;

std::unique_ptr<re2::RE2> compileRe2(const std::string& expr, bool case_insensitive, std::string* error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!case_insensitive);
  auto re = std::make_unique<re2::RE2>(expr, options);
  if (!re->ok()) {
    if (error != nullptr) *error = re->error();
    return nullptr;
  }
  return re;
}

std::string re2Error(const std::string& expr) {
  std::string error;
  return compileRe2(expr, false, &error) ? std::string() : error;
}

bool luhnValid(std::string_view s) {
  int sum = 0;
  size_t n = 0;
  for (size_t i = s.size(); i-- > 0;) {
    const char c = s[i];
    if (c == ' ' || c == '-') continue;
    if (!isDigit(c)) return false;
    int d = c - '0';
    if (n % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++n;
  }
  return n >= 13 && n <= 19 && sum % 10 == 0;
}

bool presetPattern(std::string_view name, Pattern* out) {
  if (name == "email") {
    makePattern(out, "email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
                "[REDACTED:email]", nullptr, 64);
  } else if (name == "phone") {
    // E.164 written solid, or groups with separators (checked by phoneCheck).
    makePattern(out, "phone",
                R"(\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){0,5})",
                "[REDACTED:phone]", phoneCheck, 24);
  } else if (name == "card") {
    makePattern(out, "card", R"(\b(?:\d[ -]?){12,18}\d\b)", "[REDACTED:card]", cardCheck, 24);
  } else if (name == "secrets") {
    // Provider keys by their prefixes, private key blocks (to the end of the text when the END
    // line has not come yet) and bearer tokens.
    makePattern(out, "secret",
                R"(\bsk-ant-[A-Za-z0-9_-]{20,})"
                R"(|\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})"
                R"(|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"
                R"(|\bgh[pousr]_[A-Za-z0-9]{36,})"
                R"(|\bgithub_pat_[A-Za-z0-9_]{22,})"
                R"(|\bxox[abposr]-[A-Za-z0-9-]{10,})"
                R"(|\bAIza[0-9A-Za-z_-]{35})"
                R"(|-----BEGIN[A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z ]*PRIVATE KEY-----|$))"
                R"(|\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{20,})",
                "[REDACTED:secret]", nullptr, 48);
  } else {
    return false;
  }
  return out->re != nullptr;
}

bool phrasePattern(const std::vector<std::string>& phrases, bool whole_words, Pattern* out, std::string* error) {
  std::string expr;
  size_t longest = 0;
  for (const std::string& phrase : phrases) {
    if (phrase.empty()) continue;
    if (!expr.empty()) expr += '|';
    const bool left = whole_words && isAsciiWordChar(phrase.front());
    const bool right = whole_words && isAsciiWordChar(phrase.back());
    if (left) expr += "\\b";
    expr += RE2::QuoteMeta(phrase);
    if (right) expr += "\\b";
    longest = std::max(longest, phrase.size());
  }
  if (expr.empty()) {
    *error = "no phrases";
    return false;
  }
  out->name = "phrase";
  out->re = compileRe2("(?:" + expr + ")", true, error);
  out->replacement = "[REDACTED]";
  out->check = nullptr;
  // A whole-word match needs the character after it to be known.
  out->max_match = longest + (whole_words ? 1 : 0);
  return out->re != nullptr;
}

ScanResult scan(const Pattern& p, std::string& text, bool redact, size_t* settled, bool final) {
  ScanResult result;
  const bool streaming = settled != nullptr;
  size_t limit = streaming ? std::min(*settled, text.size()) : text.size();
  const re2::StringPiece input(text.data(), text.size());
  std::string out;
  size_t copied = 0;
  size_t pos = 0;
  int64_t delta = 0;  // how much the redactions so far moved the text after them
  while (pos <= text.size()) {
    re2::StringPiece m;
    if (!p.re->Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1)) break;
    const size_t start = static_cast<size_t>(m.data() - text.data());
    const size_t end = start + m.size();
    if (end == start) {
      pos = nextChar(text, end);
      continue;
    }
    if (p.check != nullptr && !p.check(text, start, end)) {
      pos = nextChar(text, start);
      continue;
    }
    // Before the final window, a match at the very end may still grow (or, for a whole word,
    // stop being one); in a stream, redaction also waits for matches that reach past `settled`.
    const bool open_end = streaming && !final && end == text.size();
    if (!redact) {
      if (open_end) break;
      ++result.matches;
      return result;
    }
    if (open_end || (streaming && end > limit)) {
      if (start < limit) limit = start;
      break;
    }
    out.append(text, copied, start - copied);
    out.append(p.replacement);
    copied = end;
    pos = end;
    delta += static_cast<int64_t>(p.replacement.size()) - static_cast<int64_t>(end - start);
    ++result.matches;
  }
  if (result.matches > 0 && redact) {
    out.append(text, copied, std::string::npos);
    text.swap(out);
    result.touched = true;
  }
  if (streaming) *settled = static_cast<size_t>(static_cast<int64_t>(limit) + delta);
  return result;
}

}  // namespace aigw::guardrails
