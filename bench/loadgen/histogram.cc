#include "loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace aigw::bench {

namespace {
constexpr int kMaxExponent = 42 - 10;  // exponent of kMaxValue's top bucket row
}

LatencyHistogram::LatencyHistogram() : counts_(kSubCount + kMaxExponent * kHalf, 0) {}

size_t LatencyHistogram::indexOf(uint64_t v) {
  if (v < kSubCount) return static_cast<size_t>(v);
  // v >> e lands in [1024, 2047]: 1024 linear steps per power of two.
  const int e = (63 - __builtin_clzll(v)) - (kSubBits - 1);
  return static_cast<size_t>(kSubCount + (e - 1) * kHalf + ((v >> e) - kHalf));
}

uint64_t LatencyHistogram::highestEquivalent(size_t index) {
  if (index < kSubCount) return index;
  const uint64_t rel = index - kSubCount;
  const int e = static_cast<int>(rel / kHalf) + 1;
  const uint64_t m = rel % kHalf + kHalf;
  return ((m + 1) << e) - 1;
}

void LatencyHistogram::record(uint64_t value_ns) {
  const uint64_t v = std::min(value_ns, kMaxValue - 1);
  ++counts_[indexOf(v)];
  ++count_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t LatencyHistogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(highestEquivalent(i), min_, max_);
  }
  return max_;
}

}  // namespace aigw::bench
