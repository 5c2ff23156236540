#include "gateway/api_body.h"

namespace aigw {
namespace {

using json = nlohmann::json;
using value_t = json::value_t;

class SummarySax final : public nlohmann::json_sax<json> {
 public:
  explicit SummarySax(ApiBodySummary* out) : out_(out) {}

  bool null() override { return scalar(value_t::null); }
  bool boolean(bool v) override {
    if (depth_ == 1 && field_ == &out_->stream) out_->stream_value = v;
    return scalar(value_t::boolean);
  }
  bool number_integer(number_integer_t) override { return scalar(value_t::number_integer); }
  bool number_unsigned(number_unsigned_t) override { return scalar(value_t::number_unsigned); }
  bool number_float(number_float_t, const string_t&) override { return scalar(value_t::number_float); }
  bool string(string_t& v) override {
    if (depth_ == 1 && field_ == &out_->model) out_->model_value = v;
    if (depth_ == 3 && in_messages_ && message_key_is_role_) {
      role_ = isKnownRole(v) ? Role{} : Role{ApiBodySummary::MessageProblem::RoleInvalid, value_t::string, v};
    }
    return scalar(value_t::string);
  }
  bool binary(binary_t&) override { return scalar(value_t::binary); }

  bool start_object(std::size_t) override {
    container(value_t::object);
    if (++depth_ > kMaxJsonDepth) return tooDeep();
    if (depth_ == 3 && in_messages_) role_ = Role{ApiBodySummary::MessageProblem::MissingRole, value_t::null, {}};
    return true;
  }
  bool end_object() override {
    // Judged at the message's end: with a repeated "role" the last one counts.
    if (depth_ == 3 && in_messages_ && role_.problem != ApiBodySummary::MessageProblem::None) {
      problem(role_.problem, role_.type, role_.role);
    }
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    const bool messages = depth_ == 1 && field_ == &out_->messages;
    container(value_t::array);
    if (++depth_ > kMaxJsonDepth) return tooDeep();
    if (messages) in_messages_ = true;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1) in_messages_ = false;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) {
      field_ = k == "model" ? &out_->model
               : k == "stream" ? &out_->stream
               : k == "messages" ? &out_->messages
               : k == "prompt" ? &out_->prompt
               : k == "input" ? &out_->input
               : nullptr;
      // A repeated key replaces what the earlier one said: the document every later stage
      // parses, and most upstreams, keep the last value (nlohmann, Python's json).
      if (field_ == &out_->model) out_->model_value.clear();
      if (field_ == &out_->stream) out_->stream_value = false;
      if (field_ == &out_->messages) {
        out_->message_count = 0;
        out_->problem = ApiBodySummary::MessageProblem::None;
        out_->problem_index = 0;
        out_->problem_type = value_t::null;
        out_->problem_role.clear();
      }
    } else if (depth_ == 3 && in_messages_) {
      message_key_is_role_ = k == "role";
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // A value begins (scalar, or the start of a container) at the current depth.
  void begin(value_t type) {
    if (depth_ == 0) {
      out_->root = type;
    } else if (depth_ == 1 && field_ != nullptr) {
      field_->present = true;
      field_->type = type;
    } else if (depth_ == 2 && in_messages_) {
      ++out_->message_count;
      if (type != value_t::object) problem(ApiBodySummary::MessageProblem::NotObject, type, {});
    } else if (depth_ == 3 && in_messages_ && message_key_is_role_ && type != value_t::string) {
      role_ = Role{ApiBodySummary::MessageProblem::RoleNotString, type, {}};
    }
  }
  bool scalar(value_t type) {
    begin(type);
    if (depth_ == 3) message_key_is_role_ = false;
    return true;
  }
  void container(value_t type) {
    begin(type);
    if (depth_ == 3) message_key_is_role_ = false;
  }
  bool tooDeep() {
    out_->too_deep = true;
    return false;  // stops the parse: the body is refused whatever follows
  }
  void problem(ApiBodySummary::MessageProblem p, value_t type, std::string_view role) {
    if (out_->problem != ApiBodySummary::MessageProblem::None) return;
    out_->problem = p;
    out_->problem_index = out_->message_count - 1;
    out_->problem_type = type;
    out_->problem_role = std::string(role);
  }

  // What the current message's "role" says so far (None: a known role).
  struct Role {
    ApiBodySummary::MessageProblem problem = ApiBodySummary::MessageProblem::None;
    value_t type = value_t::null;
    std::string role;
  };

  ApiBodySummary* out_;
  int depth_ = 0;
  ApiBodySummary::Field* field_ = nullptr;
  bool in_messages_ = false;
  bool message_key_is_role_ = false;
  Role role_;
};

}  // namespace

bool isKnownRole(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant" || role == "tool" || role == "developer" ||
         role == "function";
}

ApiBodySummary summarizeApiBody(std::string_view text) {
  ApiBodySummary out;
  SummarySax sax(&out);
  out.valid = json::sax_parse(text, &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
  return out;
}

}  // namespace aigw
