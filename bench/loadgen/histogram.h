// Log-bucketed latency histogram in the style of HdrHistogram: exact below 2048 ns, then 1024
// linear sub-buckets per power of two (relative error < 0.1%), fixed memory, O(1) record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aigw::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Values are nanoseconds; anything above kMaxValue is clamped (and still counted).
  void record(uint64_t value_ns);
  void merge(const LatencyHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // Smallest recorded-equivalent value at or below which `percent` % of the values lie,
  // clamped to [min, max] so p100 is the true maximum.
  uint64_t percentile(double percent) const;

  static constexpr uint64_t kMaxValue = uint64_t{1} << 42;  // ~73 minutes

 private:
  static constexpr int kSubBits = 11;
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;  // 2048
  static constexpr uint64_t kHalf = kSubCount / 2;                // 1024
  static size_t indexOf(uint64_t v);
  static uint64_t highestEquivalent(size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace aigw::bench
