// What every client connection of a server is held to (ServerLimits) and what they count
// (ServerCounters): shared by the workers and by the parts of each ServerConnection.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "http/request_parser.h"

namespace aigw::http {

struct ServerLimits {
  ParserLimits parser;
  uint64_t header_timeout_ms = 10000;
  uint64_t body_timeout_ms = 30000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t linger_ms = 2000;                 // reading-and-discarding after an error response
  size_t max_linger_bytes = 1 << 20;         // ... and at most this many bytes of it
  size_t write_high_watermark = 256 * 1024;  // pause producers above this many queued bytes
  size_t write_low_watermark = 64 * 1024;    // resume them below this
  size_t max_buffered_input = 64 * 1024;     // pipelined bytes held while a request is in flight
};

struct ServerCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<int64_t> connections_active{0};
  // Takes one of `max` connection places, atomically across workers (two workers accepting at
  // once cannot both take the last one). False when all are taken.
  bool admit(int64_t max) {
    int64_t active = connections_active.load(std::memory_order_relaxed);
    while (active < max) {
      if (connections_active.compare_exchange_weak(active, active + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> framing_errors{0};
  std::atomic<uint64_t> limit_errors{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> client_aborts{0};
  // HTTPS only. A connection closed before its first byte (a TCP health check) is none of these.
  std::atomic<uint64_t> tls_handshakes{0};
  std::atomic<uint64_t> tls_handshake_failures{0};  // bad hello, version, ALPN, client cert, EOF, plain HTTP
  std::atomic<uint64_t> tls_handshake_timeouts{0};  // no complete handshake within header_timeout
  std::atomic<uint64_t> tls_errors{0};              // after the handshake: bad records, unexpected messages
};

}  // namespace aigw::http
