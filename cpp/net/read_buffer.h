// The buffer every socket read on a loop thread lands in: libuv asks for one before each read
// and the read callback handles the bytes before the next, so one per thread serves them all.
#pragma once

#include <uv.h>

namespace aigw::net {

// A uv_alloc_cb: this thread's 64 KiB read buffer. Whoever keeps bytes past its read callback copies them.
void threadReadBuffer(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);

}  // namespace aigw::net
