#include "log/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace
}  // namespace aigw::log
