// Monotonic and wall clocks for the data plane.
// Everything that measures durations uses monotonic nanoseconds; wall time is only for output.
#pragma once

#include <cstdint>
#include <ctime>

namespace aigw {

inline uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t wallSeconds() { return static_cast<uint64_t>(::time(nullptr)); }

inline uint64_t wallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000000ull;
}

}  // namespace aigw
