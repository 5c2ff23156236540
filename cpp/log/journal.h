// A worker's append-only journal of request records: the durable hand-off between the loop
// thread (which never waits on Python) and the log thread (which feeds the sinks). One
// write(2) per record, before the response's last byte is handed to the socket, so a record is
// on disk (in the page cache, which outlives the process) by the time the client has its answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "log/log_settings.h"

namespace aigw::log {

// Shared by every worker of a gateway; read by stats(), `consumed_bytes` set by the log thread.
struct LogCounters {
  std::atomic<uint64_t> records{0};        // records written to a journal
  std::atomic<uint64_t> bytes{0};          // journal bytes written by this run
  std::atomic<uint64_t> consumed_bytes{0}; // of those, consumed by every sink (set by Python)
  std::atomic<uint64_t> spilled{0};        // records written while over max_pending_bytes (spill mode)
  std::atomic<uint64_t> backpressure_refusals{0};  // requests refused with 503 (backpressure mode)
  std::atomic<uint64_t> dropped{0};        // records that could not be written (I/O error)
  std::atomic<uint64_t> journal_files{0};

  uint64_t pending() const {
    const uint64_t w = bytes.load(std::memory_order_relaxed);
    const uint64_t c = consumed_bytes.load(std::memory_order_relaxed);
    return w > c ? w - c : 0;
  }
};

// The in-memory hand-off of record lines from every worker to the log thread (LogSettings::
// memory): one append under a mutex per record instead of a write(2).
class RecordHandoff {
 public:
  void append(std::string_view line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.append(line);
  }
  // Every line appended so far (whole lines, in order per worker); the log thread's call.
  std::string take() {
    std::string out;
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(lines_);
    return out;
  }

 private:
  std::mutex mu_;
  std::string lines_;
};

class Journal {
 public:
  // `handoff`: where records go while under the pending bound (null: always the files).
  Journal(const LogSettings& settings, uint32_t worker, LogCounters& counters, RecordHandoff* handoff = nullptr);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record line (ending in '\n'): to the hand-off when there is one and the
  // pending bytes stay under the bound, else to the journal file, rotated past rotate_bytes.
  // On an I/O error the record is counted as dropped and reported on stderr.
  void append(std::string_view line);

  static std::string fileName(const std::string& run, uint32_t worker, uint32_t seq);

 private:
  bool openNext();

  const LogSettings& settings_;
  uint32_t worker_;
  LogCounters& counters_;
  RecordHandoff* handoff_;
  int fd_ = -1;
  uint32_t seq_ = 0;
  uint64_t file_bytes_ = 0;
  std::string path_;
  uint64_t last_error_report_ns_ = 0;
};

}  // namespace aigw::log
