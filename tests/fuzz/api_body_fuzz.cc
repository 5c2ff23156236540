// The API body reader (summarizeApiBody, one SAX pass) and JSON splicing (replaceTopLevelString,
// appendJsonString) on arbitrary bytes. Properties:
//  - the summary accepts exactly what nlohmann's strict parser accepts, up to kMaxJsonDepth
//    levels of nesting (deeper is flagged, never accepted) and without a key repeated in one
//    object (flagged with its name, never accepted: readers disagree on which copy counts), and
//    says what the parsed document says;
//  - a splice into a valid object gives valid JSON equal to the document with that key set, and
//    every top-level copy of the key holds the new value (whichever copy a parser believes); it
//    refuses only objects without the key or with keys spelled with escapes;
//  - appendJsonString always writes one valid JSON string, the same text for valid UTF-8.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text.h"
#include "fuzz_check.h"
#include "gateway/api_body.h"

namespace {

using aigw::ApiBodySummary;
using json = nlohmann::json;
using Problem = ApiBodySummary::MessageProblem;

// What the summary should say, read off the parsed document.
json::value_t content_type_ = json::value_t::null;

// `content_alternative`: a bad content of the same message may be reported instead.
ApiBodySummary expectedSummary(const json& doc, bool* content_alternative) {
  *content_alternative = false;
  ApiBodySummary s;
  s.valid = true;
  s.root = doc.type();
  if (!doc.is_object()) return s;
  const auto field = [&](const char* key, ApiBodySummary::Field* f) {
    if (auto it = doc.find(key); it != doc.end()) {
      f->present = true;
      f->type = it->type();
    }
  };
  field("model", &s.model);
  field("stream", &s.stream);
  field("messages", &s.messages);
  field("prompt", &s.prompt);
  field("input", &s.input);
  if (s.model.type == json::value_t::string) s.model_value = doc["model"].get<std::string>();
  s.stream_value = s.stream.type == json::value_t::boolean && doc["stream"].get<bool>();
  if (s.messages.type != json::value_t::array) return s;
  const json& messages = doc["messages"];
  s.message_count = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const auto bad = [&](Problem p, json::value_t type, std::string role) {
      s.problem = p;
      s.problem_index = i;
      s.problem_type = type;
      s.problem_role = std::move(role);
    };
    const auto content = m.is_object() ? m.find("content") : m.end();
    const bool bad_content = m.is_object() && content != m.end() && !content->is_string() &&
                             !content->is_array() && !content->is_null();
    const auto role = m.is_object() ? m.find("role") : m.end();
    if (!m.is_object()) {
      bad(Problem::NotObject, m.type(), {});
    } else if (role != m.end() && !role->is_string()) {
      bad(Problem::RoleNotString, role->type(), {});
    } else if (role != m.end() && !aigw::isKnownRole(role->get<std::string>())) {
      bad(Problem::RoleInvalid, json::value_t::string, role->get<std::string>());
    } else if (bad_content) {
      bad(Problem::ContentInvalidType, content->type(), {});
    } else if (role == m.end()) {
      bad(Problem::MissingRole, json::value_t::null, {});
    } else {
      continue;
    }
    // The summary reports what comes first in the text; the document forgot the order of a
    // message's keys, so a bad content beside a bad role may be reported instead.
    if (bad_content && s.problem != Problem::ContentInvalidType) {
      *content_alternative = true;
      content_type_ = content->type();
    }
    break;
  }
  return s;
}

std::string show(const ApiBodySummary& s) {
  const auto t = [](json::value_t v) { return std::to_string(static_cast<int>(v)); };
  const auto f = [&](const ApiBodySummary::Field& x) { return std::string(x.present ? "+" : "-") + t(x.type); };
  return "valid=" + std::to_string(s.valid) + " root=" + t(s.root) + " model=" + f(s.model) + "'" + s.model_value +
         "' stream=" + f(s.stream) + "/" + std::to_string(s.stream_value) + " messages=" + f(s.messages) + "#" +
         std::to_string(s.message_count) + " prompt=" + f(s.prompt) + " input=" + f(s.input) +
         " problem=" + std::to_string(static_cast<int>(s.problem)) + "@" + std::to_string(s.problem_index) + ":" +
         t(s.problem_type) + "'" + s.problem_role + "'";
}

bool sameSummary(const ApiBodySummary& a, const ApiBodySummary& b) {
  const auto same = [](const ApiBodySummary::Field& x, const ApiBodySummary::Field& y) {
    return x.present == y.present && x.type == y.type;
  };
  return a.valid == b.valid && a.root == b.root && same(a.model, b.model) && same(a.stream, b.stream) &&
         same(a.messages, b.messages) && same(a.prompt, b.prompt) && same(a.input, b.input) &&
         a.model_value == b.model_value && a.stream_value == b.stream_value && a.message_count == b.message_count &&
         a.problem == b.problem && a.problem_index == b.problem_index && a.problem_type == b.problem_type &&
         a.problem_role == b.problem_role;
}

// Every value a top-level `key` has in the text, duplicates included (the DOM keeps the last).
class TopLevelValues final : public nlohmann::json_sax<json> {
 public:
  explicit TopLevelValues(std::string_view key) : key_(key) {}
  std::vector<json> values;

