// Builds whole header fields out of the pieces llhttp hands over (a read may end anywhere in a
// name or a value), for the request and the response parser alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "http/headers.h"

namespace aigw::http {

class HeaderAccumulator {
 public:
  // max_bytes bounds the names and values of one header section together; the request parser
  // passes SIZE_MAX because its line scanner counts the whole block, CRLFs included.
  explicit HeaderAccumulator(size_t max_bytes = SIZE_MAX) : max_bytes_(max_bytes) {}

  // Return false, keeping nothing, once the section would pass max_bytes.
  bool addNamePiece(const char* at, size_t len) { return add(name_, at, len); }
  bool addValuePiece(const char* at, size_t len) { return add(value_, at, len); }
  // The field collected so far: the name as it came, the value untrimmed.
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Appends the field to `out` with its name lower-cased and trailing SP/HTAB cut from its
  // value (leading ones llhttp already skips), then starts the next field.
  void finishField(HeaderList& out);
  // Forgets the field collected so far (a trailer field that is not kept).
  void dropField();
  // A new header section (the next message): the field and the byte count start over.
  void startSection();

 private:
  bool add(std::string& to, const char* at, size_t len);

  size_t max_bytes_;
  size_t bytes_ = 0;
  std::string name_;
  std::string value_;
};

}  // namespace aigw::http
