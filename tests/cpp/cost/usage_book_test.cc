// UsageBook: totals by day, provider and model; filters; concurrent recording.
#include "cost/usage_book.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>
#include <vector>

namespace aigw::cost {
namespace {

TEST(UsageDay, UtcCalendarDays) {
  EXPECT_EQ(dayString(0), "1970-01-01");
  EXPECT_EQ(dayString(utcDay(1700000000)), "2023-11-14");
  EXPECT_EQ(dayString(utcDay(1709164800)), "2024-02-29");
  EXPECT_EQ(utcDay(86399), 0);
  EXPECT_EQ(utcDay(86400), 1);
}

TEST(UsageBook, TotalsByModelProviderAndDay) {
  UsageBook book;
  book.record(1, "openai", "gpt-4o", CallUsage{100, 10, 40}, 0.5);
  book.record(1, "openai", "gpt-4o", CallUsage{50, 5, -1}, 0.25);
  book.record(1, "mistral", "mistral-small", CallUsage{10, 1, -1}, -1);
  book.record(2, "openai", "gpt-4o", CallUsage{}, -1);
  const auto j = nlohmann::json::parse(book.json());
  EXPECT_EQ(j["total"]["requests"], 4);
  EXPECT_EQ(j["total"]["prompt_tokens"], 160);
  EXPECT_EQ(j["total"]["completion_tokens"], 16);
  EXPECT_EQ(j["total"]["cached_tokens"], 40);
  EXPECT_DOUBLE_EQ(j["total"]["cost_usd"].get<double>(), 0.75);
  EXPECT_EQ(j["total"]["unpriced_requests"], 2);
  EXPECT_EQ(j["by_model"]["gpt-4o"]["requests"], 3);
  EXPECT_EQ(j["by_provider"]["mistral"]["prompt_tokens"], 10);
  EXPECT_EQ(j["by_day"]["1970-01-02"]["requests"], 3);
  EXPECT_EQ(j["by_day"]["1970-01-03"]["requests"], 1);
  ASSERT_EQ(j["rows"].size(), 3u);
  EXPECT_EQ(j["rows"][0]["day"], "1970-01-02");
  EXPECT_EQ(j["rows"][0]["provider"], "mistral");
}

TEST(UsageBook, FiltersNarrowEverySection) {
  UsageBook book;
  book.record(1, "openai", "gpt-4o", CallUsage{100, 10, -1}, 0.5);
  book.record(2, "openai", "gpt-4o-mini", CallUsage{7, 1, -1}, 0.01);
  book.record(2, "mistral", "mistral-small", CallUsage{3, 1, -1}, 0.02);
  auto j = nlohmann::json::parse(book.json({"1970-01-03", "", ""}));
  EXPECT_EQ(j["total"]["requests"], 2);
  EXPECT_FALSE(j["by_model"].contains("gpt-4o"));
  j = nlohmann::json::parse(book.json({"", "openai", "gpt-4o-mini"}));
  EXPECT_EQ(j["total"]["prompt_tokens"], 7);
  j = nlohmann::json::parse(book.json({"2001-01-01", "", ""}));
  EXPECT_EQ(j["total"]["requests"], 0);
  EXPECT_TRUE(j["by_day"].empty());
}

TEST(UsageBook, CostSumsAreRounded) {
  UsageBook book;
  for (int i = 0; i < 3; ++i) book.record(1, "p", "m", CallUsage{1, 1, -1}, 0.1);
  const auto j = nlohmann::json::parse(book.json());
  EXPECT_EQ(j["total"]["cost_usd"].dump(), "0.3");
}

TEST(UsageBook, ConcurrentRecordsAllCount) {
  UsageBook book;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&book, t] {
      for (int i = 0; i < 1000; ++i) book.record(1, t % 2 ? "a" : "b", "m", CallUsage{2, 1, -1}, 0.001);
    });
  }
  for (auto& th : threads) th.join();
  const auto j = nlohmann::json::parse(book.json());
  EXPECT_EQ(j["total"]["requests"], 4000);
  EXPECT_EQ(j["total"]["prompt_tokens"], 8000);
  EXPECT_NEAR(j["total"]["cost_usd"].get<double>(), 4.0, 1e-9);
}

}  // namespace
}  // namespace aigw::cost