  bool null() override { return scalar(nullptr); }
  bool boolean(bool v) override { return scalar(v); }
  bool number_integer(number_integer_t v) override { return scalar(v); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(v); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v); }
  bool string(string_t& v) override { return scalar(v); }
  bool binary(binary_t&) override { return scalar(nullptr); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return --depth_, true; }
  bool key(string_t& k) override {
    if (depth_ == 1) matched_ = k == key_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool scalar(json v) {
    if (depth_ == 1 && matched_) values.push_back(std::move(v));
    return true;
  }
  bool open(json container) {
    scalar(std::move(container));  // only its type matters here
    ++depth_;
    return true;
  }
  std::string_view key_;
  int depth_ = 0;
  bool matched_ = false;
};

// The first reason to refuse the text, read a different way than the summary does: a key
// repeated in one object, nesting past the limit, or (parse_error) a syntax error.
class RefusalSax final : public nlohmann::json_sax<json> {
 public:
  enum class First { None, Duplicate, TooDeep, Syntax };
  First first = First::None;
  std::string duplicate;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return open();
  }
  bool end_object() override {
    keys_.pop_back();
    return --depth_, true;
  }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return --depth_, true; }
  bool key(string_t& k) override {
    if (keys_.back().insert(k).second) return true;
    first = First::Duplicate;
    duplicate = k;
    return false;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    first = First::Syntax;
    return false;
  }

 private:
  bool open() {
    if (++depth_ <= aigw::kMaxJsonDepth) return true;
    first = First::TooDeep;
    return false;
  }
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

std::string asJsonString(std::string_view text) {
  std::string out;
  aigw::appendJsonString(out, text);
  return out;
}

bool validUtf8(std::string_view text) {
  try {
    (void)json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::strict);
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

void checkJsonString(std::string_view text) {
  const std::string literal = asJsonString(text);
  const json parsed = json::parse(literal, nullptr, false);
  FUZZ_CHECK(parsed.is_string(), "appendJsonString wrote invalid JSON: %s", literal.c_str());
  if (validUtf8(text)) FUZZ_CHECK(parsed.get<std::string>() == text, "valid UTF-8 changed on the way: %s", literal.c_str());
}

void checkSplice(std::string_view text, const json& doc, const std::string& key, std::string_view value) {
  std::string out = "untouched";
  const bool spliced = aigw::replaceTopLevelString(text, key, value, &out);
  // It may refuse a present key only when some key is spelled with escapes (which it does not
  // decode); the caller then re-encodes the document.
  FUZZ_CHECK(spliced == doc.contains(key) || (!spliced && text.find('\\') != std::string_view::npos),
             "splice of '%s' returned %d", key.c_str(), spliced);
  if (!spliced) {
    FUZZ_CHECK(out == "untouched", "a failed splice wrote its output");
    return;
  }
  const json want_value = json::parse(asJsonString(value));
  json want = doc;
  want[key] = want_value;
  const json got = json::parse(out, nullptr, false);
  FUZZ_CHECK(!got.is_discarded(), "the splice of '%s' made invalid JSON: %s", key.c_str(), out.c_str());
  FUZZ_CHECK(got == want, "the splice of '%s' changed more than that key: %s", key.c_str(), out.c_str());
  TopLevelValues copies(key);
  json::sax_parse(out, &copies);
  for (const json& v : copies.values) {
    FUZZ_CHECK(v == want_value, "a copy of '%s' kept its old value: %s", key.c_str(), out.c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  checkJsonString(text);

  const ApiBodySummary summary = aigw::summarizeApiBody(text);
  RefusalSax refusal;
  json::sax_parse(text, &refusal);
  using First = RefusalSax::First;
  FUZZ_CHECK(summary.duplicate_key == (refusal.first == First::Duplicate), "duplicate_key=%d, reference %d",
             summary.duplicate_key, static_cast<int>(refusal.first));
  if (summary.duplicate_key) {
    FUZZ_CHECK(summary.duplicate_key_name == refusal.duplicate, "duplicate '%s', reference '%s'",
               summary.duplicate_key_name.c_str(), refusal.duplicate.c_str());
  }
  FUZZ_CHECK(summary.too_deep == (refusal.first == First::TooDeep), "too_deep=%d, reference %d", summary.too_deep,
             static_cast<int>(refusal.first));
  FUZZ_CHECK(summary.valid == (refusal.first == First::None), "summary valid=%d, reference %d", summary.valid,
             static_cast<int>(refusal.first));
  const json doc = json::parse(text, nullptr, false);
  if (refusal.first == First::None || refusal.first == First::Syntax) {
    FUZZ_CHECK(doc.is_discarded() == (refusal.first == First::Syntax), "nlohmann and the reference disagree");
  }
  if (doc.is_discarded() || refusal.first == First::TooDeep) {
    // Splicing never validates; it must still stay inside the text.
    std::string out;
    aigw::replaceTopLevelString(text, "model", "m", &out);
    return 0;
  }
  if (refusal.first == First::None) {
    bool content_alternative = false;
    ApiBodySummary want = expectedSummary(doc, &content_alternative);
    if (content_alternative && summary.problem == Problem::ContentInvalidType) {
      want.problem = Problem::ContentInvalidType;
      want.problem_type = content_type_;
      want.problem_role.clear();
    }
    FUZZ_CHECK(sameSummary(summary, want), "summary: %s\n  document: %s", show(summary).c_str(), show(want).c_str());
  }

  // Values: a plain name, one that needs escaping, and the input's tail (any bytes at all).
  const std::string_view tail = text.substr(text.size() > 12 ? text.size() - 12 : 0);
  for (std::string_view value : {std::string_view("gpt-4o-mini"), std::string_view("q\"\\\n\x01\xff"), tail}) {
    checkSplice(text, doc, "model", value);
    if (doc.is_object() && !doc.empty()) checkSplice(text, doc, doc.begin().key(), value);
  }
  return 0;
}
