#include "loadgen/load_driver.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace aigw::bench {

namespace {
constexpr uint64_t kNsPerMs = 1000000;
constexpr uint64_t kNsPerS = 1000000000;
constexpr uint64_t kReconnectDelayNs = 50 * kNsPerMs;  // after a failed connect
constexpr uint64_t kSweepMs = 10;

uint64_t seconds(double s) { return static_cast<uint64_t>(s * 1e9); }
uint64_t msUntil(uint64_t now_ns, uint64_t at_ns) { return at_ns <= now_ns ? 0 : (at_ns - now_ns) / kNsPerMs + 1; }
}  // namespace

const char* errorKindName(int kind) {
  static const char* const kNames[kErrorKinds] = {"connect", "status", "timeout", "parse", "closed", "sse"};
  return kind >= 0 && kind < kErrorKinds ? kNames[kind] : "?";
}

LoadDriver::LoadDriver(uv_loop_t* loop, const Options& options) : loop_(loop), o_(options) {
  const int targets = static_cast<int>(o_.targets.size());
  const int per_target = o_.mode == LoadMode::kOpenLoop ? o_.connections : o_.concurrency;
  slots_.resize(static_cast<size_t>(targets) * static_cast<size_t>(per_target));
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].target = static_cast<int>(i) / per_target;
  idle_.resize(targets);
  pending_.resize(targets);
  stats_.resize(targets);
}

LoadDriver::~LoadDriver() {
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

bool LoadDriver::run(std::string* error) {
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &window_timer_);
  uv_timer_init(loop_, &drain_timer_);
  uv_timer_init(loop_, &progress_timer_);
  sweep_timer_.data = window_timer_.data = drain_timer_.data = progress_timer_.data = this;
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0 || uv_poll_init(loop_, &schedule_poll_, timer_fd_) != 0) {
    *error = "timerfd_create failed";
    return false;
  }
  schedule_poll_.data = this;
  uv_timer_start(&sweep_timer_, &LoadDriver::onSweep, kSweepMs, kSweepMs);
  if (o_.progress_s > 0) {
    const uint64_t every = std::max<uint64_t>(1, static_cast<uint64_t>(o_.progress_s * 1000));
    uv_timer_start(&progress_timer_, &LoadDriver::onProgress, every, every);
  }
  connectMore();
  uv_run(loop_, UV_RUN_DEFAULT);
  if (t0_ns_ == 0) {
    *error = "could not connect to any target";
    for (size_t t = 0; t < o_.targets.size(); ++t) {
      if (stats_[t].errors[kErrConnect] > 0) *error += " (" + o_.targets[t].url + ": connection failed)";
    }
    return false;
  }
  return true;
}

// --- connections -------------------------------------------------------------------------

void LoadDriver::openConnection(int index) {
  Slot& slot = slots_[index];
  slot.reconnect_at_ns = 0;
  slot.conn = new ClientConnection(loop_, o_.targets[slot.target], *this, index);
  ++connecting_;
  const int rc = slot.conn->connect();
  if (rc != 0) {
    onConnectFailed(*slot.conn, rc);
    slot.conn->close();
  }
}

void LoadDriver::connectMore() {
  const int total = static_cast<int>(slots_.size());
  while (phase_ == Phase::kConnecting && connecting_ < o_.max_connecting && next_to_connect_ < total) {
    openConnection(next_to_connect_++);
  }
  if (phase_ == Phase::kConnecting && next_to_connect_ == total && connecting_ == 0) {
    if (connected_ == 0) {
      endRun();
    } else {
      startRunning();
    }
  }
}

void LoadDriver::onConnected(ClientConnection& conn) {
  Slot& slot = slots_[conn.slot()];
  --connecting_;
  ++connected_;
  if (slot.ever_connected) ++reconnects_;
  slot.ever_connected = true;
  if (phase_ == Phase::kConnecting) {
    slot.idle = true;
    idle_[slot.target].push_back(conn.slot());
    connectMore();
    return;
  }
  slotFree(slot);
}

void LoadDriver::onConnectFailed(ClientConnection& conn, int) {
  Slot& slot = slots_[conn.slot()];
  --connecting_;
  ++stats_[slot.target].errors[kErrConnect];
  slot.reconnect_at_ns = uv_hrtime() + kReconnectDelayNs;
  connectMore();
}

