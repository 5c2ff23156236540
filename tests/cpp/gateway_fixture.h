// A GatewayServer on an ephemeral loopback port with the mock provider, for socket-level tests.
// start() returns once every worker listens, so tests never sleep to wait for readiness.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "config_fixture.h"
#include "gateway/gateway_server.h"
#include "http_response_reader.h"
#include "test_client.h"

namespace aigw::testing {

// The mock fixture (tests/cpp/fixtures/mock.yaml): the mock provider for "mock-gpt" and, with
// `wildcard`, any other name. `server_fields` and `provider_fields` are JSON object members
// laid over its server and its provider, e.g. R"("idle_timeout_ms": 200)".
inline std::string mockConfig(const std::string& server_fields = "", bool wildcard = true,
                              const std::string& provider_fields = "") {
  nlohmann::json doc = fixture("mock");
  doc["server"] = overlay(doc["server"], nlohmann::json::parse("{" + server_fields + "}"));
  doc["providers"][0] = overlay(doc["providers"][0], nlohmann::json::parse("{" + provider_fields + "}"));
  if (!wildcard) doc["routes"].erase(1);
  return completeConfig(doc).dump();  // a `tls` in server_fields gets the fields it leaves out
}

class TestGateway {
 public:
  explicit TestGateway(const std::string& config_json) {
    std::string error;
    server_ = GatewayServer::create(config_json, &error);
    if (!server_) {
      ADD_FAILURE() << error;
      return;
    }
    port_ = server_->start(&error);
    if (port_ <= 0) ADD_FAILURE() << error;
  }
  ~TestGateway() {
    if (server_) server_->stop(500);
  }
  int port() const { return port_; }
  GatewayServer& server() { return *server_; }
  nlohmann::json stats() const { return nlohmann::json::parse(server_->statsJson()); }
  // Polls a counter until `pred` holds or `timeout_ms` passes; returns its last value.
  template <typename Pred>
  int64_t waitForStat(const char* name, Pred pred, int timeout_ms = 3000) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int64_t v = stats()[name].get<int64_t>();
    while (!pred(v) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      v = stats()[name].get<int64_t>();
    }
    return v;
  }

 private:
  std::unique_ptr<GatewayServer> server_;
  int port_ = -1;
};

// Milliseconds since `t`, for tests that bound how long something took.
inline int64_t msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
}

inline std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
}

inline std::string post(const std::string& target, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// Reads until `n` complete responses arrived (or the peer closed / timed out).
inline std::vector<ParsedResponse> readResponses(RawClient& c, size_t n, int timeout_ms = 3000,
                                                 const std::vector<bool>& no_body = {}) {
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto parsed = parseResponses(raw, no_body);
    size_t finals = 0;
    for (const auto& r : parsed) finals += (r.complete && r.status >= 200) ? 1 : 0;
    if (finals >= n || c.closed()) return parsed;
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return parsed;
    std::string more = c.readSome(left);
    if (more.empty() && !c.closed()) return parseResponses(raw, no_body);
    raw += more;
  }
}

}  // namespace aigw::testing
