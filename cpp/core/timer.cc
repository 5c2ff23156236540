#include "core/timer.h"

namespace aigw {

Timer::Timer(uv_loop_t* loop, Callback cb) : handle_(new uv_timer_t), cb_(std::move(cb)) {
  uv_timer_init(loop, handle_);
  handle_->data = this;
}

Timer::~Timer() {
  handle_->data = nullptr;
  // A loop that stopped with this timer still open closed it already (without freeing it).
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(handle_))) return;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms) {
  uv_timer_start(handle_, &Timer::onTimer, timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(handle_); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0; }

void Timer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<Timer*>(handle->data);
  if (self != nullptr) self->cb_();
}

}  // namespace aigw
