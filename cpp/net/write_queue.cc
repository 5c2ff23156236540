#include "net/write_queue.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

namespace aigw::net {
namespace {

struct WriteRequest {
  uv_write_t req;
  std::string data;  // libuv writes from here until the callback
  WriteQueue* queue;
};

}  // namespace

WriteQueue::Result WriteQueue::write(std::string&& data) {
  uv_stream_t* s = reinterpret_cast<uv_stream_t*>(tcp_);
  if (uv_stream_get_write_queue_size(s) == 0) {
    uv_buf_t b = uv_buf_init(data.data(), static_cast<unsigned int>(data.size()));
    int n = uv_try_write(s, &b, 1);
    if (n > 0) handed_total_ += static_cast<uint64_t>(n);
    if (n == static_cast<int>(data.size())) return Result::kSent;
    if (n > 0) {
      data.erase(0, static_cast<size_t>(n));
    } else if (n != UV_EAGAIN) {
      error_ = n;
      return Result::kFailed;
    }
  }
  auto* w = new WriteRequest{{}, std::move(data), this};
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned int>(w->data.size()));
  if (int rc = uv_write(&w->req, s, &b, 1, &WriteQueue::onWrite); rc != 0) {
    delete w;
    error_ = rc;
    return Result::kFailed;
  }
  handed_total_ += b.len;
  return Result::kQueued;
}

void WriteQueue::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(req);
  WriteQueue* self = w->queue;
  delete w;
  self->written_(self->owner_, status);
}

uint64_t WriteQueue::pending() const {
  uint64_t pending = queued();
  uv_os_fd_t fd;
  int unacked = 0;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp_), &fd) == 0 && ioctl(fd, SIOCOUTQ, &unacked) == 0 &&
      unacked > 0) {
    pending += static_cast<uint64_t>(unacked);
  }
  return pending;
}

uint64_t WriteQueue::delivered() const {
  const uint64_t pending_now = pending();
  return handed_total_ > pending_now ? handed_total_ - pending_now : 0;
}

}  // namespace aigw::net
