// The bytes going out on one TCP socket: written at once when the socket takes them all, else
// queued in libuv with their buffer kept until the write callback (libuv's rule). It counts
// what was handed to the socket, so its owner can tell a slow reader from one that takes nothing.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace aigw::net {

class WriteQueue {
 public:
  // A queued write finished: 0, or a libuv error (UV_ECANCELED: the handle is closing).
  using Written = void (*)(void* owner, int status);
  enum class Result {
    kSent,    // all of it went to the socket at once: no callback comes
    kQueued,  // (the rest) is in libuv's queue: `written` runs when it is out
    kFailed,  // the socket is unusable; nothing was queued
  };

  // `tcp` must outlive the queue's writes; `written` runs on the loop for each queued write,
  // also while the handle closes (before its close callback).
  WriteQueue(uv_tcp_t* tcp, Written written, void* owner) : tcp_(tcp), written_(written), owner_(owner) {}
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Takes `data` (not empty). Only an empty queue tries the socket first, so bytes stay in order.
  Result write(std::string&& data);

  // The libuv error of the last kFailed (0 before any): what an owner's error message names.
  int error() const { return error_; }
  // Bytes in libuv's queue.
  size_t queued() const { return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(tcp_)); }
  // Bytes queued in libuv or not yet acknowledged by the peer (in the kernel's send queue).
  uint64_t pending() const;
  // Bytes the peer acknowledged, of all ever handed over: its progress, for a send timeout.
  uint64_t delivered() const;

 private:
  static void onWrite(uv_write_t* req, int status);

  uv_tcp_t* tcp_;
  Written written_;
  void* owner_;
  uint64_t handed_total_ = 0;  // bytes ever given to the socket or to libuv's write queue
  int error_ = 0;
};

}  // namespace aigw::net
