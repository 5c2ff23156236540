#include "loadgen/report.h"

#include <string>

namespace aigw::bench {

namespace {

const char* modeName(LoadMode mode) {
  switch (mode) {
    case LoadMode::kOpenLoop:
      return "open";
    case LoadMode::kClosedLoop:
      return "closed";
    case LoadMode::kFixedCount:
      return "count";
  }
  return "?";
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void writeHistogram(std::FILE* out, const LatencyHistogram& h) {
  std::fprintf(out,
               "{\"count\":%llu,\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
               "\"p99.9\":%.3f,\"max\":%.3f}",
               static_cast<unsigned long long>(h.count()), us(h.min()), h.mean() / 1000.0, us(h.percentile(50)),
               us(h.percentile(90)), us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
}

uint64_t totalErrors(const TargetStats& ts) {
  uint64_t n = 0;
  for (uint64_t e : ts.errors) n += e;
  return n;
}

}  // namespace

void writeJsonReport(std::FILE* out, const Options& o, const LoadDriver& driver) {
  const double secs = driver.measuredSeconds();
  std::fprintf(out, "{\"mode\":\"%s\",\"rate\":%.3f,\"concurrency\":%d,\"connections\":%d,", modeName(o.mode), o.rate,
               o.concurrency, o.mode == LoadMode::kOpenLoop ? o.connections : o.concurrency);
  std::fprintf(out, "\"duration_s\":%.6f,\"reconnects\":%llu,\"send_lag_us\":", secs,
               static_cast<unsigned long long>(driver.reconnects()));
  writeHistogram(out, driver.sendLag());
  std::fprintf(out, ",\"targets\":[");
  const auto& stats = driver.stats();
  for (size_t t = 0; t < stats.size(); ++t) {
    const TargetStats& ts = stats[t];
    if (t > 0) std::fputc(',', out);
    std::fprintf(out, "{\"url\":%s,\"sent\":%llu,\"measured\":%llu,\"ok\":%llu,\"rps\":%.3f,\"unfinished\":%llu,",
                 jsonString(o.targets[t].url).c_str(), static_cast<unsigned long long>(ts.sent),
                 static_cast<unsigned long long>(ts.measured), static_cast<unsigned long long>(ts.ok),
                 secs > 0 ? static_cast<double>(ts.ok) / secs : 0.0, static_cast<unsigned long long>(ts.unfinished));
    std::fprintf(out, "\"errors\":{");
    for (int k = 0; k < kErrorKinds; ++k) {
      std::fprintf(out, "%s\"%s\":%llu", k > 0 ? "," : "", errorKindName(k),
                   static_cast<unsigned long long>(ts.errors[k]));
    }
    std::fprintf(out, "},\"errors_total\":%llu,\"last_bad_status\":%llu,\"latency_us\":",
                 static_cast<unsigned long long>(totalErrors(ts)), static_cast<unsigned long long>(ts.last_bad_status));
    writeHistogram(out, ts.latency);
    if (o.sse) {
      std::fprintf(out,
                   ",\"sse\":{\"expected_events\":%d,\"streams_ok\":%llu,\"events\":%llu,\"lost\":%llu,"
                   "\"malformed\":%llu,\"ttfe_us\":",
                   o.sse_events, static_cast<unsigned long long>(ts.streams_ok),
                   static_cast<unsigned long long>(ts.events), static_cast<unsigned long long>(ts.lost),
                   static_cast<unsigned long long>(ts.malformed));
      writeHistogram(out, ts.ttfe);
      std::fprintf(out, ",\"gap_us\":");
      writeHistogram(out, ts.gap);
      std::fputc('}', out);
    }
    std::fputc('}', out);
  }
  std::fprintf(out, "]}\n");
}

void writeTextReport(std::FILE* out, const Options& o, const LoadDriver& driver) {
  const double secs = driver.measuredSeconds();
  std::fprintf(out, "mode %s, %.2f s measured", modeName(o.mode), secs);
  if (o.mode == LoadMode::kOpenLoop) std::fprintf(out, ", target rate %.0f/s", o.rate);
  std::fprintf(out, ", send lag p99 %.1f us\n", us(driver.sendLag().percentile(99)));
  const auto& stats = driver.stats();
  for (size_t t = 0; t < stats.size(); ++t) {
    const TargetStats& ts = stats[t];
    const LatencyHistogram& h = ts.latency;
    std::fprintf(out, "%s\n  ok %llu (%.0f/s), unfinished %llu, errors:", o.targets[t].url.c_str(),
                 static_cast<unsigned long long>(ts.ok), secs > 0 ? static_cast<double>(ts.ok) / secs : 0.0,
                 static_cast<unsigned long long>(ts.unfinished));
    for (int k = 0; k < kErrorKinds; ++k) {
      std::fprintf(out, " %s=%llu", errorKindName(k), static_cast<unsigned long long>(ts.errors[k]));
    }
    if (ts.last_bad_status != 0) std::fprintf(out, " (last status %llu)", static_cast<unsigned long long>(ts.last_bad_status));
    std::fprintf(out, "\n  latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", us(h.percentile(50)),
                 us(h.percentile(90)), us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
    if (o.sse) {
      std::fprintf(out, "  sse: streams ok %llu, events %llu, lost %llu, malformed %llu\n",
                   static_cast<unsigned long long>(ts.streams_ok), static_cast<unsigned long long>(ts.events),
                   static_cast<unsigned long long>(ts.lost), static_cast<unsigned long long>(ts.malformed));
      std::fprintf(out, "  first event us: p50 %.1f  p99 %.1f   gap us: p50 %.1f  p99 %.1f  max %.1f\n",
                   us(ts.ttfe.percentile(50)), us(ts.ttfe.percentile(99)), us(ts.gap.percentile(50)),
                   us(ts.gap.percentile(99)), us(ts.gap.max()));
    }
  }
}

}  // namespace aigw::bench
