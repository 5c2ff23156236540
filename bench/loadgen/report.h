// What the load generator prints at the end: one JSON document (for bench/run) or a short
// human-readable summary. Latencies are reported in microseconds.
#pragma once

#include <cstdio>

#include "loadgen/load_driver.h"
#include "loadgen/options.h"

namespace aigw::bench {

void writeJsonReport(std::FILE* out, const Options& options, const LoadDriver& driver);
void writeTextReport(std::FILE* out, const Options& options, const LoadDriver& driver);

}  // namespace aigw::bench
