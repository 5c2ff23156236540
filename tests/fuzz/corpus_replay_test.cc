// Replays every file of every fuzz target's seed corpus (tests/fuzz/corpus/<target>/) through
// the target's entry point, built with the ordinary compiler: the corpora, and the crashes kept
// in them, run in CI as GoogleTests without clang. A target without a corpus fails, and so does
// a corpus folder without a target.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// Each target's LLVMFuzzerTestOneInput is renamed aigw_fuzz_<target> when compiled here.
#define AIGW_FUZZ_TARGET(name) extern "C" int aigw_fuzz_##name(const uint8_t* data, size_t size);
#include "fuzz_targets.inc"
#undef AIGW_FUZZ_TARGET

namespace {

namespace fs = std::filesystem;

struct FuzzTarget {
  const char* name;
  int (*entry)(const uint8_t*, size_t);
};

const FuzzTarget kTargets[] = {
#define AIGW_FUZZ_TARGET(name) {#name, &aigw_fuzz_##name},
#include "fuzz_targets.inc"
#undef AIGW_FUZZ_TARGET
};

// A property check aborts and a bug may crash: either way, say which corpus file did it.
const int kFatalSignals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
char g_current[4096];

void onFatalSignal(int sig) {
  const char* prefix = "\n*** while replaying corpus file ";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, prefix, std::strlen(prefix));
  n = ::write(STDERR_FILENO, g_current, std::strlen(g_current));
  n = ::write(STDERR_FILENO, "\n", 1);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// One test per target, FuzzCorpus.<target>: the list never goes stale when a corpus file is
// added, and a failure still names the file.
class CorpusReplay : public ::testing::Test {
 public:
  explicit CorpusReplay(const FuzzTarget& target) : target_(target) {}

  void TestBody() override {
    const fs::path dir = fs::path(AIGW_FUZZ_CORPUS_DIR) / target_.name;
    ASSERT_TRUE(fs::is_directory(dir)) << "no seed corpus at " << dir;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    ASSERT_FALSE(files.empty()) << "the seed corpus " << dir << " is empty";
    std::sort(files.begin(), files.end());
    for (int sig : kFatalSignals) ::signal(sig, &onFatalSignal);
    for (const fs::path& file : files) {
      std::snprintf(g_current, sizeof(g_current), "%s", file.c_str());
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(target_.entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0) << file;
    }
    for (int sig : kFatalSignals) ::signal(sig, SIG_DFL);
  }

 private:
  const FuzzTarget& target_;
};

const bool kRegistered = [] {
  for (const FuzzTarget& target : kTargets) {
    ::testing::RegisterTest("FuzzCorpus", target.name, nullptr, nullptr, __FILE__, __LINE__,
                            [&target]() -> ::testing::Test* { return new CorpusReplay(target); });
  }
  return true;
}();

TEST(FuzzCorpusLayout, EveryCorpusFolderBelongsToATarget) {
  for (const auto& entry : fs::directory_iterator(AIGW_FUZZ_CORPUS_DIR)) {
    const std::string name = entry.path().filename();
    const bool known = std::any_of(std::begin(kTargets), std::end(kTargets),
                                   [&](const FuzzTarget& t) { return name == t.name; });
    EXPECT_TRUE(known) << "corpus folder " << entry.path() << " has no tests/fuzz/" << name << "_fuzz.cc";
  }
}

}  // namespace
