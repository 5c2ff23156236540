#include "http/header_accumulator.h"

namespace aigw::http {

bool HeaderAccumulator::add(std::string& to, const char* at, size_t len) {
  bytes_ += len;
  if (bytes_ > max_bytes_) return false;
  to.append(at, len);
  return true;
}

void HeaderAccumulator::finishField(HeaderList& out) {
  toLowerAscii(name_);
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) value_.pop_back();
  out.add(std::move(name_), std::move(value_));
  dropField();
}

void HeaderAccumulator::dropField() {
  name_.clear();
  value_.clear();
}

void HeaderAccumulator::startSection() {
  dropField();
  bytes_ = 0;
}

}  // namespace aigw::http
