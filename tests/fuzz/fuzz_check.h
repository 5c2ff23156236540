// What every fuzz target shares: a check that stops the run with a message (libFuzzer saves
// the input; the corpus replay test fails), and deterministic ways to cut an input into
// pieces, so a target can demand that how the bytes arrived changes nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

// A broken property is a finding like a crash: abort() is what libFuzzer and a GoogleTest
// death both understand, and it works in the uninstrumented replay build too.
#define FUZZ_CHECK(cond, ...)                                                              \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: property violated: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                   \
      std::fprintf(stderr, "\n");                                                          \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace aigw::fuzz {

// splitmix64 seeded from the input (FNV-1a): the same input always gives the same cuts, so a
// finding replays exactly, but different inputs are cut in different places.
class InputRng {
 public:
  explicit InputRng(std::string_view data, uint64_t salt = 0) : state_(0xcbf29ce484222325ull ^ salt) {
    for (unsigned char c : data) state_ = (state_ ^ c) * 0x100000001b3ull;
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// Up to `max_cuts` ascending, distinct offsets strictly inside (0, size).
inline std::vector<size_t> cutPoints(std::string_view data, size_t max_cuts, uint64_t salt = 0) {
  std::vector<size_t> cuts;
  if (data.size() < 2) return cuts;
  InputRng rng(data, salt);
  const size_t n = 1 + rng.below(max_cuts);
  for (size_t i = 0; i < n; ++i) cuts.push_back(1 + rng.below(data.size() - 1));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

// The pieces between `cuts` (from cutPoints).
inline std::vector<std::string_view> piecesAt(std::string_view data, const std::vector<size_t>& cuts) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t cut : cuts) {
    pieces.push_back(data.substr(start, cut - start));
    start = cut;
  }
  pieces.push_back(data.substr(start));
  return pieces;
}

// Every byte on its own, for small inputs where that is affordable.
inline std::vector<size_t> everyByte(std::string_view data) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < data.size(); ++i) cuts.push_back(i);
  return cuts;
}

}  // namespace aigw::fuzz
