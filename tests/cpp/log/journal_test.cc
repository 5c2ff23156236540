#include "log/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace aigw::log {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/aigw-journal-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    settings_.enabled = true;
    settings_.dir = dir_;
    settings_.run = "run1";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  LogSettings settings_;
  LogCounters counters_;
};

TEST_F(JournalTest, AppendsLinesToItsWorkersFile) {
  Journal j(settings_, 3, counters_);
  j.append("{\"id\":\"a\"}\n");
  j.append("{\"id\":\"b\"}\n");
  EXPECT_EQ(read("run1-w003-000000.jsonl"), "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  EXPECT_EQ(counters_.records.load(), 2u);
  EXPECT_EQ(counters_.bytes.load(), 22u);
  EXPECT_EQ(counters_.dropped.load(), 0u);
  EXPECT_EQ(counters_.journal_files.load(), 1u);
}

TEST_F(JournalTest, RotatesPastTheConfiguredSize) {
  settings_.rotate_bytes = 4096;
  Journal j(settings_, 0, counters_);
  const std::string line = std::string(1000, 'x') + "\n";
  for (int i = 0; i < 9; ++i) j.append(line);
  // 5 lines reach 4096 bytes, so the 6th opens the next file.
  EXPECT_EQ(read("run1-w000-000000.jsonl").size(), 5 * line.size());
  EXPECT_EQ(read("run1-w000-000001.jsonl").size(), 4 * line.size());
  EXPECT_EQ(counters_.journal_files.load(), 2u);
}

TEST_F(JournalTest, NeverAppendsToAFileItDidNotCreate) {
  { std::ofstream(dir_ + "/run1-w000-000000.jsonl") << "old\n"; }
  Journal j(settings_, 0, counters_);
  j.append("new\n");
  EXPECT_EQ(counters_.dropped.load(), 0u);
  EXPECT_EQ(read("run1-w000-000000.jsonl"), "old\n");
  EXPECT_EQ(read("run1-w000-000001.jsonl"), "new\n");
}

TEST_F(JournalTest, UnwritableDirectoryCountsDroppedRecords) {
  settings_.dir = dir_ + "/missing";
  Journal j(settings_, 0, counters_);
  j.append("x\n");
  EXPECT_EQ(counters_.dropped.load(), 1u);
  EXPECT_EQ(counters_.records.load(), 0u);
}

TEST_F(JournalTest, SpilledCountsRecordsPastThePendingBound) {
  settings_.max_pending_bytes = 10;
  Journal j(settings_, 0, counters_);
  j.append("12345\n");
  EXPECT_EQ(counters_.spilled.load(), 0u);
  j.append("12345\n");
  EXPECT_EQ(counters_.spilled.load(), 1u);
  counters_.consumed_bytes.store(12);
  j.append("12345\n");
  EXPECT_EQ(counters_.spilled.load(), 1u);
  EXPECT_EQ(counters_.pending(), 6u);
}

TEST_F(JournalTest, AHandoffTakesLinesInMemoryUntilThePendingBoundThenTheFileDoes) {
  settings_.max_pending_bytes = 12;
  RecordHandoff handoff;
  Journal a(settings_, 0, counters_, &handoff);
  Journal b(settings_, 1, counters_, &handoff);
  a.append("12345\n");
  b.append("abcde\n");
  EXPECT_EQ(counters_.journal_files.load(), 0u);  // no file while under the bound
  a.append("spill\n");                             // 18 bytes pending would pass 12
  EXPECT_EQ(read("run1-w000-000000.jsonl"), "spill\n");
  EXPECT_EQ(counters_.spilled.load(), 1u);
  EXPECT_EQ(handoff.take(), "12345\nabcde\n");
  EXPECT_EQ(handoff.take(), "");
  counters_.consumed_bytes.store(18);  // the log thread took and delivered everything
  b.append("again\n");
  EXPECT_EQ(handoff.take(), "again\n");
  EXPECT_EQ(counters_.records.load(), 4u);
  EXPECT_EQ(counters_.bytes.load(), 24u);
  EXPECT_EQ(counters_.dropped.load(), 0u);
}

TEST(RecordHandoff, LinesFromManyThreadsArriveWholeAndInOrderPerThread) {
  RecordHandoff handoff;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&handoff, t] {
      for (int i = 0; i < 2000; ++i) handoff.append(std::to_string(t) + ":" + std::to_string(i) + "\n");
    });
  }
  std::string all;
  for (int spins = 0; spins < 100; ++spins) all += handoff.take();
  for (auto& th : threads) th.join();
  all += handoff.take();
  std::vector<int> next(4, 0);
  std::istringstream in(all);
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    const int t = std::stoi(line.substr(0, line.find(':')));
    EXPECT_EQ(std::stoi(line.substr(line.find(':') + 1)), next[t]++) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 8000u);
}

}  // namespace
}  // namespace aigw::log
