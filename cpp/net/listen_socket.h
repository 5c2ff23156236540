// Listening sockets for the workers: one per worker, all bound to the same address with
// SO_REUSEPORT so the kernel spreads connections across worker loops without a shared accept.
#pragma once

#include <string>
#include <vector>

namespace aigw::net {

// Binds `count` sockets to host:port (port 0: the first picks a free port, the rest join it).
// A fixed port already in use by anyone (even another SO_REUSEPORT group) is an error, so two
// gateways never silently share a port. Returns the bound port, or -1 with `error` set.
int bindReusePortGroup(const std::string& host, int port, int count, std::vector<int>* fds, std::string* error);

}  // namespace aigw::net
