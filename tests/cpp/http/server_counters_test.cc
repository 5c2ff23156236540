// ServerCounters::admit: the connection cap is exact when workers accept at the same moment
// (a load-then-compare let two workers both take the last place: 10001 of 10000).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "http/server_connection.h"

namespace aigw::http {
namespace {

TEST(ServerCounters, AdmitTakesExactlyTheCapAcrossThreads) {
  for (int round = 0; round < 50; ++round) {
    ServerCounters counters;
    std::atomic<int> admitted{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        while (!go.load()) {
        }
        for (int i = 0; i < 100; ++i) admitted += counters.admit(150) ? 1 : 0;
      });
    }
    go = true;
    for (auto& w : workers) w.join();
    EXPECT_EQ(admitted.load(), 150);
    EXPECT_EQ(counters.connections_active.load(), 150);
  }
}

TEST(ServerCounters, APlaceFreedIsTakenAgain) {
  ServerCounters counters;
  EXPECT_TRUE(counters.admit(1));
  EXPECT_FALSE(counters.admit(1));
  counters.connections_active.fetch_sub(1);
  EXPECT_TRUE(counters.admit(1));
}

}  // namespace
}  // namespace aigw::http
