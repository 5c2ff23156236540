// Drives the load: opens the connections, issues requests on the schedule of the chosen mode,
// matches answers to their intended send time, and keeps the results per target.
// Open loop issues at T0 + i/R from a timerfd (µs precision, unlike libuv's ms timers); a
// request that finds every connection of its target busy waits in a queue, and that wait
// is part of its latency.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "loadgen/client_connection.h"
#include "loadgen/histogram.h"
#include "loadgen/options.h"
#include "loadgen/sse_scanner.h"

namespace aigw::bench {

enum ErrorKind { kErrConnect, kErrStatus, kErrTimeout, kErrParse, kErrClosed, kErrSse, kErrorKinds };
const char* errorKindName(int kind);

struct TargetStats {
  LatencyHistogram latency;  // intended send → whole answer, successes only
  LatencyHistogram ttfe;     // SSE: intended send → first data event
  LatencyHistogram gap;      // SSE: between consecutive data events of a stream
  uint64_t sent = 0;         // written, warm-up included
  uint64_t measured = 0;     // issued inside the measured window
  uint64_t ok = 0;           // measured and answered 2xx (and, for SSE, a whole stream)
  uint64_t errors[kErrorKinds] = {};
  uint64_t unfinished = 0;   // measured, still waiting when the drain ended
  uint64_t last_bad_status = 0;
  // SSE streams (measured ones)
  uint64_t streams_ok = 0;
  uint64_t events = 0;
  uint64_t lost = 0;       // another event count than expected, or no [DONE]
  uint64_t malformed = 0;  // merged/split events, or events after [DONE]
};

class LoadDriver final : public ClientConnection::Listener {
 public:
  LoadDriver(uv_loop_t* loop, const Options& options);
  ~LoadDriver() override;
  // Runs the loop until the load is done; false when no connection could be opened at all.
  bool run(std::string* error);

  const std::vector<TargetStats>& stats() const { return stats_; }
  const LatencyHistogram& sendLag() const { return send_lag_; }
  double measuredSeconds() const { return measured_s_; }
  uint64_t reconnects() const { return reconnects_; }

  void onConnected(ClientConnection& conn) override;
  void onConnectFailed(ClientConnection& conn, int uv_status) override;
  void onResponseHead(ClientConnection& conn, int status) override;
  void onResponseBody(ClientConnection& conn, const char* data, size_t len, uint64_t now_ns) override;
  void onResponseComplete(ClientConnection& conn, uint64_t now_ns) override;
  void onResponseFailed(ClientConnection& conn, bool parse_error) override;
  void onClosed(ClientConnection& conn) override;

 private:
  enum class Phase { kConnecting, kRunning, kDraining, kDone };
  struct Request {
    uint64_t intended_ns = 0;
    bool measured = false;
  };
  struct Slot {
    ClientConnection* conn = nullptr;
    int target = 0;
    bool idle = false;          // connected, no request, listed in idle_[target]
    bool ever_connected = false;
    bool active = false;        // a request is in flight
    uint64_t reconnect_at_ns = 0;
    Request req;
    uint64_t sent_ns = 0;
    int status = 0;
    uint64_t first_event_ns = 0;
    uint64_t last_event_ns = 0;
    SseScanner sse;
  };

  void openConnection(int slot);
  void connectMore();
  void startRunning();
  void issue(uint64_t intended_ns);
  void startOn(Slot& slot, const Request& req);
  void slotFree(Slot& slot);
  void finishRequest(Slot& slot, uint64_t now_ns, int error_kind);
  void afterRequest();
  void beginDrain();
  void maybeEndDrain();
  void endRun();
  void armSchedule(uint64_t at_ns);
  bool measuredWindowOpen(uint64_t intended_ns);
  void printProgress();
  static void onSchedule(uv_poll_t* handle, int status, int events);
  static void onSweep(uv_timer_t* timer);
  static void onWindowEnd(uv_timer_t* timer);
  static void onDrainEnd(uv_timer_t* timer);
  static void onProgress(uv_timer_t* timer);

  uv_loop_t* loop_;
  const Options& o_;
  Phase phase_ = Phase::kConnecting;
  std::vector<Slot> slots_;
  std::vector<std::vector<int>> idle_;            // per target: slots ready for a request
  std::vector<std::deque<Request>> pending_;      // per target: requests waiting for a slot
  std::vector<TargetStats> stats_;
  LatencyHistogram send_lag_;                     // actual write − intended send (measured only)
  int next_target_ = 0;
  int next_to_connect_ = 0;
  int connecting_ = 0;
  int connected_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t pending_count_ = 0;

  // Schedule
  int timer_fd_ = -1;
  uv_poll_t schedule_poll_;
  uv_timer_t sweep_timer_;
  uv_timer_t window_timer_;
  uv_timer_t drain_timer_;
  uv_timer_t progress_timer_;
  uint64_t t0_ns_ = 0;
  uint64_t measure_start_ns_ = 0;
  uint64_t measure_end_ns_ = 0;   // open/closed loop; fixed count: set when the count is in
  uint64_t issue_interval_ns_ = 0;
  uint64_t scheduled_ = 0;        // issued by the schedule so far
  uint64_t schedule_limit_ = 0;   // open loop: unlimited; closed loop: the virtual users
  uint64_t measured_issued_ = 0;
  uint64_t measured_done_ = 0;
  uint64_t last_done_ns_ = 0;
  double measured_s_ = 0;
  bool schedule_active_ = false;
};

}  // namespace aigw::bench