void LoadDriver::onClosed(ClientConnection& conn) {
  const int index = conn.slot();
  Slot& slot = slots_[index];
  if (slot.conn != &conn) return;
  slot.conn = nullptr;
  slot.idle = false;
  if (slot.reconnect_at_ns == 0) --connected_;  // it had connected (a failed connect has a retry time)
  if (slot.active) finishRequest(slot, uv_hrtime(), kErrClosed);
  // A connection closed by the server (keep-alive end, error) is replaced at once; a failed
  // connect is retried by the sweep after a pause.
  const bool wanted = phase_ == Phase::kRunning || (phase_ == Phase::kDraining && !pending_[slot.target].empty());
  if (wanted && slot.reconnect_at_ns == 0) openConnection(index);
}

// --- schedule ----------------------------------------------------------------------------

void LoadDriver::startRunning() {
  phase_ = Phase::kRunning;
  const uint64_t now = uv_hrtime();
  t0_ns_ = now + kNsPerMs;
  measure_start_ns_ = t0_ns_ + seconds(o_.warmup_s);
  measure_end_ns_ = o_.mode == LoadMode::kFixedCount ? UINT64_MAX : measure_start_ns_ + seconds(o_.duration_s);
  if (o_.mode == LoadMode::kOpenLoop) {
    schedule_limit_ = UINT64_MAX;
  } else {
    schedule_limit_ = static_cast<uint64_t>(o_.concurrency);
    issue_interval_ns_ = seconds(o_.ramp_s) / schedule_limit_;
  }
  schedule_active_ = true;
  uv_poll_start(&schedule_poll_, UV_READABLE, &LoadDriver::onSchedule);
  armSchedule(t0_ns_);
  if (o_.mode != LoadMode::kFixedCount) {
    uv_timer_start(&window_timer_, &LoadDriver::onWindowEnd, msUntil(now, measure_end_ns_), 0);
  }
}

