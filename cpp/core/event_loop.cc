#include "core/event_loop.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

#include "core/log.h"

namespace aigw {

namespace {

// libuv writes to sockets with write(2)/writev(2), which raise SIGPIPE when the peer has
// reset the connection; the default action kills the process. Every socket error is handled
// as EPIPE instead, so the signal is ignored, once per process, unless the embedder installed
// a handler of its own (Python's interpreter ignores it already).
void ignoreSigpipe() {
  static const bool done = [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigemptyset(&ignore.sa_mask);
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
    return true;
  }();
  (void)done;
}

}  // namespace

EventLoop::EventLoop() {
  ignoreSigpipe();
  if (uv_loop_init(&loop_) != 0) {
    logLine(LogLevel::Error, "uv_loop_init failed");
    std::abort();
  }
  loop_.data = this;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0 || uv_poll_init(&loop_, &wake_, wake_fd_) != 0) {
    logLine(LogLevel::Error, "event loop: no eventfd for cross-thread tasks");
    std::abort();
  }
  wake_.data = this;
  uv_poll_start(&wake_, UV_READABLE, &EventLoop::onWake);
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  thread_id_ = std::this_thread::get_id();
}

EventLoop::~EventLoop() {
  stopAndJoin();
  ::close(wake_fd_);
}

void EventLoop::startThread(Task on_start) {
  thread_ = std::thread([this, on_start = std::move(on_start)] {
    thread_id_ = std::this_thread::get_id();
    if (on_start) on_start();
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

bool EventLoop::post(Task task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) return false;
    tasks_.push_back(std::move(task));
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  // After the unlock: the loop thread we wake may run at once on this CPU and take the lock.
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  return true;
}

void EventLoop::onWake(uv_poll_t* handle, int, int) {
  auto* self = static_cast<EventLoop*>(handle->data);
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(self->wake_fd_, &count, sizeof(count));
  self->drainTasks();
}

void EventLoop::drainTasks() {
  // The eventfd is reset before this swap: a task posted after it writes again.
  std::vector<Task> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(tasks_);
    wake_pending_ = false;
  }
  for (auto& task : batch) task();
}

void EventLoop::deferredDelete(DeferredDeletablePtr object) {
  if (!object) return;
  if (to_delete_.empty() && !stopping_) uv_idle_start(&idle_, &EventLoop::onIdle);
  to_delete_.push_back(std::move(object));
}

void EventLoop::onIdle(uv_idle_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  uv_idle_stop(handle);
  self->runDeferredDeletes();
}

void EventLoop::runDeferredDeletes() {
  // Destructors may defer more objects; loop until none are left.
  while (!to_delete_.empty()) {
    std::vector<DeferredDeletablePtr> batch;
    batch.swap(to_delete_);
    batch.clear();
  }
}

void EventLoop::stopAndJoin(Task before_close) {
  if (closed_) return;
  closed_ = true;
  auto shutdown = [this, before_close = std::move(before_close)] {
    if (before_close) before_close();
    stopping_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      accepting_ = false;
    }
    drainTasks();
    runDeferredDeletes();
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
    uv_stop(&loop_);
  };
  if (thread_.joinable()) {
    post(std::move(shutdown));
    thread_.join();
  } else {
    shutdown();
  }
  // Everything the loop owned is closing now; let the close callbacks (and the deletes they
  // cause, which may close more handles) run. Owners free their handles in those callbacks.
  for (int round = 0; round < 64 && uv_loop_alive(&loop_); ++round) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    runDeferredDeletes();
  }
  if (uv_loop_alive(&loop_)) {
    // Something still holds an active handle: a bug, but stopping must not hang on it.
    int leaked = 0;
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void* arg) {
          if (!uv_is_closing(h)) {
            ++*static_cast<int*>(arg);
            uv_close(h, nullptr);
          }
        },
        &leaked);
    if (leaked > 0) AIGW_LOG(Warning, "event loop stopped with " + std::to_string(leaked) + " handle(s) still open");
    uv_run(&loop_, UV_RUN_DEFAULT);  // also waits for DNS lookups still on the thread pool
    runDeferredDeletes();
  }
  if (uv_loop_close(&loop_) != 0) {
    AIGW_LOG(Warning, "event loop closed with handles still open");
  }
}

}  // namespace aigw
