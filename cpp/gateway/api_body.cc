#include "gateway/api_body.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

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
      role_seen_ = true;
      if (!isKnownRole(v)) problem(ApiBodySummary::MessageProblem::RoleInvalid, value_t::string, v);
    }
    return scalar(value_t::string);
  }
  bool binary(binary_t&) override { return scalar(value_t::binary); }

  bool start_object(std::size_t) override {
    container(value_t::object);
    if (++depth_ > kMaxJsonDepth) return tooDeep();
    if (open_objects_ == objects_.size()) objects_.emplace_back();
    objects_[open_objects_++].clear();
    if (depth_ == 3 && in_messages_) role_seen_ = false;
    return true;
  }
  bool end_object() override {
    if (depth_ == 3 && in_messages_ && !role_seen_) problem(ApiBodySummary::MessageProblem::MissingRole, value_t::null, {});
    --depth_;
    --open_objects_;
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
    if (!objects_[open_objects_ - 1].insert(k)) {
      out_->duplicate_key = true;
      out_->duplicate_key_name = k;
      return false;  // the body is refused; nothing after this matters
    }
    if (depth_ == 1) {
      field_ = k == "model" ? &out_->model
               : k == "stream" ? &out_->stream
               : k == "messages" ? &out_->messages
               : k == "prompt" ? &out_->prompt
               : k == "input" ? &out_->input
               : nullptr;
    } else if (depth_ == 3 && in_messages_) {
      message_key_is_role_ = k == "role";
      message_key_is_content_ = k == "content";
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
      role_seen_ = true;
      problem(ApiBodySummary::MessageProblem::RoleNotString, type, {});
    } else if (depth_ == 3 && in_messages_ && message_key_is_content_ && type != value_t::string &&
               type != value_t::array && type != value_t::null) {
      // A number or an object is no message content any provider takes; forwarding it only
      // moves the error (or a provider's odd reading of it) upstream.
      problem(ApiBodySummary::MessageProblem::ContentInvalidType, type, {});
    }
  }
  bool scalar(value_t type) {
    begin(type);
    if (depth_ == 3) message_key_is_role_ = message_key_is_content_ = false;
    return true;
  }
  void container(value_t type) {
    begin(type);
    if (depth_ == 3) message_key_is_role_ = message_key_is_content_ = false;
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

  // The keys of one open object. Most objects have a handful, so a linear scan of a small
  // vector; an object with many keys moves to a hash set so a hostile body stays O(n).
  class ObjectKeys {
   public:
    void clear() {
      few_.clear();
      many_.clear();
    }
    bool insert(const std::string& k) {
      if (many_.empty()) {
        if (std::find(few_.begin(), few_.end(), k) != few_.end()) return false;
        if (few_.size() < kFew) {
          few_.push_back(k);
          return true;
        }
        many_.insert(few_.begin(), few_.end());
      }
      return many_.insert(k).second;
    }

   private:
    static constexpr size_t kFew = 16;
    std::vector<std::string> few_;
    std::unordered_set<std::string> many_;
  };

  ApiBodySummary* out_;
  std::vector<ObjectKeys> objects_;  // one per nesting level of open objects, reused
  size_t open_objects_ = 0;
  int depth_ = 0;
  ApiBodySummary::Field* field_ = nullptr;
  bool in_messages_ = false;
  bool message_key_is_role_ = false;
  bool message_key_is_content_ = false;
  bool role_seen_ = false;
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