void LoadDriver::armSchedule(uint64_t at_ns) {
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(at_ns / kNsPerS);
  spec.it_value.tv_nsec = static_cast<long>(at_ns % kNsPerS);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void LoadDriver::onSchedule(uv_poll_t* handle, int, int) {
  auto* self = static_cast<LoadDriver*>(handle->data);
  uint64_t expirations = 0;
  if (::read(self->timer_fd_, &expirations, sizeof(expirations)) < 0) { /* spurious wake-up */ }
  const uint64_t now = uv_hrtime();
  const bool open = self->o_.mode == LoadMode::kOpenLoop;
  while (self->schedule_active_ && self->scheduled_ < self->schedule_limit_) {
    const uint64_t intended =
        open ? self->t0_ns_ + static_cast<uint64_t>(static_cast<double>(self->scheduled_) * 1e9 / self->o_.rate)
             : self->t0_ns_ + self->scheduled_ * self->issue_interval_ns_;
    if (open && intended >= self->measure_end_ns_) {
      self->schedule_active_ = false;
      break;
    }
    if (intended > now) {
      self->armSchedule(intended);
      return;
    }
    ++self->scheduled_;
    self->issue(intended);
  }
  self->schedule_active_ = false;
  uv_poll_stop(&self->schedule_poll_);
}

bool LoadDriver::measuredWindowOpen(uint64_t intended_ns) {
  if (intended_ns < measure_start_ns_) return false;
  if (o_.mode == LoadMode::kFixedCount) return measured_issued_ < o_.requests;
  return intended_ns < measure_end_ns_;
}

void LoadDriver::issue(uint64_t intended_ns) {
  const int t = next_target_;
  next_target_ = (next_target_ + 1) % static_cast<int>(o_.targets.size());
  Request req;
  req.intended_ns = intended_ns;
  req.measured = measuredWindowOpen(intended_ns);
  if (req.measured) {
    ++measured_issued_;
    ++stats_[t].measured;
  }
  std::vector<int>& idle = idle_[t];
  while (!idle.empty()) {
    Slot& slot = slots_[idle.back()];
    idle.pop_back();
    if (!slot.idle || slot.conn == nullptr || slot.conn->closing()) continue;  // stale entry
    slot.idle = false;
    startOn(slot, req);
    return;
  }
  pending_[t].push_back(req);
  ++pending_count_;
}

void LoadDriver::startOn(Slot& slot, const Request& req) {
  slot.active = true;
  slot.req = req;
  slot.sent_ns = uv_hrtime();
  slot.status = 0;
  slot.first_event_ns = 0;
  slot.last_event_ns = 0;
  if (o_.sse) slot.sse.reset();
  ++in_flight_;
  ++stats_[slot.target].sent;
  if (req.measured) send_lag_.record(slot.sent_ns > req.intended_ns ? slot.sent_ns - req.intended_ns : 0);
  slot.conn->send();  // may fail at once and finish the request from inside
}

void LoadDriver::slotFree(Slot& slot) {
  if (slot.conn == nullptr || slot.conn->closing() || !slot.conn->connected() || slot.active) return;
  std::deque<Request>& pending = pending_[slot.target];
  if (!pending.empty()) {
    const Request req = pending.front();
    pending.pop_front();
    --pending_count_;
    startOn(slot, req);
    return;
  }
  if (!slot.idle) {
    slot.idle = true;
    idle_[slot.target].push_back(static_cast<int>(&slot - slots_.data()));
  }
}

// --- answers -----------------------------------------------------------------------------

void LoadDriver::onResponseHead(ClientConnection& conn, int status) { slots_[conn.slot()].status = status; }

void LoadDriver::onResponseBody(ClientConnection& conn, const char* data, size_t len, uint64_t now_ns) {
  Slot& slot = slots_[conn.slot()];
  if (!o_.sse || !slot.active || slot.status < 200 || slot.status >= 300) return;
  int ended = slot.sse.feed(data, len);
  if (ended == 0) return;
  if (slot.req.measured) {
    TargetStats& ts = stats_[slot.target];
    if (slot.first_event_ns == 0) {
      ts.ttfe.record(now_ns - slot.req.intended_ns);
    } else {
      ts.gap.record(now_ns - slot.last_event_ns);
    }
    // Events that arrived in the same read are 0 ns apart.
    for (int i = 1; i < ended; ++i) ts.gap.record(0);
  }
  if (slot.first_event_ns == 0) slot.first_event_ns = now_ns;
  slot.last_event_ns = now_ns;
}

void LoadDriver::onResponseComplete(ClientConnection& conn, uint64_t now_ns) {
  Slot& slot = slots_[conn.slot()];
  if (!slot.active) return;
  int kind = -1;
  if (slot.status < 200 || slot.status >= 300) {
    kind = kErrStatus;
    stats_[slot.target].last_bad_status = static_cast<uint64_t>(slot.status);
  } else if (o_.sse) {
    const bool lost = !slot.sse.doneSeen() ||
                      (o_.sse_events > 0 && slot.sse.events() != static_cast<uint64_t>(o_.sse_events));
    const bool malformed = slot.sse.malformed() > 0 || slot.sse.afterDone() > 0;
    if (slot.req.measured) {
      TargetStats& ts = stats_[slot.target];
      ts.events += slot.sse.events();
      ts.lost += lost ? 1 : 0;
      ts.malformed += malformed ? 1 : 0;
    }
    if (lost || malformed) kind = kErrSse;
  }
  finishRequest(slot, now_ns, kind);
  slotFree(slot);
}

void LoadDriver::onResponseFailed(ClientConnection& conn, bool parse_error) {
  Slot& slot = slots_[conn.slot()];
  if (slot.active) finishRequest(slot, uv_hrtime(), parse_error ? kErrParse : kErrClosed);
}

void LoadDriver::finishRequest(Slot& slot, uint64_t now_ns, int error_kind) {
  slot.active = false;
  --in_flight_;
  if (slot.req.measured) {
    TargetStats& ts = stats_[slot.target];
    ++measured_done_;
    last_done_ns_ = now_ns;
    if (error_kind < 0) {
      ++ts.ok;
      ts.latency.record(now_ns - slot.req.intended_ns);
      if (o_.sse) ++ts.streams_ok;
    } else {
      ++ts.errors[error_kind];
    }
  }
  afterRequest();
}

void LoadDriver::afterRequest() {
  if (phase_ == Phase::kRunning) {
    if (o_.mode == LoadMode::kFixedCount) {
      if (measured_issued_ >= o_.requests) {
        beginDrain();
        return;
      }
      issue(uv_hrtime());
    } else if (o_.mode == LoadMode::kClosedLoop) {
      const uint64_t now = uv_hrtime();
      if (now < measure_end_ns_) issue(now);
    }
    return;
  }
  if (phase_ == Phase::kDraining) maybeEndDrain();
}

// --- timers and the end ------------------------------------------------------------------

void LoadDriver::onSweep(uv_timer_t* timer) {
  auto* self = static_cast<LoadDriver*>(timer->data);
  const uint64_t now = uv_hrtime();
  const uint64_t timeout = seconds(self->o_.timeout_s);
  for (size_t i = 0; i < self->slots_.size() && self->phase_ != Phase::kDone; ++i) {
    Slot& slot = self->slots_[i];
    if (slot.active && now - slot.sent_ns > timeout) {
      ClientConnection* conn = slot.conn;
      self->finishRequest(slot, now, kErrTimeout);
      if (conn != nullptr) conn->close();  // its answer may still come: never reuse it
      continue;
    }
    const bool wanted = self->phase_ == Phase::kRunning ||
                        (self->phase_ == Phase::kDraining && !self->pending_[slot.target].empty());
    if (slot.conn == nullptr && wanted && slot.reconnect_at_ns != 0 && now >= slot.reconnect_at_ns) {
      self->openConnection(static_cast<int>(i));
    }
  }
}

void LoadDriver::onWindowEnd(uv_timer_t* timer) { static_cast<LoadDriver*>(timer->data)->beginDrain(); }

void LoadDriver::beginDrain() {
  if (phase_ != Phase::kRunning) return;
  phase_ = Phase::kDraining;
  schedule_active_ = false;
  uv_poll_stop(&schedule_poll_);
  uv_timer_start(&drain_timer_, &LoadDriver::onDrainEnd, static_cast<uint64_t>(o_.drain_s * 1000), 0);
  maybeEndDrain();
}

void LoadDriver::maybeEndDrain() {
  if (phase_ == Phase::kDraining && in_flight_ == 0 && pending_count_ == 0) endRun();
}

void LoadDriver::onDrainEnd(uv_timer_t* timer) { static_cast<LoadDriver*>(timer->data)->endRun(); }

void LoadDriver::endRun() {
  if (phase_ == Phase::kDone) return;
  const Phase was = phase_;
  phase_ = Phase::kDone;
  for (Slot& slot : slots_) {
    if (slot.active && slot.req.measured) ++stats_[slot.target].unfinished;
    slot.active = false;  // closing below must not count these again as errors
  }
  for (size_t t = 0; t < pending_.size(); ++t) {
    for (const Request& req : pending_[t]) stats_[t].unfinished += req.measured ? 1 : 0;
  }
  if (o_.mode == LoadMode::kFixedCount) {
    measured_s_ = last_done_ns_ > measure_start_ns_ && was != Phase::kConnecting
                      ? static_cast<double>(last_done_ns_ - measure_start_ns_) / 1e9
                      : 0;
  } else {
    measured_s_ = o_.duration_s;
  }
  if (o_.progress_s > 0 && was != Phase::kConnecting) printProgress();
  for (Slot& slot : slots_) {
    if (slot.conn != nullptr) slot.conn->close();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&schedule_poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&window_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&progress_timer_), nullptr);
}

