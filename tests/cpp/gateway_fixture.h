// A GatewayServer on an ephemeral loopback port with the mock provider, for socket-level tests.
// start() returns once every worker listens, so tests never sleep to wait for readiness.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gateway/gateway_server.h"
#include "http_response_reader.h"
#include "test_client.h"

namespace aigw::testing {

// `server_fields` is spliced into the "server" object, e.g. R"("idle_timeout_ms": 200)".
inline std::string mockConfig(const std::string& server_fields = "", bool wildcard = true,
                              const std::string& provider_fields = "") {
  std::string server = R"("host": "127.0.0.1", "port": 0, "workers": 1)";
  if (!server_fields.empty()) server += ", " + server_fields;
  std::string provider = R"({"name": "mock", "kind": "mock")";
  if (!provider_fields.empty()) provider += ", " + provider_fields;
  provider += "}";
  std::string models = R"({"name": "mock-gpt", "provider": "mock"})";
  if (wildcard) models += R"(, {"name": "*", "provider": "mock"})";
  return "{\"server\": {" + server + "}, \"providers\": [" + provider + "], \"models\": [" + models + "]}";
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
