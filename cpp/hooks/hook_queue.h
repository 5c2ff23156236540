// The bridge between loop threads and the Python hook thread (DESIGN.md, threading model).
// A loop thread copies what a hook needs into an owned snapshot (a JSON text) and submits it;
// an eventfd wakes the hook thread's event loop, which drains every waiting job, runs them and
// completes each one; the result is posted back to the submitting loop, where `done` runs
// unless the submitter cancelled first (its request went away). A job cancelled after the hook
// thread took it is reported back to the hook thread (drainCancelled), which stops its work
// (a Python task gets CancelledError). No Python type crosses here.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"

namespace aigw::hooks {

struct Job {
  uint64_t id = 0;
  std::string kind;     // which handler: "guardrail", ...
  std::string payload;  // the snapshot, JSON
};

class HookQueue {
 public:
  // ok = false: the hook failed or the hook layer is stopping; `result` then says why.
  using Done = std::function<void(bool ok, std::string result)>;

  // What the submitter keeps to cancel; it runs `done` at most once, on its loop.
  class Ticket {
   public:
    uint64_t id() const { return id_; }

   private:
    friend class HookQueue;
    uint64_t id_ = 0;
    EventLoop* loop_ = nullptr;
    Done done_;
    bool cancelled_ = false;  // touched on the submitter's loop thread only
  };
  using TicketPtr = std::shared_ptr<Ticket>;

  HookQueue();
  ~HookQueue();
  HookQueue(const HookQueue&) = delete;
  HookQueue& operator=(const HookQueue&) = delete;

  // Loop thread. Never blocks. After close(), `done` runs (posted) with ok = false.
  TicketPtr submit(EventLoop& loop, std::string kind, std::string payload, Done done);
  // Submitter's loop thread: `done` will not run. Safe after completion too. A job still
  // queued is withdrawn; one the hook thread took is reported by drainCancelled().
  void cancel(const TicketPtr& ticket);

  // An eventfd that becomes readable when jobs are waiting (for an event loop's reader).
  // Created on first use: a gateway without Python hooks holds no descriptor for it.
  int notifyFd();
  // Hook thread: resets notifyFd() and returns every waiting job without blocking.
  std::vector<Job> drain();
  // Hook thread: the ids of taken jobs cancelled since the last call (their results are no
  // longer wanted). Call it with drain(), after it, on each wake-up.
  std::vector<uint64_t> drainCancelled();
  // What one wait() brings back.
  struct Wake {
    std::vector<Job> jobs;
    std::vector<uint64_t> cancelled;  // as drainCancelled()
    bool other_ready = false;         // `other_fd` is readable
  };
  // Hook thread: sleeps until jobs or cancellations wait, `other_fd` (another event source of
  // the same thread, such as its event loop's epoll fd; -1: none) is readable, or `timeout_ms`
  // passes (-1: no limit); then drains both. It lets the hook thread sleep in one poll() for
  // its queue and its event loop, and start jobs without a trip through the loop's callbacks.
  Wake wait(int other_fd, int timeout_ms);
  // Hook thread: delivers a result. Unknown ids (cancelled, already completed) are ignored.
  void complete(uint64_t id, bool ok, std::string result);
  // Every waiting and future job completes with ok = false; the eventfd wakes its reader.
  void close();
  bool closed() const;

  size_t queued() const;    // submitted, not yet taken
  size_t inFlight() const;  // taken, not yet completed

 private:
  static void deliver(const TicketPtr& ticket, bool ok, std::string result);
  // The eventfd to write when this change makes the queue worth a wake-up (-1: none), marked
  // as written; notify() writes it after the lock is released.
  int claimNotifyLocked();
  static void notify(int fd);

  mutable std::mutex mu_;
  std::deque<Job> queue_;
  std::vector<uint64_t> cancelled_;  // taken, then cancelled: for the hook thread to stop
  std::unordered_map<uint64_t, TicketPtr> waiting_;  // queued or taken
  size_t taken_ = 0;
  uint64_t next_id_ = 1;
  bool closed_ = false;
  std::atomic<int> event_fd_{-1};  // set once, under mu_; read without it by drain()
  bool notified_ = false;  // event_fd_ is (about to be) written and not yet drained
};

}  // namespace aigw::hooks
