#include "core/event_loop.h"

#include <cstdlib>

#include "core/log.h"

namespace aigw {

EventLoop::EventLoop() {
  if (uv_loop_init(&loop_) != 0) {
    logLine(LogLevel::Error, "uv_loop_init failed");
    std::abort();
  }
  loop_.data = this;
  uv_async_init(&loop_, &async_, &EventLoop::onAsync);
  async_.data = this;
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  thread_id_ = std::this_thread::get_id();
}

EventLoop::~EventLoop() { stopAndJoin(); }

void EventLoop::startThread(Task on_start) {
  thread_ = std::thread([this, on_start = std::move(on_start)] {
    thread_id_ = std::this_thread::get_id();
    if (on_start) on_start();
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

bool EventLoop::post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) return false;
    tasks_.push_back(std::move(task));
  }
  uv_async_send(&async_);
  return true;
}

void EventLoop::onAsync(uv_async_t* handle) { static_cast<EventLoop*>(handle->data)->drainTasks(); }

void EventLoop::drainTasks() {
  std::vector<Task> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(tasks_);
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

void EventLoop::onShutdownIdle(uv_idle_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  uv_idle_stop(handle);
  self->runDeferredDeletes();
  uv_walk(
      &self->loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
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
    // Handles closed above (connections aborted by before_close) get their close callbacks
    // at the end of this loop iteration, and those callbacks free objects that close handles
    // of their own (a connection's timer). Closing every remaining handle right here would
    // close those a second time (a libuv assertion, i.e. abort()); so the catch-all close
    // runs from the idle phase of the next iteration, after the close callbacks.
    // (The idle handle may be active for deferred deletes: restart it with the new callback.)
    uv_idle_stop(&idle_);
    uv_idle_start(&idle_, &EventLoop::onShutdownIdle);
  };
  // Always run the shutdown as a loop callback: on the loop thread, or on this thread below
  // when the loop never ran.
  post(std::move(shutdown));
  if (thread_.joinable()) thread_.join();
  // Close callbacks of the handles closed above run here; objects deleted late may close
  // handles of their own, so go round until nothing is left.
  while (true) {
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (to_delete_.empty()) break;
    runDeferredDeletes();
  }
  if (uv_loop_close(&loop_) != 0) {
    AIGW_LOG(Warning, "event loop closed with handles still open");
  }
}

}  // namespace aigw
