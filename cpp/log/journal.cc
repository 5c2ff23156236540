#include "log/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>

#include "core/clock.h"
#include "core/log.h"

namespace aigw::log {

Journal::Journal(const LogSettings& settings, uint32_t worker, LogCounters& counters, RecordHandoff* handoff)
    : settings_(settings), worker_(worker), counters_(counters), handoff_(handoff) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Journal::fileName(const std::string& run, uint32_t worker, uint32_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "-w%03u-%06u.jsonl", worker, seq);
  return run + buf;
}

bool Journal::openNext() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // O_EXCL: a run's files are never reopened (a file left by someone else is skipped).
  int fd = -1;
  for (int tries = 0; tries < 100 && fd < 0; ++tries) {
    path_ = settings_.dir + "/" + fileName(settings_.run, worker_, seq_);
    fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return false;
    ++seq_;
  }
  if (fd < 0) return false;
  fd_ = fd;
  file_bytes_ = 0;
  counters_.journal_files.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Journal::append(std::string_view line) {
  if (handoff_ != nullptr && counters_.pending() + line.size() <= settings_.max_pending_bytes) {
    handoff_->append(line);
    counters_.records.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes.fetch_add(line.size(), std::memory_order_relaxed);
    return;
  }
  if (fd_ < 0 || file_bytes_ >= settings_.rotate_bytes) {
    if (!openNext()) {
      const int err = errno;
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      const uint64_t now = monotonicNs();
      if (now - last_error_report_ns_ > 1000000000ull) {
        last_error_report_ns_ = now;
        AIGW_LOG(Error, "request log: cannot open journal " + path_ + ": " + strerror(err) + " (record dropped)");
      }
      return;
    }
  }
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      const uint64_t now = monotonicNs();
      if (now - last_error_report_ns_ > 1000000000ull) {
        last_error_report_ns_ = now;
        AIGW_LOG(Error, "request log: cannot write journal " + path_ + ": " + strerror(err) + " (record dropped)");
      }
      // A torn line must not glue itself to the next record: the next append starts a new file.
      if (left != line.size()) file_bytes_ = settings_.rotate_bytes;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  file_bytes_ += line.size();
  counters_.records.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes.fetch_add(line.size(), std::memory_order_relaxed);
  if (counters_.pending() > settings_.max_pending_bytes) counters_.spilled.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace aigw::log
