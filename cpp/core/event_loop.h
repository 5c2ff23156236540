// One libuv loop on one thread, with the three services every loop-owned object needs:
// a cross-thread task queue (mutex + swap + an eventfd the loop polls), deferred deletion, and
// orderly shutdown.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace aigw {

// An object that may die inside one of its own callbacks is handed to
// EventLoop::deferredDelete() and destroyed on the next loop iteration instead.
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};
using DeferredDeletablePtr = std::unique_ptr<DeferredDeletable>;

class EventLoop {
 public:
  using Task = std::function<void()>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* uv() { return &loop_; }

  // Runs the loop on a new thread; `on_start` runs on that thread first.
  void startThread(Task on_start);
  // Thread-safe. Tasks run on the loop thread in posting order; every wake-up drains the
  // whole queue (posts coalesce into one eventfd write). Returns false once the loop has stopped.
  bool post(Task task);
  // Loop thread only.
  void deferredDelete(DeferredDeletablePtr object);
  bool isLoopThread() const { return std::this_thread::get_id() == thread_id_; }
  // Thread-safe: asks the loop to close every handle it still has and return; then joins.
  // `before_close` runs on the loop thread just before the remaining handles are closed.
  void stopAndJoin(Task before_close = nullptr);

 private:
  static void onWake(uv_poll_t* handle, int status, int events);
  static void onIdle(uv_idle_t* handle);
  void drainTasks();
  void runDeferredDeletes();

  uv_loop_t loop_;
  // Not a uv_async_t: libuv 1.44's uv_async_send marks the handle busy around its write, and
  // the loop thread spins (997 pauses, then sched_yield) while it is busy. A poster on the
  // same CPU (the Python hook thread) is preempted by the loop it just woke, right inside that
  // window: ~27 µs of spinning on a third of hooked requests (docs/performance.md, figure 6).
  int wake_fd_ = -1;
  uv_poll_t wake_;
  uv_idle_t idle_;
  std::mutex mutex_;
  std::vector<Task> tasks_;
  bool wake_pending_ = false;  // under mutex_: wake_fd_ written (or about to be), not yet drained
  bool accepting_ = true;
  std::vector<DeferredDeletablePtr> to_delete_;
  std::thread thread_;
  std::thread::id thread_id_;
  bool stopping_ = false;
  bool closed_ = false;
};

}  // namespace aigw
