#include "net/read_buffer.h"

namespace aigw::net {
namespace {

thread_local char t_read_buffer[64 * 1024];

}  // namespace

void threadReadBuffer(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = sizeof(t_read_buffer);
}

}  // namespace aigw::net