void LoadDriver::onProgress(uv_timer_t* timer) { static_cast<LoadDriver*>(timer->data)->printProgress(); }

void LoadDriver::printProgress() {
  uint64_t streaming = 0;
  for (const Slot& slot : slots_) streaming += slot.active && slot.first_event_ns != 0 ? 1 : 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  for (const TargetStats& ts : stats_) {
    ok += ts.ok;
    for (uint64_t e : ts.errors) errors += e;
  }
  static const char* const kPhases[] = {"connecting", "running", "draining", "done"};
  const uint64_t now = uv_hrtime();
  std::fprintf(stderr,
               "{\"progress\":true,\"t\":%.3f,\"phase\":\"%s\",\"connected\":%d,\"in_flight\":%llu,"
               "\"streaming\":%llu,\"pending\":%llu,\"ok\":%llu,\"errors\":%llu}\n",
               t0_ns_ != 0 && now > t0_ns_ ? static_cast<double>(now - t0_ns_) / 1e9 : 0.0,
               kPhases[static_cast<int>(phase_)], connected_, static_cast<unsigned long long>(in_flight_),
               static_cast<unsigned long long>(streaming), static_cast<unsigned long long>(pending_count_),
               static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors));
  std::fflush(stderr);
}

}  // namespace aigw::bench
