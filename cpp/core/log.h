// Minimal leveled logging to stderr for the data plane.
// One line per call, written with a single write(2) so lines from worker threads never interleave.
#pragma once

#include <atomic>
#include <string_view>

namespace aigw {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3, Off = 4 };

LogLevel parseLogLevel(std::string_view name);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);
void logLine(LogLevel level, std::string_view message);

}  // namespace aigw

#define AIGW_LOG(level, msg)                                   \
  do {                                                         \
    if (::aigw::logEnabled(::aigw::LogLevel::level)) {         \
      ::aigw::logLine(::aigw::LogLevel::level, (msg));         \
    }                                                          \
  } while (0)
