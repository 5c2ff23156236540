// A one-shot or repeating libuv timer owned by a C++ object.
// The uv_timer_t lives on the heap and is freed in its close callback, so the owner may be
// destroyed at any time (even inside the timer's own callback) without use-after-free.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace aigw {

class Timer {
 public:
  using Callback = std::function<void()>;

  Timer(uv_loop_t* loop, Callback cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t timeout_ms, uint64_t repeat_ms = 0);
  void stop();
  bool active() const;

 private:
  static void onTimer(uv_timer_t* handle);
  uv_timer_t* handle_;
  Callback cb_;
};

}  // namespace aigw
